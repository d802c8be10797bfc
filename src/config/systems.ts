import path from 'node:path';
import { z } from 'zod';
import { baseUrl, bool, csv, fail, jsonText, positiveInt, type Vars } from './fields.js';

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** DOCKER_BUILD_REMOTE_HOSTS: host names, lower-cased, without a trailing dot. */
const hostNames = z.string().transform((v, ctx) => {
  const hosts = csv(v).map((h) => h.toLowerCase().replace(/\.$/, ''));
  const bad = hosts.find((h) => !HOST_NAME.test(h));
  return bad === undefined ? hosts : fail(ctx, `"${bad}" is not a host name (comma-separated names such as github.com,gitlab.com)`);
});

/** The credentials and endpoints of the built-in systems' APIs. */
export const systemVars = {
  GOOGLE_OAUTH_TOKEN: z.string().optional(),
  GOOGLE_SERVICE_ACCOUNT_JSON: z.string().optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  GOOGLE_CLOUD_REGION: z.string().default('us-central1'),
  GOOGLE_API_KEY: z.string().optional(),
  GOOGLE_API_BASE_URL: baseUrl.optional(),
  K_SERVICE: z.string().optional(),
  GCE_METADATA_HOST: z.string().regex(/^[\w.-]+(:\d+)?$/, 'must be host or host:port').optional(),
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_API_URL: baseUrl.default('https://api.github.com'),
  DOCKER_HOST: z.string().optional(),
  DOCKER_BUILD_ROOT: z.string().optional(),
  DOCKER_BUILD_REMOTE_HOSTS: hostNames.optional(),
  DOCKER_TLS_VERIFY: bool.optional(),
  DOCKER_CERT_PATH: z.string().optional(),
  DOCKER_REGISTRY_AUTH: jsonText(z.record(z.string(), z.string()), 'DOCKER_REGISTRY_AUTH').optional(),
  CHATGPT_MCP_ENDPOINT: baseUrl.optional(),
  CHATGPT_MCP_TOKEN: z.string().optional(),
  CHATGPT_TIMEOUT_MS: positiveInt.default(30_000),
  CALLBACK_MAX_BYTES: z.coerce.number().int().min(1_024).default(256 * 1024),
};

export function systemConfig(e: Vars<typeof systemVars> & { DATA_DIR: string }) {
  return {
    google: {
      oauthToken: e.GOOGLE_OAUTH_TOKEN,
      serviceAccountJson: e.GOOGLE_SERVICE_ACCOUNT_JSON,
      applicationCredentials: e.GOOGLE_APPLICATION_CREDENTIALS,
      project: e.GOOGLE_CLOUD_PROJECT,
      region: e.GOOGLE_CLOUD_REGION,
      apiKey: e.GOOGLE_API_KEY,
      apiBaseUrl: e.GOOGLE_API_BASE_URL,
      /** Set on Cloud Run: the metadata server may be asked for ADC tokens. */
      onGoogleCloud: e.K_SERVICE !== undefined,
      /** GCE_METADATA_HOST: metadata server host[:port] for ADC (default metadata.google.internal), as Google's libraries read it. */
      metadataHost: e.GCE_METADATA_HOST,
    },
    github: { token: e.GITHUB_TOKEN, apiUrl: e.GITHUB_API_URL },
    docker: {
      host: e.DOCKER_HOST,
      buildRoot: path.resolve(e.DOCKER_BUILD_ROOT ?? path.join(e.DATA_DIR, 'build')),
      registryAuth: e.DOCKER_REGISTRY_AUTH,
      tlsVerify: e.DOCKER_TLS_VERIFY,
      certPath: e.DOCKER_CERT_PATH,
      /** DOCKER_BUILD_REMOTE_HOSTS: when set, the only host names docker_build.remote may name. */
      remoteHosts: e.DOCKER_BUILD_REMOTE_HOSTS,
    },
    chatgpt: { endpoint: e.CHATGPT_MCP_ENDPOINT, token: e.CHATGPT_MCP_TOKEN, timeoutMs: e.CHATGPT_TIMEOUT_MS },
    /** Bound on what one Auto Builder callback stores (its JSON, in bytes). */
    callbackMaxBytes: e.CALLBACK_MAX_BYTES,
  };
}
