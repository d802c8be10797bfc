import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { MAPS_ANNOTATIONS, PLACES_HOST } from './shared.js';

/**
 * Places API (New) Text Search: the legacy textsearch endpoint cannot be enabled on new projects since March 2025.
 * The mask names only what the tool returns: rating, opening hours and website bill the call at the Text Search
 * Enterprise SKU; Atmosphere fields (reviews, photos, summaries) are never requested.
 */
const FIELD_MASK = [
  'places.id',
  'places.displayName',
  'places.formattedAddress',
  'places.location',
  'places.types',
  'places.primaryType',
  'places.googleMapsUri',
  'places.websiteUri',
  'places.businessStatus',
  'places.rating',
  'places.userRatingCount',
  'places.priceLevel',
  'places.currentOpeningHours.openNow',
  'nextPageToken',
].join(',');

interface Place {
  id?: string;
  displayName?: { text?: string };
  formattedAddress?: string;
  location?: { latitude?: number; longitude?: number };
  types?: string[];
  primaryType?: string;
  googleMapsUri?: string;
  websiteUri?: string;
  businessStatus?: string;
  rating?: number;
  userRatingCount?: number;
  priceLevel?: string;
  currentOpeningHours?: { openNow?: boolean };
}

export const mapsPlacesSearch = defineTool({
  name: 'google_maps_places_search',
  system: 'maps',
  title: 'Search for places',
  description:
    'Find places by text (e.g. "vegan restaurants in Lyon", "pharmacy near Shibuya station") with the Places API (New): name, address, coordinates, rating, type, open-now and Maps link, optionally biased to a circle.',
  level: 'LOW',
  input: z.object({
    text_query: z.string().min(1).max(500).describe('What to search for, as typed in Google Maps'),
    max_results: z.number().int().min(1).max(20).default(10).describe('Places to return (1-20)'),
    location_bias: z
      .object({
        lat: z.number().min(-90).max(90).describe('Latitude of the circle center'),
        lng: z.number().min(-180).max(180).describe('Longitude of the circle center'),
        radius_meters: z.number().min(0).max(50_000).default(5000).describe('Circle radius in meters (≤ 50,000)'),
      })
      .optional()
      .describe('Prefer results inside this circle'),
    included_type: z.string().regex(/^[a-z_]+$/).max(64).optional().describe('Only places of this type, e.g. restaurant, cafe, pharmacy, lodging'),
    open_now: z.boolean().optional().describe('Only places open now'),
    min_rating: z.number().min(0).max(5).optional().describe('Only places rated at least this (0-5, in steps of 0.5)'),
    language: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/).optional().describe('Language of names and addresses, e.g. en, fr'),
    region: z.string().regex(/^[a-zA-Z]{2}$/).optional().describe('Region code (CLDR two letters) for formatting and bias, e.g. us, fr'),
    page_token: z.string().max(2000).optional().describe('next_page_token from a previous call (same other arguments)'),
  }),
  output: z.object({
    places: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        address: z.string().nullable(),
        lat: z.number().nullable(),
        lng: z.number().nullable(),
        primary_type: z.string().nullable(),
        types: z.array(z.string()),
        rating: z.number().nullable(),
        user_rating_count: z.number().nullable(),
        price_level: z.string().nullable(),
        open_now: z.boolean().nullable(),
        business_status: z.string().nullable(),
        google_maps_uri: z.string().nullable(),
        website: z.string().nullable(),
      }),
    ),
    next_page_token: z.string().nullable(),
  }),
  annotations: MAPS_ANNOTATIONS,
  async run(args, ctx) {
    const body = {
      textQuery: args.text_query,
      pageSize: args.max_results,
      ...(args.page_token ? { pageToken: args.page_token } : {}),
      ...(args.location_bias
        ? { locationBias: { circle: { center: { latitude: args.location_bias.lat, longitude: args.location_bias.lng }, radius: args.location_bias.radius_meters } } }
        : {}),
      ...(args.included_type ? { includedType: args.included_type } : {}),
      ...(args.open_now !== undefined ? { openNow: args.open_now } : {}),
      ...(args.min_rating !== undefined ? { minRating: args.min_rating } : {}),
      ...(args.language ? { languageCode: args.language } : {}),
      ...(args.region ? { regionCode: args.region } : {}),
    };
    const res = await googleRequest<{ places?: Place[]; nextPageToken?: string }>(ctx, {
      host: PLACES_HOST,
      path: '/v1/places:searchText',
      method: 'POST',
      body,
      headers: { 'X-Goog-FieldMask': FIELD_MASK },
      auth: 'api_key',
      idempotent: true,
    });
    // No match is `{}`: an empty list, not an error.
    const places = (res.places ?? []).slice(0, args.max_results).map((p) => ({
      id: p.id ?? '',
      name: p.displayName?.text ?? '',
      address: p.formattedAddress ?? null,
      lat: p.location?.latitude ?? null,
      lng: p.location?.longitude ?? null,
      primary_type: p.primaryType ?? null,
      types: p.types ?? [],
      rating: p.rating ?? null,
      user_rating_count: p.userRatingCount ?? null,
      price_level: p.priceLevel ?? null,
      open_now: p.currentOpeningHours?.openNow ?? null,
      business_status: p.businessStatus ?? null,
      google_maps_uri: p.googleMapsUri ?? null,
      website: p.websiteUri ?? null,
    }));
    return { places, next_page_token: res.nextPageToken ?? null };
  },
});
