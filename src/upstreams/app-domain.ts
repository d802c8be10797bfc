import { createHash } from 'node:crypto';

// The dedicated origin an MCP App asks its host for (`_meta.ui.domain`, and its OpenAI alias `openai/widgetDomain`)
// is host-specific and derived from the MCP server's URL: Claude validates `<first 32 hex of SHA-256 of the connector
// URL>.claudemcpcontent.com` against the URL it connected to, other hosts build hash or origin-derived subdomains
// from it. Behind the hub the client connected to the hub, so a domain derived from the upstream's own URL would be
// refused (or land on another origin); it is re-derived from the hub's URL. CSP lists (`_meta.ui.csp`,
// `openai/widgetCSP`) are not touched: they name the origins the app's HTML really loads from and connects to, which
// the hub does not serve, and a host must not allow an origin the server did not declare.

/** The first 32 hex digits of the SHA-256 of an MCP server URL, which hash-derived app origins are built from. */
export const urlHash = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 32);

/** Claude's app origin: the hash of the connector URL the client configured, under claudemcpcontent.com. */
const CLAUDE_DOMAIN = /^[0-9a-f]{32}\.claudemcpcontent\.com$/;

/** Where an upstream's app is served from: the MCP URL the client connected to, and the upstream's own (HTTP) URL. */
export interface AppAddress {
  /** The hub's MCP URL as the client configured it (`<PUBLIC_URL>/mcp`, or `/mcp/p/<profile>`). */
  hubUrl: string;
  /** The upstream's `url` (HTTP upstreams); stdio upstreams have none. */
  upstreamUrl?: string;
}

const hostLabel = (url: URL): string => url.hostname.replaceAll('.', '-');

/** One domain value re-derived for the hub: Claude's form always, the upstream URL's hash, origin or host-derived label. */
export function hubAppDomain(value: string, at: AppAddress): string {
  const hubHash = urlHash(at.hubUrl);
  if (CLAUDE_DOMAIN.test(value)) return `${hubHash}.claudemcpcontent.com`;
  if (!at.upstreamUrl) return value;
  const upstream = new URL(at.upstreamUrl);
  const hub = new URL(at.hubUrl);
  let out = value;
  for (const url of new Set([at.upstreamUrl, upstream.href])) out = out.replaceAll(urlHash(url), hubHash);
  if (out === upstream.origin || out === `${upstream.origin}/`) return hub.origin;
  if (out === upstream.host) return hub.host;
  if (out.startsWith(`${hostLabel(upstream)}.`)) return `${hostLabel(hub)}${out.slice(hostLabel(upstream).length)}`;
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An upstream resource's `_meta` (resources/list entry, template, or resources/read content) with its app domain
 * keys re-derived for the hub (see hubAppDomain); everything else as the upstream sent it. Returns the same object
 * when nothing changes.
 */
export function hubAppResourceMeta(meta: Record<string, unknown>, at: AppAddress): Record<string, unknown> {
  let out = meta;
  const ui = meta.ui;
  if (isObject(ui) && typeof ui.domain === 'string') {
    const domain = hubAppDomain(ui.domain, at);
    if (domain !== ui.domain) out = { ...out, ui: { ...ui, domain } };
  }
  const widget = meta['openai/widgetDomain'];
  if (typeof widget === 'string') {
    const domain = hubAppDomain(widget, at);
    if (domain !== widget) out = { ...out, 'openai/widgetDomain': domain };
  }
  return out;
}
