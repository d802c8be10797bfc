import { createHash, randomBytes } from 'node:crypto';

/** A PKCE pair as a client makes it (RFC 7636 S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The form a browser would submit: the page's own hidden fields and radio buttons, read from its HTML. */
export function readConsentForm(html: string): { action: string; hidden: Record<string, string>; levels: string[]; checked?: string } {
  const form = /<form method="post" action="([^"]+)">/.exec(html);
  if (!form) throw new Error(`no consent form in page: ${html.slice(0, 300)}`);
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[m[1]!] = decode(m[2]!);
  const levels = [...html.matchAll(/<input type="radio" id="[^"]+" name="level" value="([^"]+)"( checked)?>/g)];
  return { action: decode(form[1]!), hidden, levels: levels.map((l) => l[1]!), checked: levels.find((l) => l[2])?.[1] };
}

/**
 * Answers the consent page at `authorizeUrl` as a browser would (GET the page with its cookie, POST its own form with
 * the key typed in and a button pressed) and returns the redirect the hub sends back.
 */
export async function submitConsent(
  authorizeUrl: string,
  answer: { key?: string; level?: string; action: 'approve' | 'deny' },
): Promise<{ status: number; location: string | null; body: string }> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, location: page.headers.get('location'), body: html };
  const cookie = (page.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
  const form = readConsentForm(html);
  const body = new URLSearchParams({ ...form.hidden, action: answer.action });
  if (answer.key !== undefined) body.set('key', answer.key);
  const level = answer.level ?? form.checked;
  if (level) body.set('level', level);
  const res = await fetch(new URL(form.action, authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body,
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** What a registered public client needs to run the flow by hand. */
export interface ManualClient {
  client_id: string;
  redirect_uri: string;
}

export async function register(base: string, metadata: Record<string, unknown> = {}): Promise<ManualClient> {
  const redirect_uri = (metadata.redirect_uris as string[] | undefined)?.[0] ?? 'http://127.0.0.1:9/callback';
  const res = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test client', redirect_uris: [redirect_uri], token_endpoint_auth_method: 'none', ...metadata }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { client_id: string };
  return { client_id: body.client_id, redirect_uri };
}

export function authorizeUrl(base: string, c: ManualClient, challenge: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: c.client_id,
    redirect_uri: c.redirect_uri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    resource: `${base}/mcp`,
    ...extra,
  });
  return `${base}/authorize?${q}`;
}

export async function postForm(url: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Registration, consent with the key, code exchange: a token pair for `level` (default tools:medium). */
export async function obtainTokens(base: string, key: string, level = 'tools:medium', c?: ManualClient, extra: Record<string, string> = {}) {
  const client = c ?? (await register(base));
  const { verifier, challenge } = pkce();
  const consent = await submitConsent(authorizeUrl(base, client, challenge, { scope: 'tools:low tools:medium tools:high tools:critical', ...extra }), { key, level, action: 'approve' });
  const code = new URL(consent.location!).searchParams.get('code')!;
  const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uri, code_verifier: verifier, client_id: client.client_id });
  if (token.status !== 200) throw new Error(`token failed: ${JSON.stringify(token.body)}`);
  return { client, access: token.body.access_token as string, refresh: token.body.refresh_token as string, scope: token.body.scope as string };
}
