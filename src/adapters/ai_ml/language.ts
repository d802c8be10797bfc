import { z } from 'zod';
import { capItems } from '../../tools/limits.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { KEY_OR_OAUTH, languageCodeField } from './shared.js';

/**
 * Cloud Natural Language v2 (documents:analyzeSentiment|analyzeEntities|classifyText): Google's current version, with
 * the larger v2 category taxonomy and more languages for classification; the same Document body for all three.
 */
const LANGUAGE_HOST = 'language.googleapis.com';
export const MAX_SENTENCES = 50;
export const MAX_ENTITIES = 100;

const documentFields = {
  text: z.string().min(1).max(100_000).describe('The text to analyse (≤ 100,000 characters)'),
  type: z.enum(['PLAIN_TEXT', 'HTML']).default('PLAIN_TEXT').describe('PLAIN_TEXT, or HTML to have markup ignored'),
  language_code: languageCodeField
    .optional()
    .describe('Language of the text (e.g. en, ja); detected automatically when omitted'),
};

type DocumentArgs = { text: string; type: 'PLAIN_TEXT' | 'HTML'; language_code?: string };

async function analyze<T>(ctx: ToolContext, method: string, args: DocumentArgs, extra: Record<string, unknown> = {}): Promise<T> {
  return googleRequest<T>(ctx, {
    host: LANGUAGE_HOST,
    path: `/v2/documents:${method}`,
    method: 'POST',
    body: {
      document: { type: args.type, content: args.text, ...(args.language_code ? { languageCode: args.language_code } : {}) },
      ...extra,
    },
    auth: KEY_OR_OAUTH,
    idempotent: true,
  });
}

interface Sentiment {
  score?: number;
  magnitude?: number;
}

const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

export const languageSentiment = defineTool({
  name: 'google_language_sentiment',
  system: 'ai_ml',
  title: 'Analyse sentiment (Natural Language)',
  description:
    'Analyse the sentiment of a text with Cloud Natural Language: document score (-1 negative … +1 positive) and magnitude (overall emotional strength), plus per-sentence scores.',
  level: 'LOW',
  input: z.object(documentFields),
  output: z.object({
    score: z.number(),
    magnitude: z.number(),
    language_code: z.string().nullable(),
    language_supported: z.boolean().nullable(),
    sentences: z.array(z.object({ text: z.string(), score: z.number(), magnitude: z.number() })),
    truncated: z.boolean(),
  }),
  annotations,
  async run(args, ctx) {
    const res = await analyze<{
      documentSentiment?: Sentiment;
      languageCode?: string;
      languageSupported?: boolean;
      sentences?: Array<{ text?: { content?: string }; sentiment?: Sentiment }>;
    }>(ctx, 'analyzeSentiment', args, { encodingType: 'UTF8' });
    const sentences = capItems(res.sentences ?? [], MAX_SENTENCES);
    return {
      score: res.documentSentiment?.score ?? 0,
      magnitude: res.documentSentiment?.magnitude ?? 0,
      language_code: res.languageCode ?? null,
      language_supported: res.languageSupported ?? null,
      sentences: sentences.items.map((s) => ({
        text: s.text?.content ?? '',
        score: s.sentiment?.score ?? 0,
        magnitude: s.sentiment?.magnitude ?? 0,
      })),
      truncated: sentences.truncated,
    };
  },
});

export const languageEntities = defineTool({
  name: 'google_language_entities',
  system: 'ai_ml',
  title: 'Extract entities (Natural Language)',
  description:
    'Find named entities (people, organisations, locations, events, products, dates, numbers, ...) in a text with Cloud Natural Language. Returns each entity with its type, mention count, probability and metadata (e.g. Wikipedia URL).',
  level: 'LOW',
  input: z.object(documentFields),
  output: z.object({
    entities: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        mentions: z.number(),
        probability: z.number().nullable(),
        metadata: z.record(z.string(), z.string()),
      }),
    ),
    count: z.number(),
    language_code: z.string().nullable(),
    truncated: z.boolean(),
  }),
  annotations,
  async run(args, ctx) {
    const res = await analyze<{
      entities?: Array<{ name?: string; type?: string; metadata?: Record<string, string>; mentions?: Array<{ probability?: number }> }>;
      languageCode?: string;
    }>(ctx, 'analyzeEntities', args, { encodingType: 'UTF8' });
    const all = (res.entities ?? []).map((e) => {
      const probabilities = (e.mentions ?? []).map((m) => m.probability).filter((p): p is number => typeof p === 'number');
      return {
        name: e.name ?? '',
        type: e.type ?? 'UNKNOWN',
        mentions: e.mentions?.length ?? 0,
        probability: probabilities.length ? Math.max(...probabilities) : null,
        metadata: e.metadata ?? {},
      };
    });
    const entities = capItems(all, MAX_ENTITIES);
    return { entities: entities.items, count: all.length, language_code: res.languageCode ?? null, truncated: entities.truncated };
  },
});

export const languageClassify = defineTool({
  name: 'google_language_classify',
  system: 'ai_ml',
  title: 'Classify content (Natural Language)',
  description:
    'Classify a text into content categories (e.g. "/Computers & Electronics/Software") with Cloud Natural Language, with a confidence per category. Very short texts may return no categories.',
  level: 'LOW',
  input: z.object(documentFields),
  output: z.object({
    categories: z.array(z.object({ name: z.string(), confidence: z.number() })),
    language_code: z.string().nullable(),
    language_supported: z.boolean().nullable(),
  }),
  annotations,
  async run(args, ctx) {
    const res = await analyze<{
      categories?: Array<{ name?: string; confidence?: number }>;
      languageCode?: string;
      languageSupported?: boolean;
    }>(ctx, 'classifyText', args);
    return {
      categories: (res.categories ?? []).map((c) => ({ name: c.name ?? '', confidence: c.confidence ?? 0 })),
      language_code: res.languageCode ?? null,
      language_supported: res.languageSupported ?? null,
    };
  },
});
