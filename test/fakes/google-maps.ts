import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';

/**
 * One local origin for three Google Maps Platform web services, in their documented wire formats:
 * - Geocoding API `GET /maps/api/geocode/json` (key in `key=`): HTTP 200 `{status, results, error_message}`, errors
 *   as status values (REQUEST_DENIED, OVER_QUERY_LIMIT, INVALID_REQUEST, ZERO_RESULTS).
 * - Routes API `POST /directions/v2:computeRoutes` and Places API (New) `POST /v1/places:searchText`
 *   (key in X-Goog-Api-Key, required X-Goog-FieldMask; responses projected onto the mask; errors as
 *   `{"error": {code, message, status, details}}`, a bad key as 400 with ErrorInfo reason API_KEY_INVALID).
 */

export interface GeocodeEntry {
  address: string;
  formatted_address: string;
  lat: number;
  lng: number;
  place_id: string;
  types?: string[];
}

export interface FakeRoute {
  origin: string;
  destination: string;
  distanceMeters: number;
  durationSeconds: number;
  steps: { instructions: string; maneuver: string; distanceMeters: number; seconds: number }[];
}

export interface FakePlace {
  id: string;
  name: string;
  address: string;
  latitude: number;
  longitude: number;
  types: string[];
  rating?: number;
  userRatingCount?: number;
  openNow?: boolean;
}

export interface FakeMapsState {
  apiKey: string;
  geocode: GeocodeEntry[];
  routes: FakeRoute[];
  places: FakePlace[];
  /** When set, the Geocoding API answers this status (e.g. OVER_QUERY_LIMIT). */
  geocodeStatus?: string;
}

export interface FakeMaps extends FakeServer {
  state: FakeMapsState;
}

type Json = Record<string, unknown>;

/** Keeps only the paths named in a FieldMask ("routes.legs.steps.distanceMeters"), through arrays, as Google does. */
export function project(value: unknown, paths: string[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => project(v, paths));
  if (!value || typeof value !== 'object') return value;
  if (paths.some((p) => p.length === 0 || p[0] === '*')) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    const sub = paths.filter((p) => p[0] === k).map((p) => p.slice(1));
    if (sub.length) out[k] = project(v, sub);
  }
  return out;
}

function googleError(res: Parameters<typeof sendJson>[0], code: number, status: string, message: string, details: Json[] = []): void {
  sendJson(res, code, { error: { code, message, status, ...(details.length ? { details } : {}) } });
}

const keyInvalid = (service: string) => [
  { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service } },
];

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

export async function startFakeMaps(opts: { apiKey?: string } = {}): Promise<FakeMaps> {
  const state: FakeMapsState = { apiKey: opts.apiKey ?? 'AIza-test-key', geocode: [], routes: [], places: [] };

  const server = await startFakeServer((req, res) => {
    const url = new URL(req.url, 'http://fake');
    if (req.method === 'GET' && url.pathname === '/maps/api/geocode/json') {
      const q = url.searchParams;
      if (q.get('key') !== state.apiKey) return sendJson(res, 200, { error_message: 'The provided API key is invalid. ', results: [], status: 'REQUEST_DENIED' });
      if (state.geocodeStatus) return sendJson(res, 200, { error_message: 'You have exceeded your rate-limit for this API.', results: [], status: state.geocodeStatus });
      const address = q.get('address');
      const latlng = q.get('latlng');
      if (!address && !latlng) return sendJson(res, 200, { error_message: "Invalid request. Missing the 'address', 'components', 'latlng' or 'place_id' parameter.", results: [], status: 'INVALID_REQUEST' });
      let hits: GeocodeEntry[];
      if (address) {
        hits = state.geocode.filter((g) => norm(g.address) === norm(address) || norm(g.formatted_address).includes(norm(address)));
      } else {
        const [lat, lng] = latlng!.split(',').map(Number) as [number, number];
        hits = state.geocode.filter((g) => Math.abs(g.lat - lat) < 0.01 && Math.abs(g.lng - lng) < 0.01);
      }
      if (!hits.length) return sendJson(res, 200, { results: [], status: 'ZERO_RESULTS' });
      return sendJson(res, 200, {
        results: hits.map((g) => ({
          address_components: [],
          formatted_address: g.formatted_address,
          geometry: { location: { lat: g.lat, lng: g.lng }, location_type: 'ROOFTOP', viewport: { northeast: { lat: g.lat + 0.001, lng: g.lng + 0.001 }, southwest: { lat: g.lat - 0.001, lng: g.lng - 0.001 } } },
          place_id: g.place_id,
          plus_code: { compound_code: 'CWC8+W5', global_code: '849VCWC8+W5' },
          types: g.types ?? ['street_address'],
        })),
        status: 'OK',
      });
    }

    const isRoutes = req.method === 'POST' && url.pathname === '/directions/v2:computeRoutes';
    const isPlaces = req.method === 'POST' && url.pathname === '/v1/places:searchText';
    if (!isRoutes && !isPlaces) return googleError(res, 404, 'NOT_FOUND', `Method not found: ${req.method} ${url.pathname}`);
    const service = isRoutes ? 'routes.googleapis.com' : 'places.googleapis.com';
    if (req.headers['x-goog-api-key'] !== state.apiKey) return googleError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', keyInvalid(service));
    const mask = String(req.headers['x-goog-fieldmask'] ?? '');
    if (!mask) return googleError(res, 400, 'INVALID_ARGUMENT', 'FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how to provide it.');
    const paths = mask.split(',').map((p) => p.trim().split('.'));
    let body: Json;
    try {
      body = JSON.parse(req.body) as Json;
    } catch {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }

    if (isRoutes) {
      const label = (w: unknown): string => {
        const wp = (w ?? {}) as { address?: string; placeId?: string; location?: { latLng?: { latitude?: number; longitude?: number } } };
        if (wp.address) return wp.address;
        if (wp.placeId) return `place_id:${wp.placeId}`;
        if (wp.location?.latLng) return `${wp.location.latLng.latitude},${wp.location.latLng.longitude}`;
        return '';
      };
      const origin = label(body.origin);
      const destination = label(body.destination);
      if (!origin || !destination) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid request: origin and destination are required.');
      const mode = (body.travelMode as string | undefined) ?? 'DRIVE';
      if (body.routingPreference && mode !== 'DRIVE' && mode !== 'TWO_WHEELER') {
        return googleError(res, 400, 'INVALID_ARGUMENT', 'Routing preference cannot be set for non-DRIVE and non-TWO_WHEELER travel modes.');
      }
      const route = state.routes.find((r) => norm(r.origin) === norm(origin) && norm(r.destination) === norm(destination));
      // No route: an empty object, as the Routes API answers.
      if (!route) return sendJson(res, 200, {});
      const km = (m: number) => (body.units === 'IMPERIAL' ? `${(m / 1609.344).toFixed(1)} mi` : `${(m / 1000).toFixed(1)} km`);
      const full = {
        routes: [
          {
            legs: [
              {
                distanceMeters: route.distanceMeters,
                duration: `${route.durationSeconds}s`,
                staticDuration: `${route.durationSeconds}s`,
                polyline: { encodedPolyline: 'ipkcFfichVnP@j@BLoFVwM' },
                steps: route.steps.map((s) => ({
                  distanceMeters: s.distanceMeters,
                  staticDuration: `${s.seconds}s`,
                  polyline: { encodedPolyline: 'ipkcFfichVnP@' },
                  navigationInstruction: { maneuver: s.maneuver, instructions: s.instructions },
                  localizedValues: { distance: { text: km(s.distanceMeters) }, staticDuration: { text: `${Math.round(s.seconds / 60)} mins` } },
                  travelMode: mode,
                })),
              },
            ],
            distanceMeters: route.distanceMeters,
            duration: `${route.durationSeconds}s`,
            staticDuration: `${route.durationSeconds}s`,
            polyline: { encodedPolyline: 'ipkcFfichVnP@j@BLoFVwM' },
            description: 'I-280 S',
            warnings: mode === 'WALK' ? ['Walking directions are in beta. Use caution.'] : [],
            viewport: { low: { latitude: 0, longitude: 0 }, high: { latitude: 1, longitude: 1 } },
            localizedValues: { distance: { text: km(route.distanceMeters) }, duration: { text: `${Math.round(route.durationSeconds / 60)} mins` }, staticDuration: { text: `${Math.round(route.durationSeconds / 60)} mins` } },
          },
        ],
      };
      return sendJson(res, 200, project(full, paths));
    }

    const text = typeof body.textQuery === 'string' ? body.textQuery : '';
    if (!text) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid request: text_query is required.');
    const size = typeof body.pageSize === 'number' ? body.pageSize : 20;
    if (size < 1 || size > 20) return googleError(res, 400, 'INVALID_ARGUMENT', 'page_size must be between 1 and 20.');
    const terms = norm(text).split(' ');
    const hits = state.places.filter(
      (p) =>
        terms.some((t) => norm(`${p.name} ${p.address} ${p.types.join(' ')}`).includes(t)) &&
        (body.includedType === undefined || p.types.includes(String(body.includedType))) &&
        (body.minRating === undefined || (p.rating ?? 0) >= Number(body.minRating)) &&
        (body.openNow !== true || p.openNow === true),
    );
    if (!hits.length) return sendJson(res, 200, {});
    const offset = typeof body.pageToken === 'string' ? Number(body.pageToken) : 0;
    const page = hits.slice(offset, offset + size);
    const full = {
      places: page.map((p) => ({
        name: `places/${p.id}`,
        id: p.id,
        types: p.types,
        primaryType: p.types[0],
        nationalPhoneNumber: '01 23 45 67 89',
        formattedAddress: p.address,
        location: { latitude: p.latitude, longitude: p.longitude },
        rating: p.rating,
        userRatingCount: p.userRatingCount,
        googleMapsUri: `https://maps.google.com/?cid=${p.id.length}`,
        businessStatus: 'OPERATIONAL',
        priceLevel: 'PRICE_LEVEL_MODERATE',
        displayName: { text: p.name, languageCode: typeof body.languageCode === 'string' ? body.languageCode : 'en' },
        currentOpeningHours: { openNow: p.openNow ?? false, weekdayDescriptions: ['Monday: 9:00 AM – 5:00 PM'] },
        reviews: [{ text: { text: 'long review text' } }],
      })),
      ...(offset + size < hits.length ? { nextPageToken: String(offset + size) } : {}),
    };
    return sendJson(res, 200, project(full, paths));
  });
  return Object.assign(server, { state });
}
