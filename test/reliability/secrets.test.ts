import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeServer, sendJson, type FakeServer, type RecordedRequest } from '../helpers/fake-server.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * A full session against the built server with every secret variable set to a distinctive value, calls that fail
 * upstream against local fakes (GitHub 401, Google 403, Maps REQUEST_DENIED, Auto Builder 500, Docker Engine 500),
 * invalid calls carrying secret-named arguments, and the operator routes. Then every byte the hub produced — its
 * stdout/stderr, every response body, the audit log — is scanned for every secret value: none may appear.
 */
const SECRETS = {
  MCP_API_KEY: 'mcpkey-SECRET-7f3a9c1e5b2d4f60aa',
  GITHUB_TOKEN: 'ghp_SECRETgithub0123456789abcdefABCDEF',
  GOOGLE_OAUTH_TOKEN: 'ya29.SECRET-oauth-token-5e6f7a8b9c0d',
  GOOGLE_API_KEY: 'AIzaSECRETapikey-1a2b3c4d5e6f7g8h9i0',
  CHATGPT_MCP_TOKEN: 'chatgpt-SECRET-token-0f1e2d3c4b5a69',
};
const REGISTRY_PASSWORD = 'docker-SECRET-pass-9z8y7x6w5v';
/** Credentials a caller puts in arguments under innocent names: the audit must redact them by their shape. */
const SHAPED = {
  'URL password in an env string': 'pw-SECRET-db-4c3b2a',
  'GitLab token': 'glpat-SECRETgitlab0123456789ab',
  'bearer value in a command array': 'sk-SECRETopenai0123456789abcd',
  'token in a Git remote URL': 'tok-SECRET-remote-55aa',
};
const REGISTRY_AUTH = JSON.stringify({ username: 'bench-user', password: REGISTRY_PASSWORD, serveraddress: 'registry.example.test' });

/** Every form a secret could leak in: raw, and the encodings clients put on the wire. */
const FORBIDDEN: [string, string][] = [
  ...Object.entries(SECRETS),
  ...Object.entries(SHAPED),
  ['DOCKER_REGISTRY_AUTH password', REGISTRY_PASSWORD],
  ['DOCKER_REGISTRY_AUTH as X-Registry-Auth', Buffer.from(REGISTRY_AUTH).toString('base64url')],
  ['DOCKER_REGISTRY_AUTH as base64', Buffer.from(REGISTRY_AUTH).toString('base64')],
];

/** What an echoing upstream puts in its error text: the header as received, and the bare credential. */
function echo(req: RecordedRequest): string {
  const header = String(req.headers.authorization ?? req.headers['x-goog-api-key'] ?? '');
  return `received Authorization: ${header}; token=${header.replace(/^\S+\s+/, '')}; raw ${header.replace(/^\S+\s+/, '')}`;
}

describe('secrets never leak into logs, audit records or error messages', () => {
  let github: FakeServer;
  let google: FakeServer;
  let chatgpt: FakeServer;
  let docker: FakeServer;
  let hub: HubProcess;
  const produced: { what: string; text: string }[] = [];
  const auth = { authorization: `Bearer ${SECRETS.MCP_API_KEY}` };

  beforeAll(async () => {
    // Upstream stand-ins that echo the credentials they received in their error bodies (as some proxies and
    // misconfigured APIs do): the hub must scrub them before they reach the caller, the audit log or stdout.
    github = await startFakeServer((req, res) =>
      sendJson(res, 401, { message: `Bad credentials (${echo(req)})`, documentation_url: 'https://docs.github.com/rest', status: '401' }),
    );
    google = await startFakeServer((req, res) => {
      if (req.url.startsWith('/maps/')) return sendJson(res, 200, { status: 'REQUEST_DENIED', error_message: 'The provided API key is invalid.', results: [] });
      if (req.url.startsWith('/token')) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
      sendJson(res, 403, { error: { code: 403, message: `The caller does not have permission (${echo(req)})`, status: 'PERMISSION_DENIED' } });
    });
    chatgpt = await startFakeServer((req, res) => sendJson(res, 500, { error: { message: `Auto Builder internal failure (${echo(req)})` } }));
    docker = await startFakeServer((req, res) => {
      if (req.url.endsWith('/_ping')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.45' });
        res.end('OK');
        return;
      }
      sendJson(res, 500, { message: 'pull access denied for registry.example.test/app, repository does not exist or may require docker login' });
    });
    hub = await startHubProcess({
      ...SECRETS,
      MCP_SESSION_MODE: 'stateless',
      LOG_LEVEL: 'debug',
      GITHUB_API_URL: github.url,
      GOOGLE_API_BASE_URL: google.url,
      GOOGLE_CLOUD_PROJECT: 'secret-scan-project',
      CHATGPT_MCP_ENDPOINT: chatgpt.url,
      DOCKER_HOST: `tcp://127.0.0.1:${docker.port}`,
      DOCKER_REGISTRY_AUTH: REGISTRY_AUTH,
      PUBLIC_URL: 'https://hub.example.test',
      ALLOWED_HOSTS: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await Promise.all([github, google, chatgpt, docker].map((f) => f?.close()));
  });

  async function record(what: string, res: Response): Promise<string> {
    const text = `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await res.text()}`;
    produced.push({ what, text });
    return text;
  }

  const calls: [string, Record<string, unknown>][] = [
    ['github_get_contents', { owner: 'octo', repo: 'hello', path: 'README.md' }],
    ['github_create_repository', { name: 'secret-scan' }],
    ['chatgpt_auto_builder_execute', { command: 'scaffold a service', context: { repo: 'octo/hello' } }],
    ['docker_pull', { image: 'registry.example.test/app:1' }],
    ['docker_list_images', {}],
    ['google_translate_detect', { texts: ['hola mundo'] }],
    ['google_gemini_generate', { prompt: 'hello' }],
    ['google_cloud_run_describe', { service_name: 'svc', project_id: 'secret-scan-project', region: 'us-central1' }],
    ['google_cloud_run_list', { project_id: 'secret-scan-project', region: 'us-central1' }],
    ['google_maps_geocode', { address: '1600 Amphitheatre Parkway' }],
    ['google_gmail_search', { query: 'from:someone' }],
    ['google_drive_list', {}],
    // Invalid calls whose secret-named arguments must be redacted in the audit record.
    ['github_get_contents', { owner: 42, token: SECRETS.GITHUB_TOKEN, api_key: SECRETS.GOOGLE_API_KEY, password: REGISTRY_PASSWORD }],
    ['chatgpt_auto_builder_execute', { command: '', authorization: `Bearer ${SECRETS.CHATGPT_MCP_TOKEN}` }],
    // Credentials under innocent names, in strings, arrays and URLs (valid and invalid calls).
    [
      'chatgpt_auto_builder_execute',
      {
        command: `deploy with DATABASE_URL=postgres://app:${SHAPED['URL password in an env string']}@db/app`,
        context: { env: [`GITLAB_PAT=${SHAPED['GitLab token']}`], cmd: ['curl', '-H', `Authorization: Bearer ${SHAPED['bearer value in a command array']}`] },
      },
    ],
    ['docker_build', { remote: `https://oauth2:${SHAPED['token in a Git remote URL']}@git.example.test/repo.git`, context: 'both-given-so-invalid' }],
  ];

  it('runs a session whose calls fail upstream, then finds no secret anywhere', async () => {
    for (const [i, [name, args]] of calls.entries()) {
      const mcp = await fetch(`${hub.url}/mcp`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name, arguments: args } }),
      });
      await record(`MCP ${name}`, mcp);
      const rest = await fetch(`${hub.url}/v1/tools/${name}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(args) });
      await record(`REST ${name}`, rest);
    }
    // A wrong key, the operator routes and the connection checks (which probe every fake with its credential).
    await record('wrong key', await fetch(`${hub.url}/v1/tools`, { headers: { authorization: `Bearer ${SECRETS.MCP_API_KEY}x` } }));
    for (const route of ['/v1/connections', '/v1/governance', '/v1/tools', '/openapi.json', '/metrics', '/readyz']) {
      await record(route, await fetch(`${hub.url}${route}`, { headers: auth }));
    }
    // Audit records are written after the answers: wait until every call's record can be read.
    await vi.waitFor(
      async () => {
        const listed = (await (await fetch(`${hub.url}/v1/audit?limit=1000`, { headers: auth })).json()) as { records: unknown[] };
        expect(listed.records.length).toBeGreaterThanOrEqual(calls.length * 2);
      },
      { timeout: 15_000, interval: 50 },
    );
    const audit = await fetch(`${hub.url}/v1/audit?limit=1000`, { headers: auth });
    const auditText = await record('GET /v1/audit', audit);
    produced.push({ what: 'hub stdout', text: hub.stdout() }, { what: 'hub stderr', text: hub.stderr() });

    // The session did exercise the credentials: the fakes received them, and the audit holds every call.
    const auditRecords = (JSON.parse(auditText.slice(auditText.indexOf('\n\n') + 2)) as { records: unknown[] }).records;
    expect(auditRecords.length).toBeGreaterThanOrEqual(calls.length * 2);
    expect(github.requests.some((r) => JSON.stringify(r.headers).includes(SECRETS.GITHUB_TOKEN))).toBe(true);
    expect(chatgpt.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.CHATGPT_MCP_TOKEN}`)).toBe(true);
    expect(google.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.GOOGLE_OAUTH_TOKEN}`)).toBe(true);
    // The echoing upstreams' errors did reach the caller and the audit log, scrubbed.
    expect(auditText).toContain('Bad credentials (received Authorization: [REDACTED]');
    expect(auditText).toContain('Auto Builder internal failure (received Authorization: [REDACTED]');
    expect(auditText).toContain('The caller does not have permission (received Authorization: [REDACTED]');
    expect(hub.stdout().length).toBeGreaterThan(0);

    const leaks: string[] = [];
    for (const { what, text } of produced) {
      for (const [name, value] of FORBIDDEN) if (text.includes(value)) leaks.push(`${name} found in ${what}`);
    }
    expect(leaks).toEqual([]);
  }, 120_000);
});
