import { z } from 'zod';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { MAPS_ANNOTATIONS, MAPS_HOST, legacyStatusError, type LegacyStatus } from './shared.js';

interface GeocodeResult {
  formatted_address?: string;
  geometry?: { location?: { lat?: number; lng?: number }; location_type?: string };
  place_id?: string;
  types?: string[];
  partial_match?: boolean;
}
export interface GeocodeResponse {
  status?: LegacyStatus;
  error_message?: string;
  results?: GeocodeResult[];
}

/**
 * One Geocoding API call. The key goes in `key=` as the Geocoding documentation shows (googleRequest also sends it
 * as X-Goog-Api-Key); errors arrive as HTTP 200 with a status field, mapped by legacyStatusError.
 */
export async function geocodeRequest(ctx: ToolContext, query: Record<string, string | undefined>): Promise<GeocodeResponse> {
  const res = await googleRequest<GeocodeResponse>(ctx, {
    host: MAPS_HOST,
    path: '/maps/api/geocode/json',
    query: { ...query, key: ctx.config.google.apiKey },
    auth: 'api_key',
  });
  const err = legacyStatusError('Geocoding API', res.status, res.error_message);
  if (err) throw err;
  return res;
}

/** The tool's result from a Geocoding answer: at most `max` results, flattened (the bench's comparison servers use it too). */
export function geocodeSummary(res: GeocodeResponse, max: number) {
  const all = res.results ?? [];
  return {
    status: res.status === 'OK' && all.length ? 'OK' : 'ZERO_RESULTS',
    results: all.slice(0, max).map((r) => ({
      formatted_address: r.formatted_address ?? '',
      lat: r.geometry?.location?.lat ?? null,
      lng: r.geometry?.location?.lng ?? null,
      location_type: r.geometry?.location_type ?? null,
      place_id: r.place_id ?? null,
      types: r.types ?? [],
      partial_match: r.partial_match ?? false,
    })),
    truncated: all.length > max,
  };
}

export const mapsGeocode = defineTool({
  name: 'google_maps_geocode',
  system: 'maps',
  title: 'Geocode an address or coordinates',
  description:
    'Convert an address or place name into coordinates (forward geocoding), or coordinates into addresses (reverse, with latlng). Returns formatted addresses, lat/lng, place ids and precision. No match gives an empty list.',
  level: 'LOW',
  input: z
    .object({
      address: z.string().min(1).max(500).optional().describe('Address or place to look up, e.g. "1600 Amphitheatre Parkway, Mountain View, CA"'),
      latlng: z
        .object({
          lat: z.number().min(-90).max(90).describe('Latitude in degrees'),
          lng: z.number().min(-180).max(180).describe('Longitude in degrees'),
        })
        .optional()
        .describe('Coordinates to reverse-geocode (instead of address)'),
      language: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/).optional().describe('Language of the results, e.g. en, fr, ja'),
      region: z.string().regex(/^[a-zA-Z]{2}$/).optional().describe('Region bias as a two-letter ccTLD, e.g. us, uk, de'),
      max_results: z.number().int().min(1).max(20).default(5).describe('Results to return (1-20)'),
    })
    .refine((a) => (a.address === undefined) !== (a.latlng === undefined), { message: 'give exactly one of address or latlng', path: ['address'] }),
  output: z.object({
    status: z.enum(['OK', 'ZERO_RESULTS']),
    results: z.array(
      z.object({
        formatted_address: z.string(),
        lat: z.number().nullable(),
        lng: z.number().nullable(),
        location_type: z.string().nullable(),
        place_id: z.string().nullable(),
        types: z.array(z.string()),
        partial_match: z.boolean(),
      }),
    ),
    truncated: z.boolean(),
  }),
  annotations: MAPS_ANNOTATIONS,
  async run(args, ctx) {
    const res = await geocodeRequest(ctx, {
      address: args.address,
      latlng: args.latlng ? `${args.latlng.lat},${args.latlng.lng}` : undefined,
      language: args.language,
      region: args.region,
    });
    return geocodeSummary(res, args.max_results);
  },
});
