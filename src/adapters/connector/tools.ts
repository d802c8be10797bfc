import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { capJson, capText } from '../../tools/limits.js';
import { defineTool } from '../../tools/types.js';

/** Results per `search` call: enough for deep research to pick from, small enough for one reply. */
export const SEARCH_RESULTS = 20;
/** `fetch` text cap: keeps one reply well under the 100,000-character GPT Actions limit. */
export const FETCH_TEXT_CHARS = 60_000;
/** `fetch` metadata cap (JSON characters): a callback's stored result lives in metadata and must not escape the text cap. */
export const FETCH_METADATA_CHARS = 20_000;

/** Citation URL of a document: its own url, else a stable URI naming it in this hub's store. */
export function citationUrl(doc: { id: string; url: string | null }): string {
  return doc.url ?? `intelligence://documents/${encodeURIComponent(doc.id)}`;
}

export const search = defineTool({
  name: 'search',
  system: 'connector',
  title: 'Search the Intelligence store',
  description:
    'ChatGPT connector / deep-research search: full-text search over the Intelligence store (documents, Auto Builder results and callbacks). Returns up to 20 results {id, title, url}, best first; pass an id to fetch for the full text.',
  level: 'LOW',
  input: z.object({
    query: z.string().trim().min(1).max(500).describe('Search words; web-search syntax works: "exact phrase", or, -exclude'),
  }),
  output: z.object({ results: z.array(z.object({ id: z.string(), title: z.string(), url: z.string() })) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const store = await ctx.services.intelligence();
    const hits = await store.search({ query: args.query, limit: SEARCH_RESULTS, snippets: false });
    return { results: hits.map((h) => ({ id: h.id, title: h.title, url: citationUrl(h) })) };
  },
});

export const fetchDocument = defineTool({
  name: 'fetch',
  system: 'connector',
  title: 'Fetch a document from the Intelligence store',
  description:
    'ChatGPT connector / deep-research fetch: the full document for an id returned by search: {id, title, text, url, metadata}. Text longer than 60,000 characters is cut (metadata.truncated).',
  level: 'LOW',
  input: z.object({
    id: z.string().trim().min(1).max(200).describe('Document id from a search result'),
  }),
  output: z.object({
    id: z.string(),
    title: z.string(),
    text: z.string(),
    url: z.string(),
    metadata: z.record(z.string(), z.unknown()),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const store = await ctx.services.intelligence();
    const doc = await store.get(args.id);
    if (!doc) throw new HubError('not_found', `no document with id "${args.id}" in the Intelligence store`, { id: args.id });
    const { text, truncated } = capText(doc.text, FETCH_TEXT_CHARS);
    const meta = capJson(doc.metadata, FETCH_METADATA_CHARS);
    return {
      id: doc.id,
      title: doc.title,
      text,
      url: citationUrl(doc),
      metadata: {
        ...meta.value,
        source: doc.source,
        tags: doc.tags,
        created_at: doc.created_at,
        ...(truncated ? { truncated: true, total_chars: doc.text.length } : {}),
        ...(meta.truncated ? { metadata_truncated: true, metadata_total_chars: meta.originalChars } : {}),
      },
    };
  },
});
