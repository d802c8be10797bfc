import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../helpers/config.js';
import { mapsDirections } from '../../../src/adapters/google_maps/directions.js';
import { mapsGeocode } from '../../../src/adapters/google_maps/geocode.js';
import { system } from '../../../src/adapters/google_maps/index.js';
import { mapsPlacesSearch } from '../../../src/adapters/google_maps/places.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';
import { startFakeMaps, type FakeMaps } from '../../fakes/google-maps.js';

const KEY = 'AIza-maps-test-key';
let fake: FakeMaps;

beforeEach(async () => {
  fake = await startFakeMaps({ apiKey: KEY });
  fake.state.geocode.push({
    address: '1600 Amphitheatre Parkway, Mountain View, CA',
    formatted_address: '1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA',
    lat: 37.4224764,
    lng: -122.0842499,
    place_id: 'ChIJ2eUgeAK6j4ARbn5u_wAGqWA',
  });
  fake.state.routes.push({
    origin: 'Mountain View, CA',
    destination: '37.7749,-122.4194',
    distanceMeters: 62_000,
    durationSeconds: 2_940,
    steps: [
      { instructions: 'Head north on Shoreline Blvd', maneuver: 'DEPART', distanceMeters: 800, seconds: 90 },
      { instructions: 'Merge onto US-101 N', maneuver: 'MERGE', distanceMeters: 58_000, seconds: 2_600 },
      { instructions: 'Arrive at destination', maneuver: 'STRAIGHT', distanceMeters: 3_200, seconds: 250 },
    ],
  });
  fake.state.places.push(
    { id: 'ChIJp1', name: 'Le Bistrot Vegan', address: '3 Rue de la Paix, Lyon', latitude: 45.76, longitude: 4.83, types: ['vegan_restaurant', 'restaurant'], rating: 4.6, userRatingCount: 320, openNow: true },
    { id: 'ChIJp2', name: 'Green Café', address: '9 Quai Saint-Antoine, Lyon', latitude: 45.762, longitude: 4.831, types: ['cafe'], rating: 4.1, userRatingCount: 80 },
  );
});
afterEach(() => fake.close());

function ctx(key = KEY) {
  return toolContext(testConfig({ GOOGLE_API_BASE_URL: fake.url, GOOGLE_API_KEY: key }));
}

describe('google_maps_geocode (Geocoding API, legacy status envelope)', () => {
  it('forward-geocodes an address with the key in key=', async () => {
    const out = await runTool(mapsGeocode, { address: '1600 Amphitheatre Parkway, Mountain View, CA', region: 'us' }, ctx());
    const req = fake.requests[0]!;
    const url = new URL(req.url, 'http://x');
    expect(req.method).toBe('GET');
    expect(url.pathname).toBe('/maps/api/geocode/json');
    expect(url.searchParams.get('address')).toBe('1600 Amphitheatre Parkway, Mountain View, CA');
    expect(url.searchParams.get('region')).toBe('us');
    expect(url.searchParams.get('key')).toBe(KEY);
    expect(out).toEqual({
      status: 'OK',
      results: [{ formatted_address: '1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA', lat: 37.4224764, lng: -122.0842499, location_type: 'ROOFTOP', place_id: 'ChIJ2eUgeAK6j4ARbn5u_wAGqWA', types: ['street_address'], partial_match: false }],
      truncated: false,
    });
  });

  it('reverse-geocodes latlng, and ZERO_RESULTS is an empty answer, not an error', async () => {
    const rev = await runTool(mapsGeocode, { latlng: { lat: 37.4225, lng: -122.0842 } }, ctx());
    expect(new URL(fake.requests[0]!.url, 'http://x').searchParams.get('latlng')).toBe('37.4225,-122.0842');
    expect((rev.results as { place_id: string }[])[0]!.place_id).toBe('ChIJ2eUgeAK6j4ARbn5u_wAGqWA');

    const none = await runTool(mapsGeocode, { address: 'nowhere at all 99999' }, ctx());
    expect(none).toEqual({ status: 'ZERO_RESULTS', results: [], truncated: false });
  });

  it('maps REQUEST_DENIED to auth_error and OVER_QUERY_LIMIT to upstream_error (both arrive as HTTP 200)', async () => {
    const denied = await failure(runTool(mapsGeocode, { address: 'x' }, ctx('AIza-wrong')));
    expect(denied.code).toBe('auth_error');
    expect(denied.details).toMatchObject({ upstream_code: 'REQUEST_DENIED', source: 'GOOGLE_API_KEY' });
    expect(denied.message).toContain('The provided API key is invalid.');

    fake.state.geocodeStatus = 'OVER_QUERY_LIMIT';
    const limited = await failure(runTool(mapsGeocode, { address: 'x' }, ctx()));
    expect(limited.code).toBe('upstream_error');
    expect(limited.details).toMatchObject({ upstream_code: 'OVER_QUERY_LIMIT', upstream_status: 429 });
  });

  it('requires exactly one of address and latlng', () => {
    expect(() => mapsGeocode.input.parse({})).toThrow(/exactly one/);
    expect(() => mapsGeocode.input.parse({ address: 'a', latlng: { lat: 1, lng: 2 } })).toThrow(/exactly one/);
  });
});

describe('google_maps_directions (Routes API computeRoutes)', () => {
  it('posts waypoints with X-Goog-Api-Key and a field mask, and shapes distance, duration and steps', async () => {
    const out = await runTool(mapsDirections, { origin: 'Mountain View, CA', destination: '37.7749,-122.4194', avoid_tolls: true, max_steps: 2 }, ctx());
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/directions/v2:computeRoutes');
    expect(req.headers['x-goog-api-key']).toBe(KEY);
    expect(req.headers.authorization).toBeUndefined();
    expect(String(req.headers['x-goog-fieldmask']).split(',')).toEqual(expect.arrayContaining(['routes.distanceMeters', 'routes.duration', 'routes.legs.steps.navigationInstruction']));
    expect(JSON.parse(req.body)).toEqual({
      origin: { address: 'Mountain View, CA' },
      destination: { location: { latLng: { latitude: 37.7749, longitude: -122.4194 } } },
      travelMode: 'DRIVE',
      routingPreference: 'TRAFFIC_UNAWARE',
      computeAlternativeRoutes: false,
      routeModifiers: { avoidTolls: true, avoidHighways: false, avoidFerries: false },
      units: 'METRIC',
    });
    expect(out).toEqual({
      routes: [
        {
          distance_meters: 62_000,
          duration_seconds: 2_940,
          distance_text: '62.0 km',
          duration_text: '49 mins',
          description: 'I-280 S',
          warnings: [],
          legs: [
            {
              distance_meters: 62_000,
              duration_seconds: 2_940,
              steps: [
                { instruction: 'Head north on Shoreline Blvd', maneuver: 'DEPART', distance_meters: 800, duration_seconds: 90, travel_mode: 'DRIVE' },
                { instruction: 'Merge onto US-101 N', maneuver: 'MERGE', distance_meters: 58_000, duration_seconds: 2_600, travel_mode: 'DRIVE' },
              ],
              steps_total: 3,
            },
          ],
        },
      ],
      found: true,
      steps_truncated: true,
    });
  });

  it('sends no routingPreference for walking, and an empty response means no route', async () => {
    const out = await runTool(mapsDirections, { origin: 'place_id:ChIJabc', destination: 'Paris', travel_mode: 'WALK' }, ctx());
    const body = JSON.parse(fake.requests[0]!.body);
    expect(body.origin).toEqual({ placeId: 'ChIJabc' });
    expect(body).not.toHaveProperty('routingPreference');
    expect(body).not.toHaveProperty('routeModifiers');
    expect(out).toEqual({ routes: [], found: false, steps_truncated: false });
  });

  it('maps a rejected key (400 API_KEY_INVALID) to auth_error', async () => {
    const err = await failure(runTool(mapsDirections, { origin: 'a', destination: 'b' }, ctx('AIza-wrong')));
    expect(err.code).toBe('auth_error');
    expect(err.details).toMatchObject({ upstream_status: 400, upstream_code: 'INVALID_ARGUMENT', source: 'GOOGLE_API_KEY' });
  });
});

describe('google_maps_places_search (Places API (New) searchText)', () => {
  it('posts textQuery with filters and a field mask, and shapes places', async () => {
    const out = await runTool(
      mapsPlacesSearch,
      { text_query: 'vegan restaurant Lyon', max_results: 5, location_bias: { lat: 45.76, lng: 4.83, radius_meters: 2000 }, min_rating: 4, language: 'fr' },
      ctx(),
    );
    const req = fake.requests[0]!;
    expect(req.url).toBe('/v1/places:searchText');
    expect(req.headers['x-goog-api-key']).toBe(KEY);
    const mask = String(req.headers['x-goog-fieldmask']).split(',');
    expect(mask).toEqual(expect.arrayContaining(['places.id', 'places.displayName', 'places.formattedAddress', 'places.location', 'nextPageToken']));
    expect(mask.some((m) => m.startsWith('places.reviews'))).toBe(false);
    expect(JSON.parse(req.body)).toEqual({
      textQuery: 'vegan restaurant Lyon',
      pageSize: 5,
      locationBias: { circle: { center: { latitude: 45.76, longitude: 4.83 }, radius: 2000 } },
      minRating: 4,
      languageCode: 'fr',
    });
    expect(out.next_page_token).toBeNull();
    expect(out.places).toEqual([
      {
        id: 'ChIJp1',
        name: 'Le Bistrot Vegan',
        address: '3 Rue de la Paix, Lyon',
        lat: 45.76,
        lng: 4.83,
        primary_type: 'vegan_restaurant',
        types: ['vegan_restaurant', 'restaurant'],
        rating: 4.6,
        user_rating_count: 320,
        price_level: 'PRICE_LEVEL_MODERATE',
        open_now: true,
        business_status: 'OPERATIONAL',
        google_maps_uri: 'https://maps.google.com/?cid=6',
        website: null,
      },
      expect.objectContaining({ id: 'ChIJp2', name: 'Green Café', open_now: false }),
    ]);
  });

  it('pages with next_page_token and answers an empty list for no match', async () => {
    const first = await runTool(mapsPlacesSearch, { text_query: 'Lyon', max_results: 1 }, ctx());
    expect(first.next_page_token).toBe('1');
    const second = await runTool(mapsPlacesSearch, { text_query: 'Lyon', max_results: 1, page_token: '1' }, ctx());
    expect((second.places as { id: string }[]).map((p) => p.id)).toEqual(['ChIJp2']);
    const none = await runTool(mapsPlacesSearch, { text_query: 'zzzz' }, ctx());
    expect(none).toEqual({ places: [], next_page_token: null });
  });

  it('maps Places error bodies: bad key → auth_error', async () => {
    const err = await failure(runTool(mapsPlacesSearch, { text_query: 'x' }, ctx('AIza-wrong')));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('API key not valid');
  });
});

describe('maps system', () => {
  it('lists three LOW read-only tools and needs GOOGLE_API_KEY', () => {
    expect(system.id).toBe('maps');
    expect(system.tools.map((t) => [t.name, t.level, t.annotations.readOnlyHint])).toEqual([
      ['google_maps_geocode', 'LOW', true],
      ['google_maps_directions', 'LOW', true],
      ['google_maps_places_search', 'LOW', true],
    ]);
    for (const tool of system.tools) {
      expect(tool.description.length).toBeLessThanOrEqual(300);
      for (const [field, schema] of Object.entries(tool.input.shape)) expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
    }
    expect(system.missingConfig(testConfig({ GOOGLE_OAUTH_TOKEN: 'ya29.x' }))).toBe('GOOGLE_API_KEY');
    expect(system.missingConfig(testConfig({ GOOGLE_API_KEY: KEY }))).toBeNull();
  });

  it('check() geocodes a fixed address; REQUEST_DENIED is failed', async () => {
    const config = testConfig({ GOOGLE_API_BASE_URL: fake.url, GOOGLE_API_KEY: KEY });
    const services = toolContext(config).services;
    expect(await system.check(config, services, AbortSignal.timeout(10_000))).toEqual({ state: 'connected', detail: 'GOOGLE_API_KEY accepted by the Geocoding API (OK)' });
    const bad = testConfig({ GOOGLE_API_BASE_URL: fake.url, GOOGLE_API_KEY: 'AIza-wrong' });
    const status = await system.check(bad, services, AbortSignal.timeout(10_000));
    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.reason).toContain('REQUEST_DENIED');
  });
});
