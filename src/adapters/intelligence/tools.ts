import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { MAX_SEARCH_LIMIT } from './sql-store.js';

export const MAX_INGEST_CHARS = 200_000;
const SOURCES = ['ingest', 'autobuilder', 'callback'] as const;

const tag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(50)
  .describe('A tag, e.g. "cloud-run" (trimmed, lowercased)');

const dateBound = (what: string) =>
  z
    .union([z.iso.datetime({ offset: true }), z.iso.date()])
    .optional()
    .describe(`${what}, ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)`);

/** A date-only `until` means "through the end of that day" (the store's bound is exclusive). */
function untilBound(until: string | undefined): string | undefined {
  if (!until || until.includes('T')) return until;
  const next = new Date(`${until}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

const hitSchema = z.object({
  id: z.string(),
  title: z.string(),
  url: z.string().nullable(),
  snippet: z.string(),
  rank: z.number(),
  tags: z.array(z.string()),
  source: z.enum(SOURCES),
  created_at: z.string(),
});

export const intelligenceIngest = defineTool({
  name: 'intelligence_ingest',
  system: 'intelligence',
  title: 'Store a document in the Intelligence store',
  description:
    'Store a document or source (title, text, optional url and tags) in the Intelligence store so later intelligence_query and search calls find it by full-text search. Returns the new document id.',
  level: 'MEDIUM',
  input: z.object({
    title: z.string().trim().min(1).max(500).describe('Document title (weighted above the text in ranking)'),
    text: z.string().min(1).max(MAX_INGEST_CHARS).describe(`Full text to store and index, up to ${MAX_INGEST_CHARS} characters`),
    url: z.url({ protocol: /^https?$/ }).max(2048).optional().describe('Where the document comes from (http/https URL), used for citations'),
    tags: z.array(tag).max(20).default([]).describe('Up to 20 tags for filtering queries'),
  }),
  output: z.object({
    id: z.string(),
    title: z.string(),
    url: z.string().nullable(),
    tags: z.array(z.string()),
    source: z.enum(SOURCES),
    created_at: z.string(),
    chars: z.number(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const store = await ctx.services.intelligence();
    const doc = await store.ingest({
      title: args.title,
      text: args.text,
      url: args.url ?? null,
      tags: [...new Set(args.tags)],
      source: 'ingest',
      metadata: { principal: ctx.principal, call_id: ctx.callId },
    });
    return {
      id: doc.id,
      title: doc.title,
      url: doc.url,
      tags: doc.tags,
      source: doc.source,
      created_at: doc.created_at,
      chars: doc.text.length,
    };
  },
});

export const intelligenceQuery = defineTool({
  name: 'intelligence_query',
  system: 'intelligence',
  title: 'Query the Intelligence store',
  description:
    'Ranked full-text search over stored documents (web-search syntax: "exact phrase", or, -exclude). Filters by tags (all must match), source and date range. Returns hits with highlighted snippets (**match**), best first.',
  level: 'LOW',
  input: z.object({
    query: z.string().trim().min(1).max(500).describe('Search words, e.g. cloud run deploy -staging or "exact phrase"'),
    tags: z.array(tag).max(20).optional().describe('Only documents carrying all of these tags'),
    source: z
      .enum(SOURCES)
      .optional()
      .describe('Only documents from this source: ingest (stored by a tool), autobuilder (Auto Builder results), callback (asynchronous Auto Builder callbacks)'),
    since: dateBound('Only documents stored at or after this time'),
    until: dateBound('Only documents stored before this time (a date includes that whole day)'),
    limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(10).describe(`Maximum hits, 1-${MAX_SEARCH_LIMIT}`),
  }),
  output: z.object({ query: z.string(), count: z.number(), hits: z.array(hitSchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const store = await ctx.services.intelligence();
    const hits = await store.search({
      query: args.query,
      tags: args.tags,
      source: args.source,
      since: args.since,
      until: untilBound(args.until),
      limit: args.limit,
    });
    return { query: args.query, count: hits.length, hits };
  },
});
