import { z } from 'zod';
import type { Config } from '../../config.js';
import { HubError } from '../../tools/errors.js';
import { CLOUD_PLATFORM_SCOPE, GOOGLE_CREDENTIAL_VARIABLES, googleCredentialSource } from '../google/credentials.js';

/** One scope for every AI/ML call: service-account tokens are cached per scope set, so sharing it means one token. */
const SCOPES = [CLOUD_PLATFORM_SCOPE];

/** The key-accepting APIs use OAuth when a credential source exists and fall back to GOOGLE_API_KEY otherwise. */
export const KEY_OR_OAUTH: { scopes: string[]; apiKeyFallback: true } = { scopes: SCOPES, apiKeyFallback: true };
export const OAUTH_ONLY: { scopes: string[] } = { scopes: SCOPES };

/** Vertex AI accepts no API keys: called before any Vertex request so a key-only setup gets a clear answer. */
export function requireOAuth(config: Config, what: string): void {
  if (googleCredentialSource(config) !== null) return;
  throw new HubError(
    'not_configured',
    `${what} needs OAuth credentials (Vertex AI does not accept API keys): set ${GOOGLE_CREDENTIAL_VARIABLES}`,
    { variable: GOOGLE_CREDENTIAL_VARIABLES },
  );
}

export function requireProject(config: Config, given: string | undefined, what: string): string {
  const project = given ?? config.google.project;
  if (project) return project;
  throw new HubError('not_configured', `${what} needs a Google Cloud project: set GOOGLE_CLOUD_PROJECT or pass project_id`, {
    variable: 'GOOGLE_CLOUD_PROJECT',
  });
}

/** Vertex AI's regional host; the multi-region "global" location has no region prefix. */
export function vertexHost(region: string): string {
  return region === 'global' ? 'aiplatform.googleapis.com' : `${region}-aiplatform.googleapis.com`;
}

export const projectIdField = z
  .string()
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id')
  .optional()
  .describe('Google Cloud project id; defaults to GOOGLE_CLOUD_PROJECT');

export const regionField = z
  .string()
  .regex(/^[a-z]+(-[a-z0-9]+)*$/, 'must be a region such as us-central1')
  .optional()
  .describe('Vertex AI region, e.g. us-central1 or europe-west4; defaults to GOOGLE_CLOUD_REGION');

export const languageCodeField = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP-47 language code such as en-US');

/** Model ids go into the URL path: letters, digits, dots and dashes only. */
// eslint-disable-next-line no-useless-escape -- the pattern is published in the tools' JSON Schema: its text stays stable
export const modelIdField = z.string().regex(/^[a-z0-9][a-z0-9.\-]{0,99}$/, 'must be a model id such as gemini-2.5-flash');

// ---- binary inputs (images, audio) ----

/** ≈ 10 MB of binary data once decoded; the hub's BODY_LIMIT_BYTES may cap requests lower. */
export const MAX_MEDIA_CHARS = 14_000_000;

export type MediaRef = { kind: 'base64'; data: string } | { kind: 'gcs'; uri: string } | { kind: 'https'; uri: string };

const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+;base64,/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Classifies a media argument; null when it is neither base64 (optionally a data: URL), gs:// nor https://. */
export function parseMediaRef(value: string): MediaRef | null {
  const v = value.trim();
  if (v.startsWith('gs://')) return /^gs:\/\/[a-z0-9._-]{3,222}\/.+/.test(v) ? { kind: 'gcs', uri: v } : null;
  if (v.startsWith('https://')) return URL.canParse(v) ? { kind: 'https', uri: v } : null;
  const data = v.replace(DATA_URL, '').replace(/\s+/g, '');
  // Standard base64 is what the APIs take; URL-safe input is converted so either alphabet works.
  if (data.length === 0 || !BASE64.test(data)) return null;
  return { kind: 'base64', data: data.replace(/-/g, '+').replace(/_/g, '/') };
}

export function mediaField(what: 'image' | 'audio', allowHttps: boolean) {
  const forms = allowHttps ? 'base64 bytes (or a data: URL), a gs://bucket/object URI or a public https:// URL' : 'base64 bytes (or a data: URL) or a gs://bucket/object URI';
  return z
    .string()
    .min(1)
    .max(MAX_MEDIA_CHARS)
    .refine((v) => {
      const ref = parseMediaRef(v);
      return ref !== null && (allowHttps || ref.kind !== 'https');
    }, `must be ${forms}`)
    .describe(`The ${what}: ${forms}${allowHttps ? '' : ' (https:// URLs are not fetched: upload the file to Cloud Storage)'}`);
}

/** Parses a media argument already checked by mediaField. */
export function mediaRef(value: string): MediaRef {
  const ref = parseMediaRef(value);
  if (!ref) throw new HubError('invalid_arguments', 'media must be base64 data, a gs:// URI or an https:// URL');
  return ref;
}

/**
 * Several AI APIs answer HTTP 200 with a per-item `{code, message}` status (google.rpc.Status) instead of an HTTP
 * error: surface it as the upstream error it is.
 */
export function perItemError(api: string, status: { code?: number; message?: string } | undefined): HubError | null {
  if (!status || (!status.code && !status.message)) return null;
  const message = status.message ?? 'unknown error';
  return new HubError('upstream_error', `${api}: ${message}`, {
    upstream_status: 200,
    upstream_code: status.code ?? null,
    upstream_message: message,
  });
}

/** Serialised JSON size, used to keep free-form results (predictions) under the GPT Actions body limit. */
export function jsonChars(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}
