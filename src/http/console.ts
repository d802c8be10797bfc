import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { HubError } from '../tools/errors.js';
import { sendHubError } from './errors.js';

/**
 * The operator console: a static page and its assets, served from `console/` at the project root (two levels above
 * this module in both src/http and dist/http). Everything the page shows comes from the authenticated REST routes;
 * these routes are open and serve nothing but the page itself.
 */

export const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** The page may load only its own assets and talk only to its own origin; the bearer key must never leak to a frame. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

interface Asset {
  body: Buffer;
  /** Compressed once at start, not per request; sent to clients that accept gzip. */
  gzip: Buffer;
  type: string;
  etag: string;
  /** Short content hash; index.html links the asset with `?v=<version>` so a matching request may be cached forever. */
  version: string;
}

function asset(body: Buffer, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex');
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${hash.slice(0, 32)}"`, version: hash.slice(0, 12) };
}

export interface ConsoleFiles {
  page: Asset;
  assets: ReadonlyMap<string, Asset>;
}

/**
 * Reads the console once: the flat set of files with a known type becomes the only names ever served (so no request
 * path reaches the file system), and index.html gets versioned asset links and the hub's auth mode.
 */
export function loadConsole(dir: string, auth: Config['auth']): ConsoleFiles {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = CONTENT_TYPES[path.extname(entry.name).toLowerCase()];
    if (!entry.isFile() || !type || entry.name === 'index.html') continue;
    assets.set(entry.name, asset(readFileSync(path.join(dir, entry.name)), type));
  }
  let html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  for (const [name, a] of assets) html = html.split(`/console/assets/${name}"`).join(`/console/assets/${name}?v=${a.version}"`);
  html = html.replace('data-auth="bearer"', `data-auth="${auth}"`);
  return { page: asset(Buffer.from(html, 'utf8'), CONTENT_TYPES['.html']!), assets };
}

/** If-None-Match may list several validators, weak or strong; a weak match is enough for GET (RFC 9110 §13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  return !!header && header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

const acceptsGzip = (request: FastifyRequest) => /\bgzip\b/i.test(String(request.headers['accept-encoding'] ?? ''));

function send(request: FastifyRequest, reply: FastifyReply, a: Asset, cacheControl: string): FastifyReply {
  const gzip = acceptsGzip(request);
  // Each encoding is its own representation, so each gets its own validator.
  const etag = gzip ? `${a.etag.slice(0, -1)}-gz"` : a.etag;
  reply.headers(SECURITY_HEADERS).header('cache-control', cacheControl).header('vary', 'accept-encoding').header('etag', etag);
  if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.type(a.type).send(gzip ? a.gzip : a.body);
}

function tryLoad(app: FastifyInstance, dir: string, auth: Config['auth']): ConsoleFiles | null {
  try {
    return loadConsole(dir, auth);
  } catch (err) {
    // A deployment without the console folder still serves every API route; only /console answers 404.
    app.log.warn({ dir, err: err instanceof Error ? err.message : String(err) }, 'operator console files not found; /console is off');
    return null;
  }
}

/** The page carries no data: everything it shows comes from the authenticated REST routes. */
const OPEN = { config: { access: 'open' } } as const;

export async function consoleRoutes(app: FastifyInstance, opts: { config: Config; dir?: string }): Promise<void> {
  const files = tryLoad(app, opts.dir ?? CONSOLE_DIR, opts.config.auth);
  if (!files) {
    const missing = async (_request: FastifyRequest, reply: FastifyReply) =>
      sendHubError(reply, new HubError('not_found', 'the operator console is not installed (console/ folder missing)'));
    app.get('/console', OPEN, missing);
    app.get('/console/', OPEN, missing);
    app.get('/console/assets/*', OPEN, missing);
    return;
  }

  const page = async (request: FastifyRequest, reply: FastifyReply) => send(request, reply, files.page, REVALIDATE);
  app.get('/console', OPEN, page);
  app.get('/console/', OPEN, page);

  app.get<{ Params: { '*': string }; Querystring: { v?: string } }>('/console/assets/*', OPEN, async (request, reply) => {
    // A plain name lookup: "../x", "a/b" or encoded variants simply are not names in the map.
    const found = files.assets.get(request.params['*']);
    if (!found) return sendHubError(reply, new HubError('not_found', 'no such console asset'));
    return send(request, reply, found, request.query.v === found.version ? IMMUTABLE : REVALIDATE);
  });
}
