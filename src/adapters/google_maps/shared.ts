import { HubError } from '../../tools/errors.js';

export const MAPS_HOST = 'maps.googleapis.com';
export const ROUTES_HOST = 'routes.googleapis.com';
export const PLACES_HOST = 'places.googleapis.com';

export const MAPS_ANNOTATIONS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

/** Status values of the classic Maps web services, which answer HTTP 200 with `{status, error_message}`. */
export type LegacyStatus = 'OK' | 'ZERO_RESULTS' | 'REQUEST_DENIED' | 'OVER_QUERY_LIMIT' | 'OVER_DAILY_LIMIT' | 'INVALID_REQUEST' | 'UNKNOWN_ERROR' | string;

/**
 * Turns a classic web-service status into the hub's error codes. OK and ZERO_RESULTS are answers (the latter an
 * empty one); REQUEST_DENIED means the key was refused or the API is not enabled for its project.
 */
export function legacyStatusError(api: string, status: LegacyStatus | undefined, message: string | undefined): HubError | null {
  if (status === 'OK' || status === 'ZERO_RESULTS') return null;
  const text = message ? `${status}: ${message}` : `${status ?? 'no status'}`;
  const details = { upstream_code: status ?? 'UNKNOWN_ERROR', ...(message ? { upstream_message: message } : {}) };
  switch (status) {
    case 'REQUEST_DENIED':
      return new HubError('auth_error', `${api} refused GOOGLE_API_KEY: ${text}`, { ...details, source: 'GOOGLE_API_KEY', upstream_status: 403 });
    case 'OVER_QUERY_LIMIT':
    case 'OVER_DAILY_LIMIT':
      return new HubError('upstream_error', `${api} quota exceeded: ${text}`, { ...details, upstream_status: 429 });
    case 'INVALID_REQUEST':
      return new HubError('upstream_error', `${api} rejected the request: ${text}`, { ...details, upstream_status: 400 });
    default:
      return new HubError('upstream_error', `${api} failed: ${text}`, { ...details, upstream_status: 500 });
  }
}

/** "lat,lng" → coordinates; anything else is not a coordinate pair. */
export function parseLatLng(value: string): { latitude: number; longitude: number } | null {
  const m = /^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$/.exec(value);
  if (!m) return null;
  const latitude = Number(m[1]);
  const longitude = Number(m[2]);
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  return { latitude, longitude };
}

/** "1234s" (protobuf Duration as JSON) → seconds. */
export function durationSeconds(value: string | undefined): number | null {
  if (!value) return null;
  const n = Number.parseFloat(value.replace(/s$/, ''));
  return Number.isFinite(n) ? n : null;
}

