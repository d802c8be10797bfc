import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';

/**
 * A local stand-in for Google's OAuth 2.0 token endpoint (https://oauth2.googleapis.com/token) for service-account
 * keys: the JWT-bearer grant of RFC 7523 as Google documents it
 * (developers.google.com/identity/protocols/oauth2/service-account#httprest). It verifies the RS256 assertion
 * against the public half of keys it minted, and answers `{access_token, expires_in, token_type}` or
 * `{error, error_description}` with HTTP 400.
 */

export interface FakeTokenGrant {
  iss: string;
  scope: string;
  aud: string;
  access_token: string;
}

export interface ServiceAccountKeyJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export interface FakeGoogleToken extends FakeServer {
  tokenUri: string;
  /** Tokens issued, in order. */
  grants: FakeTokenGrant[];
  /** Mints a new service-account key whose token_uri points here. */
  createKey(opts?: { email?: string; project?: string }): ServiceAccountKeyJson;
  /** Seconds until issued tokens expire (default 3600). */
  expiresIn: number;
  /** When set, every grant is refused with this OAuth error (e.g. "invalid_grant"). */
  refuseWith?: string;
  /** When set, the endpoint answers this HTTP status (e.g. 503) with an OAuth error body. */
  failStatus?: number;
  /** Tokens the fake issued and that have not expired: hand to the API fakes as their accepted bearer tokens. */
  isValidToken(token: string): boolean;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export async function startFakeGoogleToken(): Promise<FakeGoogleToken> {
  const keys = new Map<string, KeyObject>();
  const expiries = new Map<string, number>();
  let fake!: FakeGoogleToken;

  const server = await startFakeServer((req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith('/token')) {
      sendJson(res, 404, { error: 'not_found', error_description: `no route ${req.method} ${req.url}` });
      return;
    }
    const form = new URLSearchParams(req.body);
    const refuse = (description: string, status = 400) => sendJson(res, status, { error: 'invalid_grant', error_description: description });
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return refuse('expected a form body');
    if (form.get('grant_type') !== JWT_BEARER) return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
    if (fake.failStatus) return sendJson(res, fake.failStatus, { error: 'internal_failure', error_description: 'Backend error' });
    if (fake.refuseWith) return sendJson(res, 400, { error: fake.refuseWith, error_description: 'Invalid JWT Signature.' });

    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return refuse('Invalid JWT: malformed assertion');
    const [h, p, sig] = parts as [string, string, string];
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; scope?: string; aud?: string; exp?: number; iat?: number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return refuse('Invalid JWT: undecodable');
    }
    if (header.alg !== 'RS256') return refuse('Invalid JWT: alg must be RS256');
    const publicKey = keys.get(claims.iss ?? '');
    if (!publicKey) return refuse('Invalid JWT: unknown issuer');
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, 'base64url'))) return refuse('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== fake.tokenUri) return refuse(`Invalid JWT: aud must be ${fake.tokenUri}`);
    if (!claims.exp || claims.exp < now || !claims.iat || claims.iat > now + 300) return refuse('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    if (!claims.scope) return refuse('Invalid JWT: no scope');

    const accessToken = `ya29.fake-${randomBytes(12).toString('hex')}`;
    expiries.set(accessToken, Date.now() + fake.expiresIn * 1000);
    fake.grants.push({ iss: claims.iss!, scope: claims.scope, aud: claims.aud, access_token: accessToken });
    sendJson(res, 200, { access_token: accessToken, expires_in: fake.expiresIn, token_type: 'Bearer' });
  });

  fake = Object.assign(server, {
    tokenUri: `${server.url}/token`,
    grants: [] as FakeTokenGrant[],
    expiresIn: 3600,
    refuseWith: undefined as string | undefined,
    failStatus: undefined as number | undefined,
    createKey(opts: { email?: string; project?: string } = {}): ServiceAccountKeyJson {
      const project = opts.project ?? 'test-project';
      const email = opts.email ?? `hub-${randomBytes(3).toString('hex')}@${project}.iam.gserviceaccount.com`;
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      keys.set(email, publicKey);
      return {
        type: 'service_account',
        project_id: project,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: email,
        client_id: String(Date.now()),
        token_uri: `${server.url}/token`,
      };
    },
    isValidToken(token: string): boolean {
      const exp = expiries.get(token);
      return exp !== undefined && exp > Date.now();
    },
  });
  return fake;
}

export interface FakeMetadataServer extends FakeServer {
  /** host:port, the value for GCE_METADATA_HOST. */
  host: string;
  issued: string[];
  /** When set, token requests answer this HTTP status. */
  failWith?: number;
}

/**
 * A local GCE/Cloud Run metadata server: GET /computeMetadata/v1/instance/service-accounts/default/token
 * (header `Metadata-Flavor: Google` required, optional `scopes`) → `{access_token, expires_in, token_type}`.
 */
export async function startFakeMetadataServer(): Promise<FakeMetadataServer> {
  let fake!: FakeMetadataServer;
  const server = await startFakeServer((req, res) => {
    const url = new URL(req.url, 'http://metadata');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('Missing Metadata-Flavor:Google header.');
      return;
    }
    if (url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/token') {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('Not Found');
      return;
    }
    if (fake.failWith) {
      res.writeHead(fake.failWith, { 'content-type': 'text/plain' });
      res.end('metadata token unavailable');
      return;
    }
    const token = `ya29.metadata-${randomBytes(8).toString('hex')}`;
    fake.issued.push(token);
    sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  });
  fake = Object.assign(server, { host: `127.0.0.1:${server.port}`, issued: [] as string[], failWith: undefined as number | undefined });
  return fake;
}
