import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../helpers/config.js';
import { clearGoogleTokenCache } from '../../../src/adapters/google/credentials.js';
import { googleRequest } from '../../../src/adapters/google/rest.js';
import { failure, toolContext } from '../../helpers/context.js';
import { sendJson, startFakeServer, type FakeHandler, type FakeServer } from '../../helpers/fake-server.js';
import { startFakeGoogleToken } from '../../fakes/google-token.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const open: FakeServer[] = [];

afterEach(async () => {
  clearGoogleTokenCache();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function fake(handler: FakeHandler): Promise<FakeServer> {
  const s = await startFakeServer(handler);
  open.push(s);
  return s;
}

/** Answers with each scripted [status, body] in turn, then repeats the last. */
function scripted(...answers: [number, unknown][]): FakeHandler {
  let i = 0;
  return (_req, res) => {
    const [status, body] = answers[Math.min(i++, answers.length - 1)]!;
    sendJson(res, status, body);
  };
}

const googleErr = (code: number, status: string, message: string) => ({ error: { code, message, status, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'X', domain: 'googleapis.com' }] } });

function ctxFor(server: FakeServer, env: Record<string, string> = { GOOGLE_OAUTH_TOKEN: 'ya29.test-token' }) {
  return toolContext(testConfig({ GOOGLE_API_BASE_URL: server.url, ...env }));
}

describe('googleRequest', () => {
  it('sends the API path to GOOGLE_API_BASE_URL with a bearer token, query and JSON body', async () => {
    const s = await fake(scripted([200, { id: 'm1' }]));
    const out = await googleRequest<{ id: string }>(ctxFor(s), {
      host: 'gmail.googleapis.com',
      path: '/gmail/v1/users/me/messages/send',
      method: 'POST',
      query: { fields: 'id', labelIds: ['A', 'B'], skip: undefined, flag: true },
      body: { raw: 'abc' },
      auth: { scopes: [SCOPE] },
    });
    expect(out).toEqual({ id: 'm1' });
    const [req] = s.requests;
    expect(req).toMatchObject({ method: 'POST', url: '/gmail/v1/users/me/messages/send?fields=id&labelIds=A&labelIds=B&flag=true', body: '{"raw":"abc"}' });
    expect(req!.headers.authorization).toBe('Bearer ya29.test-token');
    expect(req!.headers['content-type']).toContain('application/json');
  });

  it('uses X-Goog-Api-Key for api_key auth, and as fallback only without a credential source', async () => {
    const s = await fake(scripted([200, { ok: true }]));
    await googleRequest(ctxFor(s, { GOOGLE_API_KEY: 'AIza-key' }), { host: 'maps.googleapis.com', path: '/maps/api/geocode/json', auth: 'api_key' });
    await googleRequest(ctxFor(s, { GOOGLE_API_KEY: 'AIza-key' }), { host: 'x.googleapis.com', path: '/v1/a', auth: { scopes: [SCOPE], apiKeyFallback: true } });
    await googleRequest(ctxFor(s, { GOOGLE_API_KEY: 'AIza-key', GOOGLE_OAUTH_TOKEN: 'ya29.t' }), { host: 'x.googleapis.com', path: '/v1/b', auth: { scopes: [SCOPE], apiKeyFallback: true } });
    expect(s.requests.map((r) => [r.headers['x-goog-api-key'], r.headers.authorization])).toEqual([
      ['AIza-key', undefined],
      ['AIza-key', undefined],
      [undefined, 'Bearer ya29.t'],
    ]);
    expect(s.requests[0]!.url).not.toContain('AIza');
    const err = await failure(googleRequest(ctxFor(s, {}), { host: 'maps.googleapis.com', path: '/x', auth: 'api_key' }));
    expect(err).toMatchObject({ code: 'not_configured', details: { variable: 'GOOGLE_API_KEY' } });
  });

  it('authenticates with a service-account key through the token endpoint', async () => {
    const tokens = await startFakeGoogleToken();
    open.push(tokens);
    const s = await fake((req, res) =>
      tokens.isValidToken(String(req.headers.authorization).slice(7)) ? sendJson(res, 200, { ok: true }) : sendJson(res, 401, googleErr(401, 'UNAUTHENTICATED', 'bad token')),
    );
    const out = await googleRequest(ctxFor(s, { GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) }), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } });
    expect(out).toEqual({ ok: true });
    expect(tokens.grants).toHaveLength(1);
  });

  it('maps the Google error body to upstream_error with upstream status and code', async () => {
    const s = await fake(scripted([403, googleErr(403, 'PERMISSION_DENIED', 'The caller does not have permission')]));
    const err = await failure(googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toBe('PERMISSION_DENIED: The caller does not have permission');
    expect(err.details).toMatchObject({ upstream_status: 403, upstream_code: 'PERMISSION_DENIED' });
    expect(s.requests).toHaveLength(1);
  });

  it('maps 401 UNAUTHENTICATED to auth_error naming the credential source, not the token', async () => {
    const s = await fake(scripted([401, googleErr(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')]));
    const err = await failure(googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } }));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('GOOGLE_OAUTH_TOKEN');
    expect(JSON.stringify(err.toJSON())).not.toContain('ya29.test-token');
    expect(err.details).toMatchObject({ upstream_status: 401, upstream_code: 'UNAUTHENTICATED' });
  });

  it('treats a rejected API key (400 API_KEY_INVALID) as auth_error', async () => {
    const s = await fake(scripted([400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } }]));
    const err = await failure(googleRequest(ctxFor(s, { GOOGLE_API_KEY: 'AIza-bad' }), { host: 'maps.googleapis.com', path: '/maps/api/geocode/json', auth: 'api_key' }));
    expect(err).toMatchObject({ code: 'auth_error', details: { upstream_status: 400, upstream_code: 'INVALID_ARGUMENT', source: 'GOOGLE_API_KEY' } });
    expect(err.message).not.toContain('AIza-bad');
  });

  it('names the status for non-Google error bodies', async () => {
    const s = await fake((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const err = await failure(googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/y', method: 'POST', auth: { scopes: [SCOPE] } }));
    expect(err.details).toMatchObject({ upstream_status: 502, upstream_code: 'HTTP_502' });
  });

  it('retries idempotent requests twice on 429/5xx, then succeeds', async () => {
    const s = await fake(scripted([503, googleErr(503, 'UNAVAILABLE', 'try later')], [429, googleErr(429, 'RESOURCE_EXHAUSTED', 'slow down')], [200, { ok: 1 }]));
    expect(await googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } })).toEqual({ ok: 1 });
    expect(s.requests).toHaveLength(3);
  });

  it('gives up after two retries with the last upstream error', async () => {
    const s = await fake(scripted([500, googleErr(500, 'INTERNAL', 'boom')]));
    const err = await failure(googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } }));
    expect(err.details).toMatchObject({ upstream_status: 500, upstream_code: 'INTERNAL' });
    expect(s.requests).toHaveLength(3);
  });

  it('never retries non-idempotent requests, nor 4xx answers', async () => {
    const s = await fake(scripted([503, googleErr(503, 'UNAVAILABLE', 'try later')]));
    await failure(googleRequest(ctxFor(s), { host: 'x.googleapis.com', path: '/v1/send', method: 'POST', body: {}, auth: { scopes: [SCOPE] } }));
    expect(s.requests).toHaveLength(1);
    const s2 = await fake(scripted([400, googleErr(400, 'INVALID_ARGUMENT', 'bad field')]));
    await failure(googleRequest(ctxFor(s2), { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } }));
    expect(s2.requests).toHaveLength(1);
    const s3 = await fake(scripted([503, {}], [200, { ok: true }]));
    await googleRequest(ctxFor(s3), { host: 'x.googleapis.com', path: '/v1/batchGet', method: 'POST', body: {}, idempotent: true, auth: { scopes: [SCOPE] } });
    expect(s3.requests).toHaveLength(2);
  });

  it('maps network failures to upstream_error and aborts to timeout', async () => {
    const s = await fake(scripted([200, {}]));
    const url = s.url;
    await s.close();
    open.splice(open.indexOf(s), 1);
    const ctx = toolContext(testConfig({ GOOGLE_API_BASE_URL: url, GOOGLE_OAUTH_TOKEN: 't' }));
    const err = await failure(googleRequest(ctx, { host: 'x.googleapis.com', path: '/v1/y', auth: { scopes: [SCOPE] } }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toMatch(/cannot reach x\.googleapis\.com: ECONNREFUSED/);

    const hang = await fake(() => undefined);
    const controller = new AbortController();
    const pending = googleRequest(toolContext(testConfig({ GOOGLE_API_BASE_URL: hang.url, GOOGLE_OAUTH_TOKEN: 't' }), { signal: controller.signal }), {
      host: 'x.googleapis.com',
      path: '/v1/y',
      auth: { scopes: [SCOPE] },
    });
    while (hang.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect((await failure(pending)).code).toBe('timeout');

    // undici's own header and body timeouts are off (rest.ts): a body that never ends stops at the call's signal too.
    const trickle = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":"');
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('a')), 20);
    });
    const slow = googleRequest(toolContext(testConfig({ GOOGLE_API_BASE_URL: trickle.url, GOOGLE_OAUTH_TOKEN: 't' }), { signal: AbortSignal.timeout(300) }), {
      host: 'x.googleapis.com',
      path: '/v1/y',
      auth: { scopes: [SCOPE] },
    });
    expect((await failure(slow)).code).toBe('timeout');
  });

  it('returns text, binary and raw-body uploads', async () => {
    const s = await fake((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(req.body);
    });
    const ctx = ctxFor(s);
    const text = await googleRequest<string>(ctx, { host: 'x', path: '/upload', method: 'POST', rawBody: { data: 'hello', contentType: 'text/plain' }, auth: { scopes: [SCOPE] }, responseType: 'text' });
    expect(text).toBe('hello');
    expect(s.requests[0]!.headers['content-type']).toBe('text/plain');
    const bin = await googleRequest<Buffer>(ctx, { host: 'x', path: '/upload', method: 'POST', rawBody: { data: Buffer.from([1, 2, 3]), contentType: 'application/octet-stream' }, auth: { scopes: [SCOPE] }, responseType: 'arraybuffer' });
    expect([...bin]).toEqual([1, 2, 3]);
  });
});
