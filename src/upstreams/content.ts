import type { Client, CompleteRequest, CompleteResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplateType } from '@modelcontextprotocol/client';
import { HubError } from '../tools/errors.js';
import type { McpRound } from '../tools/types.js';
import type { UpstreamConnection, UpstreamRequestOptions } from './connection.js';
import type { UpstreamSystem } from './index.js';
import { hubAppResourceMeta } from './app-domain.js';
import { hubName, hubUri, parseHubUri } from './hub-uri.js';

/** One request to an upstream for the caller of `options` (their own session on an `auth: "user"` upstream). */
const ask = <T>(conn: UpstreamConnection, what: string, send: (client: Client, o: UpstreamRequestOptions) => Promise<T>, options: ContentOptions): Promise<T> =>
  conn.request(what, send, options.signal, { principal: options.principal });

/** Bound on the pages of one upstream list (resources, templates, prompts), as for tool lists. */
const MAX_PAGES = 50;
export interface ContentOptions {
  /** Which upstreams the caller may see (its profile); the others are neither listed nor read. */
  visible?: (upstream: string) => boolean;
  signal?: AbortSignal;
  /**
   * The hub's MCP URL as this client connected to it: app domains an upstream derived from its own URL are
   * re-derived from it (src/upstreams/app-domain.ts). Without it `_meta` passes as the upstream sent it.
   */
  hubUrl?: string;
  /** The caller: an `auth: "user"` upstream answers on the caller's own session, with the caller's own login. */
  principal?: string;
  /** The caller's request as a 2026-07-28 upstream gets it relayed (prompts/get, resources/read). */
  round?: McpRound;
}

/** An upstream item's `_meta` as the client of `options` sees it (its app domain re-derived for the hub). */
function withHubMeta<T extends { _meta?: Record<string, unknown> }>(item: T, conn: UpstreamConnection, options: ContentOptions): T {
  if (!item._meta || options.hubUrl === undefined) return item;
  const meta = hubAppResourceMeta(item._meta, { hubUrl: options.hubUrl, ...(conn.config.url ? { upstreamUrl: conn.config.url } : {}) });
  return meta === item._meta ? item : { ...item, _meta: meta };
}

/**
 * The resources, resource templates and prompts of the upstreams, namespaced like their tools and routed back to
 * them: what an MCP server side lists under `resources/list`, `resources/templates/list`, `prompts/list`, and answers
 * for `resources/read` and `prompts/get`. Each request to an upstream has the bounds of a tool call (time, bytes,
 * cancellation). Upstreams that are down or did not declare the capability contribute nothing to the lists.
 */
export class UpstreamContent {
  constructor(private readonly systems: readonly UpstreamSystem[]) {}

  private connected(options: ContentOptions, capability: 'resources' | 'prompts'): UpstreamConnection[] {
    return this.systems
      .map((s) => s.connection)
      .filter((c) => (options.visible?.(c.name) ?? true) && c.status.state === 'connected' && c.capabilities?.[capability] !== undefined);
  }

  private connection(upstream: string, options: ContentOptions, what: string): UpstreamConnection {
    const conn = this.systems.find((s) => s.id === upstream)?.connection;
    if (!conn || !(options.visible?.(upstream) ?? true)) throw new HubError('not_found', `no upstream "${upstream}" serves ${what}`);
    return conn;
  }

  /** Pages of one list, walked with explicit cursors up to MAX_PAGES, per connected upstream in parallel. */
  private async collect<T>(conns: UpstreamConnection[], page: (conn: UpstreamConnection, cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
    const lists = await Promise.all(
      conns.map(async (conn) => {
        const items: T[] = [];
        let cursor: string | undefined;
        for (let i = 0; i < MAX_PAGES; i += 1) {
          const res = await page(conn, cursor).catch(() => ({ items: [] as T[], nextCursor: undefined }));
          items.push(...res.items);
          cursor = res.nextCursor;
          if (!cursor) break;
        }
        return items;
      }),
    );
    return lists.flat();
  }

  async listResources(options: ContentOptions = {}): Promise<Resource[]> {
    return this.collect(this.connected(options, 'resources'), async (conn, cursor) => {
      const res = await ask(conn, 'resources/list', (client, o) => client.listResources({ cursor }, { ...o, cacheMode: 'bypass' }), options);
      return { items: res.resources.map((r) => withHubMeta({ ...r, uri: hubUri(conn.name, r.uri), name: hubName(conn.name, r.name) }, conn, options)), nextCursor: res.nextCursor };
    });
  }

  async listResourceTemplates(options: ContentOptions = {}): Promise<ResourceTemplateType[]> {
    return this.collect(this.connected(options, 'resources'), async (conn, cursor) => {
      const res = await ask(conn, 'resources/templates/list', (client, o) => client.listResourceTemplates({ cursor }, { ...o, cacheMode: 'bypass' }), options);
      return {
        items: res.resourceTemplates.map((t) => withHubMeta({ ...t, uriTemplate: hubUri(conn.name, t.uriTemplate), name: hubName(conn.name, t.name) }, conn, options)),
        nextCursor: res.nextCursor,
      };
    });
  }

  /** Reads a hub URI from its upstream; the contents' URIs come back as hub URIs. */
  async readResource(uri: string, options: ContentOptions = {}): Promise<ReadResourceResult> {
    const target = parseHubUri(uri);
    if (!target) throw new HubError('not_found', `resource ${JSON.stringify(uri.slice(0, 200))} is not an upstream's (hub URIs are <upstream>+<uri>)`);
    const conn = this.connection(target.upstream, options, `resource ${JSON.stringify(uri.slice(0, 200))}`);
    const res = await ask(
      conn,
      'resources/read',
      (client, o) => client.readResource(conn.relayParams({ uri: target.uri }, options.round), { ...o, cacheMode: 'bypass', ...(conn.modern ? { allowInputRequired: true } : {}) }),
      options,
    );
    // An input_required answer (2026-07-28) has no contents: it goes back to the caller as it is.
    if (!Array.isArray(res.contents)) return res;
    return { ...res, contents: res.contents.map((c) => withHubMeta({ ...c, uri: hubUri(target.upstream, c.uri) }, conn, options)) };
  }

  async listPrompts(options: ContentOptions = {}): Promise<Prompt[]> {
    return this.collect(this.connected(options, 'prompts'), async (conn, cursor) => {
      const res = await ask(conn, 'prompts/list', (client, o) => client.listPrompts({ cursor }, { ...o, cacheMode: 'bypass' }), options);
      return { items: res.prompts.map((p) => ({ ...p, name: hubName(conn.name, p.name) })), nextCursor: res.nextCursor };
    });
  }

  /** Gets `<upstream>_<prompt>` from its upstream (upstream names never contain `_`). */
  async getPrompt(name: string, args: Record<string, string> = {}, options: ContentOptions = {}): Promise<GetPromptResult> {
    const at = name.indexOf('_');
    if (at < 1) throw new HubError('not_found', `prompt ${JSON.stringify(name.slice(0, 200))} is not an upstream's (upstream prompts are <upstream>_<prompt>)`);
    const conn = this.connection(name.slice(0, at), options, `prompt ${JSON.stringify(name.slice(0, 200))}`);
    return ask(
      conn,
      'prompts/get',
      (client, o) => client.getPrompt(conn.relayParams({ name: name.slice(at + 1), arguments: args }, options.round), { ...o, ...(conn.modern ? { allowInputRequired: true } : {}) }),
      options,
    );
  }

  /**
   * Completes an argument of an upstream's prompt (`<upstream>_<prompt>`) or resource template (a hub URI) at that
   * upstream. The upstream is the one the reference names.
   */
  async complete(params: CompleteRequest['params'], options: ContentOptions = {}): Promise<CompleteResult> {
    const { ref } = params;
    let upstream: string;
    let upstreamRef: CompleteRequest['params']['ref'];
    if (ref.type === 'ref/prompt') {
      const at = ref.name.indexOf('_');
      if (at < 1) throw new HubError('not_found', `prompt ${JSON.stringify(ref.name.slice(0, 200))} is not an upstream's`);
      upstream = ref.name.slice(0, at);
      upstreamRef = { ...ref, name: ref.name.slice(at + 1) };
    } else {
      const target = parseHubUri(ref.uri);
      if (!target) throw new HubError('not_found', `resource template ${JSON.stringify(ref.uri.slice(0, 200))} is not an upstream's`);
      upstream = target.upstream;
      upstreamRef = { ...ref, uri: target.uri };
    }
    const conn = this.connection(upstream, options, 'completions');
    return ask(conn, 'completion/complete', (client, o) => client.complete({ ...params, ref: upstreamRef }, o), options);
  }
}
