import { z } from 'zod';
import { capText } from '../../tools/limits.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { OAUTH_ONLY, modelIdField, requireOAuth, requireProject, vertexHost } from './shared.js';

/**
 * Gemini runs on two front doors with the same generateContent body: the Gemini API (generativelanguage, takes
 * GOOGLE_API_KEY) and Vertex AI (OAuth, project + region). A key picks the Gemini API; otherwise Vertex AI, which is
 * what a Cloud Run service account or a gcloud token can call.
 */
const GEMINI_HOST = 'generativelanguage.googleapis.com';
export const MAX_GENERATED_CHARS = 50_000;

type Route = { api: 'gemini'; host: string; base: string; auth: 'api_key' } | { api: 'vertex'; host: string; base: string; auth: typeof OAUTH_ONLY };

function route(ctx: ToolContext, model: string, what: string): Route {
  const { google } = ctx.config;
  if (google.apiKey) return { api: 'gemini', host: GEMINI_HOST, base: `/v1beta/models/${model}`, auth: 'api_key' };
  requireOAuth(ctx.config, what);
  const project = requireProject(ctx.config, undefined, what);
  return {
    api: 'vertex',
    host: vertexHost(google.region),
    base: `/v1/projects/${project}/locations/${google.region}/publishers/google/models/${model}`,
    auth: OAUTH_ONLY,
  };
}

interface GenerateContentResponse {
  candidates?: Array<{
    content?: { parts?: Array<{ text?: string; thought?: boolean }>; role?: string };
    finishReason?: string;
    finishMessage?: string;
  }>;
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; totalTokenCount?: number };
  modelVersion?: string;
  responseId?: string;
}

export const geminiGenerate = defineTool({
  name: 'google_gemini_generate',
  system: 'ai_ml',
  title: 'Generate text with Gemini',
  description:
    'Generate text with a Gemini model from a prompt (optional system instruction, temperature, token limit, JSON mode). Uses the Gemini API with GOOGLE_API_KEY, else Vertex AI with OAuth. Returns the text, finish reason and token usage.',
  level: 'MEDIUM',
  input: z.object({
    prompt: z.string().min(1).max(100_000).describe('The user prompt'),
    model: modelIdField.default('gemini-2.5-flash').describe('Gemini model id, e.g. gemini-2.5-flash, gemini-2.5-pro, gemini-2.5-flash-lite'),
    system_instruction: z.string().max(20_000).optional().describe('Optional system instruction that steers the model (role, tone, format)'),
    temperature: z.number().min(0).max(2).optional().describe('Sampling temperature 0-2; lower is more deterministic. Model default when omitted'),
    max_output_tokens: z.number().int().min(1).max(65_536).optional().describe('Upper bound on generated tokens (thinking tokens count too on 2.5 models)'),
    top_p: z.number().min(0).max(1).optional().describe('Nucleus sampling probability mass 0-1'),
    response_mime_type: z
      .enum(['text/plain', 'application/json'])
      .default('text/plain')
      .describe('application/json makes the model answer with JSON text'),
  }),
  output: z.object({
    api: z.enum(['gemini', 'vertex']),
    model: z.string(),
    model_version: z.string().nullable(),
    text: z.string(),
    finish_reason: z.string().nullable(),
    block_reason: z.string().nullable(),
    usage: z.object({
      prompt_tokens: z.number(),
      output_tokens: z.number(),
      thinking_tokens: z.number(),
      total_tokens: z.number(),
    }),
    truncated: z.boolean(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const r = route(ctx, args.model, 'google_gemini_generate');
    const generationConfig = {
      temperature: args.temperature,
      maxOutputTokens: args.max_output_tokens,
      topP: args.top_p,
      responseMimeType: args.response_mime_type,
    };
    const body = {
      contents: [{ role: 'user', parts: [{ text: args.prompt }] }],
      ...(args.system_instruction ? { systemInstruction: { parts: [{ text: args.system_instruction }] } } : {}),
      generationConfig,
    };
    const res = await googleRequest<GenerateContentResponse>(ctx, {
      host: r.host,
      path: `${r.base}:generateContent`,
      method: 'POST',
      body,
      auth: r.auth,
    });
    const candidate = res.candidates?.[0];
    // Thought summaries are not the answer.
    const raw = (candidate?.content?.parts ?? [])
      .filter((p) => typeof p.text === 'string' && !p.thought)
      .map((p) => p.text)
      .join('');
    const text = capText(raw, MAX_GENERATED_CHARS);
    const usage = res.usageMetadata ?? {};
    return {
      api: r.api,
      model: args.model,
      model_version: res.modelVersion ?? null,
      text: text.text,
      finish_reason: candidate?.finishReason ?? null,
      block_reason: res.promptFeedback?.blockReason ?? null,
      usage: {
        prompt_tokens: usage.promptTokenCount ?? 0,
        output_tokens: usage.candidatesTokenCount ?? 0,
        thinking_tokens: usage.thoughtsTokenCount ?? 0,
        total_tokens: usage.totalTokenCount ?? 0,
      },
      truncated: text.truncated,
    };
  },
});

/** Embedding values returned per call: ≈ 6k numbers keep the JSON result well under 100,000 characters. */
export const MAX_EMBEDDING_VALUES = 6_144;

const TASK_TYPES = [
  'RETRIEVAL_QUERY',
  'RETRIEVAL_DOCUMENT',
  'SEMANTIC_SIMILARITY',
  'CLASSIFICATION',
  'CLUSTERING',
  'QUESTION_ANSWERING',
  'FACT_VERIFICATION',
  'CODE_RETRIEVAL_QUERY',
] as const;

interface Embedding {
  index: number;
  values: number[];
}

export const geminiEmbed = defineTool({
  name: 'google_gemini_embed',
  system: 'ai_ml',
  title: 'Embed text with Gemini',
  description:
    'Compute embedding vectors for up to 8 texts with a Gemini embedding model (gemini-embedding-001). Returns the dimension and the vector values. Count × dimension is capped at 6144 values per call (e.g. 8 × 768).',
  level: 'LOW',
  input: z.object({
    texts: z.array(z.string().min(1).max(10_000).describe('One text to embed')).min(1).max(8).describe('Texts to embed, 1-8 (each ≤ 10,000 characters)'),
    model: modelIdField.default('gemini-embedding-001').describe('Embedding model id, e.g. gemini-embedding-001'),
    task_type: z.enum(TASK_TYPES).optional().describe('What the vectors are for; improves quality (e.g. RETRIEVAL_DOCUMENT for stored texts, RETRIEVAL_QUERY for queries)'),
    output_dimensionality: z
      .number()
      .int()
      .min(1)
      .max(3072)
      .default(768)
      .describe('Vector size (gemini-embedding-001: up to 3072; 768, 1536 and 3072 are recommended)'),
  }),
  output: z.object({
    api: z.enum(['gemini', 'vertex']),
    model: z.string(),
    dimension: z.number(),
    count: z.number(),
    embeddings: z.array(z.object({ index: z.number(), values: z.array(z.number()) })),
    truncated: z.boolean(),
    note: z.string().optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const r = route(ctx, args.model, 'google_gemini_embed');
    // Only embed what can be returned: asking for vectors that would be dropped costs quota and money.
    const fits = Math.max(1, Math.floor(MAX_EMBEDDING_VALUES / args.output_dimensionality));
    const texts = args.texts.slice(0, fits);
    const embeddings = r.api === 'gemini' ? await embedGemini(ctx, r, args, texts) : await embedVertex(ctx, r, args, texts);
    const omitted = args.texts.length - texts.length;
    return {
      api: r.api,
      model: args.model,
      dimension: embeddings[0]?.values.length ?? 0,
      count: embeddings.length,
      embeddings,
      truncated: omitted > 0,
      ...(omitted > 0
        ? { note: `${omitted} text(s) not embedded: ${args.texts.length} × ${args.output_dimensionality} exceeds ${MAX_EMBEDDING_VALUES} values; send fewer texts or a smaller output_dimensionality` }
        : {}),
    };
  },
});

type EmbedArgs = { model: string; task_type?: (typeof TASK_TYPES)[number]; output_dimensionality: number };

async function embedGemini(ctx: ToolContext, r: Route, args: EmbedArgs, texts: string[]): Promise<Embedding[]> {
  const request = (text: string) => ({
    model: `models/${args.model}`,
    content: { parts: [{ text }] },
    taskType: args.task_type,
    outputDimensionality: args.output_dimensionality,
  });
  if (texts.length === 1) {
    const res = await googleRequest<{ embedding?: { values?: number[] } }>(ctx, {
      host: r.host,
      path: `${r.base}:embedContent`,
      method: 'POST',
      body: request(texts[0]!),
      auth: r.auth,
      idempotent: true,
    });
    return [{ index: 0, values: res.embedding?.values ?? [] }];
  }
  const res = await googleRequest<{ embeddings?: Array<{ values?: number[] }> }>(ctx, {
    host: r.host,
    path: `${r.base}:batchEmbedContents`,
    method: 'POST',
    body: { requests: texts.map(request) },
    auth: r.auth,
    idempotent: true,
  });
  return (res.embeddings ?? []).map((e, index) => ({ index, values: e.values ?? [] }));
}

/** Vertex AI's gemini-embedding-001 takes one instance per :predict call, so texts are sent one by one. */
async function embedVertex(ctx: ToolContext, r: Route, args: EmbedArgs, texts: string[]): Promise<Embedding[]> {
  const out: Embedding[] = [];
  for (const [index, text] of texts.entries()) {
    const res = await googleRequest<{ predictions?: Array<{ embeddings?: { values?: number[] } }> }>(ctx, {
      host: r.host,
      path: `${r.base}:predict`,
      method: 'POST',
      body: {
        instances: [{ content: text, ...(args.task_type ? { task_type: args.task_type } : {}) }],
        parameters: { outputDimensionality: args.output_dimensionality },
      },
      auth: r.auth,
      idempotent: true,
    });
    out.push({ index, values: res.predictions?.[0]?.embeddings?.values ?? [] });
  }
  return out;
}
