import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { MAPS_ANNOTATIONS, ROUTES_HOST, durationSeconds, parseLatLng } from './shared.js';

/**
 * Routes API computeRoutes rather than the Directions API: Google lists Directions as Legacy (it cannot be enabled on
 * new projects since March 2025), and Routes bills and returns only the fields named in X-Goog-FieldMask.
 */
const FIELD_MASK = [
  'routes.distanceMeters',
  'routes.duration',
  'routes.staticDuration',
  'routes.description',
  'routes.warnings',
  'routes.localizedValues',
  'routes.legs.distanceMeters',
  'routes.legs.duration',
  'routes.legs.steps.distanceMeters',
  'routes.legs.steps.staticDuration',
  'routes.legs.steps.navigationInstruction',
  'routes.legs.steps.travelMode',
].join(',');

interface Localized {
  text?: string;
}
interface RouteStep {
  distanceMeters?: number;
  staticDuration?: string;
  navigationInstruction?: { maneuver?: string; instructions?: string };
  travelMode?: string;
}
interface RouteLeg {
  distanceMeters?: number;
  duration?: string;
  steps?: RouteStep[];
}
interface Route {
  distanceMeters?: number;
  duration?: string;
  staticDuration?: string;
  description?: string;
  warnings?: string[];
  localizedValues?: { distance?: Localized; duration?: Localized; staticDuration?: Localized };
  legs?: RouteLeg[];
}

type Waypoint = { location: { latLng: { latitude: number; longitude: number } } } | { placeId: string } | { address: string };

/** "lat,lng", "place_id:ChIJ..." or a free-text address, as the Routes API Waypoint takes them. */
export function toWaypoint(value: string): Waypoint {
  const latLng = parseLatLng(value);
  if (latLng) return { location: { latLng } };
  if (value.startsWith('place_id:')) return { placeId: value.slice('place_id:'.length) };
  return { address: value };
}

const place = (which: string) => z.string().min(1).max(500).describe(`${which}: an address, "lat,lng" (e.g. "48.8584,2.2945") or "place_id:<id>"`);

export const mapsDirections = defineTool({
  name: 'google_maps_directions',
  system: 'maps',
  title: 'Directions between places',
  description:
    'Compute a route between an origin and a destination (optional stops) by car, on foot, by bicycle, two-wheeler or transit with the Routes API. Returns distance, duration, and a step-by-step summary per leg.',
  level: 'LOW',
  input: z.object({
    origin: place('Start'),
    destination: place('End'),
    waypoints: z.array(place('Stop')).max(10).optional().describe('Intermediate stops, visited in order (≤ 10)'),
    travel_mode: z.enum(['DRIVE', 'WALK', 'BICYCLE', 'TWO_WHEELER', 'TRANSIT']).default('DRIVE').describe('How to travel'),
    traffic_aware: z.boolean().default(false).describe('DRIVE/TWO_WHEELER only: use live traffic for the duration (costs more)'),
    departure_time: z.iso.datetime({ offset: true }).optional().describe('Departure time, RFC 3339 (e.g. 2025-06-01T08:00:00Z); default now'),
    avoid_tolls: z.boolean().default(false).describe('Avoid toll roads'),
    avoid_highways: z.boolean().default(false).describe('Avoid highways'),
    avoid_ferries: z.boolean().default(false).describe('Avoid ferries'),
    alternatives: z.boolean().default(false).describe('Also return alternative routes (no stops allowed)'),
    units: z.enum(['METRIC', 'IMPERIAL']).default('METRIC').describe('Units of the text distances'),
    language: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/).optional().describe('Language of instructions, e.g. en, fr'),
    max_steps: z.number().int().min(0).max(200).default(40).describe('Steps listed per leg (0 = totals only)'),
  }),
  output: z.object({
    routes: z.array(
      z.object({
        distance_meters: z.number().nullable(),
        duration_seconds: z.number().nullable(),
        distance_text: z.string().nullable(),
        duration_text: z.string().nullable(),
        description: z.string().nullable(),
        warnings: z.array(z.string()),
        legs: z.array(
          z.object({
            distance_meters: z.number().nullable(),
            duration_seconds: z.number().nullable(),
            steps: z.array(z.object({ instruction: z.string(), maneuver: z.string().nullable(), distance_meters: z.number().nullable(), duration_seconds: z.number().nullable(), travel_mode: z.string().nullable() })),
            steps_total: z.number(),
          }),
        ),
      }),
    ),
    found: z.boolean(),
    steps_truncated: z.boolean(),
  }),
  annotations: MAPS_ANNOTATIONS,
  async run(args, ctx) {
    const motor = args.travel_mode === 'DRIVE' || args.travel_mode === 'TWO_WHEELER';
    const body = {
      origin: toWaypoint(args.origin),
      destination: toWaypoint(args.destination),
      ...(args.waypoints?.length ? { intermediates: args.waypoints.map(toWaypoint) } : {}),
      travelMode: args.travel_mode,
      // routingPreference is rejected for modes other than DRIVE and TWO_WHEELER.
      ...(motor ? { routingPreference: args.traffic_aware ? 'TRAFFIC_AWARE' : 'TRAFFIC_UNAWARE' } : {}),
      ...(args.departure_time ? { departureTime: args.departure_time } : {}),
      computeAlternativeRoutes: args.alternatives,
      ...(motor ? { routeModifiers: { avoidTolls: args.avoid_tolls, avoidHighways: args.avoid_highways, avoidFerries: args.avoid_ferries } } : {}),
      units: args.units,
      ...(args.language ? { languageCode: args.language } : {}),
    };
    const res = await googleRequest<{ routes?: Route[] }>(ctx, {
      host: ROUTES_HOST,
      path: '/directions/v2:computeRoutes',
      method: 'POST',
      body,
      headers: { 'X-Goog-FieldMask': FIELD_MASK },
      auth: 'api_key',
      // computeRoutes reads only; repeating it is safe.
      idempotent: true,
    });
    let stepsTruncated = false;
    const routes = (res.routes ?? []).map((r) => ({
      distance_meters: r.distanceMeters ?? null,
      duration_seconds: durationSeconds(r.duration),
      distance_text: r.localizedValues?.distance?.text ?? null,
      duration_text: r.localizedValues?.duration?.text ?? null,
      description: r.description ?? null,
      warnings: r.warnings ?? [],
      legs: (r.legs ?? []).map((leg) => {
        const steps = leg.steps ?? [];
        if (steps.length > args.max_steps) stepsTruncated = true;
        return {
          distance_meters: leg.distanceMeters ?? null,
          duration_seconds: durationSeconds(leg.duration),
          steps: steps.slice(0, args.max_steps).map((s) => ({
            instruction: s.navigationInstruction?.instructions ?? '',
            maneuver: s.navigationInstruction?.maneuver ?? null,
            distance_meters: s.distanceMeters ?? null,
            duration_seconds: durationSeconds(s.staticDuration),
            travel_mode: s.travelMode ?? null,
          })),
          steps_total: steps.length,
        };
      }),
    }));
    // The API answers `{}` when no route exists between the places.
    return { routes, found: routes.length > 0, steps_truncated: stepsTruncated };
  },
});
