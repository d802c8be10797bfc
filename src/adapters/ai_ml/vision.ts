import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { capItems, capText } from '../../tools/limits.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { KEY_OR_OAUTH, languageCodeField, mediaField, mediaRef, perItemError } from './shared.js';

const VISION_HOST = 'vision.googleapis.com';
export const MAX_OCR_CHARS = 40_000;

interface AnnotateImageResponse {
  labelAnnotations?: Array<{ mid?: string; description?: string; score?: number; topicality?: number }>;
  textAnnotations?: Array<{ locale?: string; description?: string }>;
  fullTextAnnotation?: {
    text?: string;
    pages?: Array<{ property?: { detectedLanguages?: Array<{ languageCode?: string; confidence?: number }> } }>;
  };
  error?: { code?: number; message?: string };
}

/** images:annotate with one image and one feature; gs:// and https:// both go in `source.imageUri` (Vision fetches them). */
async function annotate(
  ctx: ToolContext,
  image: string,
  feature: { type: string; maxResults?: number },
  imageContext?: Record<string, unknown>,
): Promise<AnnotateImageResponse> {
  const ref = mediaRef(image);
  const img = ref.kind === 'base64' ? { content: ref.data } : { source: { imageUri: ref.uri } };
  const res = await googleRequest<{ responses?: AnnotateImageResponse[] }>(ctx, {
    host: VISION_HOST,
    path: '/v1/images:annotate',
    method: 'POST',
    body: { requests: [{ image: img, features: [feature], ...(imageContext ? { imageContext } : {}) }] },
    auth: KEY_OR_OAUTH,
    idempotent: true,
  });
  const first = res.responses?.[0];
  if (!first) throw new HubError('upstream_error', 'Cloud Vision returned no response for the image', { upstream_status: 200 });
  const failed = perItemError('Cloud Vision', first.error);
  if (failed) throw failed;
  return first;
}

export const visionLabels = defineTool({
  name: 'google_vision_labels',
  system: 'ai_ml',
  title: 'Label an image (Cloud Vision)',
  description:
    'Detect labels (objects, scenes, activities) in an image with Cloud Vision LABEL_DETECTION. The image is base64 data, a gs:// URI or a public https:// URL. Returns labels with scores, best first.',
  level: 'LOW',
  input: z.object({
    image: mediaField('image', true),
    max_results: z.number().int().min(1).max(50).default(10).describe('Maximum number of labels to return (1-50)'),
  }),
  output: z.object({
    labels: z.array(z.object({ description: z.string(), score: z.number(), topicality: z.number().nullable(), mid: z.string().nullable() })),
    count: z.number(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const res = await annotate(ctx, args.image, { type: 'LABEL_DETECTION', maxResults: args.max_results });
    const labels = (res.labelAnnotations ?? []).map((l) => ({
      description: l.description ?? '',
      score: l.score ?? 0,
      topicality: l.topicality ?? null,
      mid: l.mid ?? null,
    }));
    return { labels, count: labels.length };
  },
});

export const visionOcr = defineTool({
  name: 'google_vision_ocr',
  system: 'ai_ml',
  title: 'Read text in an image (Cloud Vision OCR)',
  description:
    'Extract text from an image with Cloud Vision: TEXT_DETECTION for photos and signs, DOCUMENT_TEXT_DETECTION for dense documents. The image is base64 data, a gs:// URI or a public https:// URL. Returns the full text and detected languages.',
  level: 'LOW',
  input: z.object({
    image: mediaField('image', true),
    mode: z
      .enum(['TEXT_DETECTION', 'DOCUMENT_TEXT_DETECTION'])
      .default('TEXT_DETECTION')
      .describe('TEXT_DETECTION for sparse text in photos; DOCUMENT_TEXT_DETECTION for pages of dense text or handwriting'),
    language_hints: z
      .array(languageCodeField.describe('A BCP-47 language code'))
      .max(10)
      .optional()
      .describe('Optional languages expected in the image, e.g. ["en", "de"]; usually best left empty'),
  }),
  output: z.object({
    text: z.string(),
    languages: z.array(z.object({ language_code: z.string(), confidence: z.number().nullable() })),
    characters: z.number(),
    truncated: z.boolean(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const imageContext = args.language_hints?.length ? { languageHints: args.language_hints } : undefined;
    const res = await annotate(ctx, args.image, { type: args.mode }, imageContext);
    const full = res.fullTextAnnotation?.text ?? res.textAnnotations?.[0]?.description ?? '';
    const detected = res.fullTextAnnotation?.pages?.[0]?.property?.detectedLanguages ?? [];
    const languages = detected.length
      ? detected.map((d) => ({ language_code: d.languageCode ?? 'und', confidence: d.confidence ?? null }))
      : res.textAnnotations?.[0]?.locale
        ? [{ language_code: res.textAnnotations[0].locale, confidence: null }]
        : [];
    const text = capText(full, MAX_OCR_CHARS);
    return { text: text.text, languages: capItems(languages, 10).items, characters: full.length, truncated: text.truncated };
  },
});
