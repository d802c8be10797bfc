import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { KEY_OR_OAUTH, languageCodeField } from './shared.js';

/**
 * Cloud Translation Basic (v2, /language/translate/v2): it accepts GOOGLE_API_KEY as well as OAuth and needs no
 * project, unlike v3 (projects/{p}:translateText, OAuth only). v2 serves the same NMT model for plain translation.
 */
const TRANSLATE_HOST = 'translation.googleapis.com';
export const MAX_TOTAL_CHARS = 30_000;

const textsField = z
  .array(z.string().min(1).max(MAX_TOTAL_CHARS).describe('One text segment'))
  .min(1)
  .max(128)
  .refine((texts) => texts.reduce((n, t) => n + t.length, 0) <= MAX_TOTAL_CHARS, `texts may hold at most ${MAX_TOTAL_CHARS} characters in total`);

const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

export const translateText = defineTool({
  name: 'google_translate_text',
  system: 'ai_ml',
  title: 'Translate text',
  description:
    'Translate one or more texts into a target language with Cloud Translation. The source language is detected when omitted (and reported per text). Up to 128 texts, 30,000 characters in total.',
  level: 'LOW',
  input: z.object({
    texts: textsField.describe('Texts to translate (1-128, ≤ 30,000 characters in total); results keep the same order'),
    target: languageCodeField.describe('Target language code (ISO 639-1 or BCP-47), e.g. fr, de, ja, zh-TW, pt-BR'),
    source: languageCodeField.optional().describe('Source language code; detected automatically when omitted'),
    format: z.enum(['text', 'html']).default('text').describe('text: plain text; html: keep markup and translate only the text nodes'),
  }),
  output: z.object({
    target: z.string(),
    translations: z.array(z.object({ text: z.string(), detected_source_language: z.string().nullable() })),
  }),
  annotations,
  async run(args, ctx) {
    const res = await googleRequest<{ data?: { translations?: Array<{ translatedText?: string; detectedSourceLanguage?: string }> } }>(ctx, {
      host: TRANSLATE_HOST,
      path: '/language/translate/v2',
      method: 'POST',
      body: { q: args.texts, target: args.target, format: args.format, ...(args.source ? { source: args.source } : {}) },
      auth: KEY_OR_OAUTH,
      idempotent: true,
    });
    return {
      target: args.target,
      translations: (res.data?.translations ?? []).map((t) => ({
        text: t.translatedText ?? '',
        detected_source_language: t.detectedSourceLanguage ?? args.source ?? null,
      })),
    };
  },
});

export const translateDetect = defineTool({
  name: 'google_translate_detect',
  system: 'ai_ml',
  title: 'Detect the language of text',
  description:
    'Detect the language of one or more texts with Cloud Translation. Returns the most likely language code per text with its confidence (0-1).',
  level: 'LOW',
  input: z.object({
    texts: textsField.describe('Texts whose language to detect (1-128, ≤ 30,000 characters in total); results keep the same order'),
  }),
  output: z.object({
    detections: z.array(z.object({ index: z.number(), language: z.string(), confidence: z.number().nullable(), is_reliable: z.boolean().nullable() })),
  }),
  annotations,
  async run(args, ctx) {
    const res = await googleRequest<{ data?: { detections?: Array<Array<{ language?: string; confidence?: number; isReliable?: boolean }>> } }>(ctx, {
      host: TRANSLATE_HOST,
      path: '/language/translate/v2/detect',
      method: 'POST',
      body: { q: args.texts },
      auth: KEY_OR_OAUTH,
      idempotent: true,
    });
    return {
      detections: (res.data?.detections ?? []).map((candidates, index) => {
        const best = [...candidates].sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0))[0];
        return {
          index,
          language: best?.language ?? 'und',
          confidence: best?.confidence ?? null,
          is_reliable: best?.isReliable ?? null,
        };
      }),
    };
  },
});
