import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { OAUTH_ONLY, jsonChars, projectIdField, regionField, requireOAuth, requireProject, vertexHost } from './shared.js';

/** Predictions returned inline: their JSON stays under this many characters (GPT Actions bodies are ≤ 100,000). */
export const MAX_PREDICTION_CHARS = 80_000;

const ENDPOINT_NAME = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9]|\d+)\/locations\/([a-z]+(?:-[a-z0-9]+)*)\/endpoints\/([A-Za-z0-9_-]{1,128})$/;

interface PredictResponse {
  predictions?: unknown[];
  deployedModelId?: string;
  model?: string;
  modelDisplayName?: string;
  modelVersionId?: string;
}

export const vertexPredict = defineTool({
  name: 'google_vertex_predict',
  system: 'ai_ml',
  title: 'Online prediction (Vertex AI endpoint)',
  description:
    'Send instances (and optional parameters) to a deployed Vertex AI endpoint for online prediction and return its predictions. Needs OAuth (Vertex AI takes no API keys). Large prediction lists are trimmed.',
  level: 'HIGH',
  input: z.object({
    endpoint_id: z
      .string()
      .regex(/^([A-Za-z0-9_-]{1,128}|projects\/.+\/locations\/.+\/endpoints\/.+)$/, 'must be an endpoint id or projects/{p}/locations/{r}/endpoints/{id}')
      .refine((v) => !v.startsWith('projects/') || ENDPOINT_NAME.test(v), 'must be projects/{project}/locations/{region}/endpoints/{id}')
      .describe('Endpoint id (e.g. 1234567890123456789) or full resource name projects/{project}/locations/{region}/endpoints/{id}'),
    instances: z
      .array(z.unknown().describe("One instance in the deployed model's input format"))
      .min(1)
      .max(1000)
      .describe('Prediction inputs, in the format the deployed model expects (e.g. [{"feature_a": 1.2, "feature_b": "x"}] or [[1, 2, 3]])'),
    parameters: z.record(z.string(), z.unknown()).optional().describe('Optional model parameters (e.g. {"confidenceThreshold": 0.5}); model specific'),
    project_id: projectIdField,
    region: regionField,
  }),
  output: z.object({
    predictions: z.array(z.unknown()),
    count: z.number(),
    returned: z.number(),
    endpoint: z.string(),
    deployed_model_id: z.string().nullable(),
    model: z.string().nullable(),
    model_display_name: z.string().nullable(),
    model_version_id: z.string().nullable(),
    truncated: z.boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    requireOAuth(ctx.config, 'google_vertex_predict');
    const named = ENDPOINT_NAME.exec(args.endpoint_id);
    const project = named ? named[1]! : requireProject(ctx.config, args.project_id, 'google_vertex_predict');
    const region = named ? named[2]! : (args.region ?? ctx.config.google.region);
    const endpointId = named ? named[3]! : args.endpoint_id;
    const endpoint = `projects/${project}/locations/${region}/endpoints/${endpointId}`;
    if (named && ((args.project_id && args.project_id !== project) || (args.region && args.region !== region))) {
      throw new HubError('invalid_arguments', 'project_id/region contradict the project and region in endpoint_id', { endpoint });
    }
    const res = await googleRequest<PredictResponse>(ctx, {
      host: vertexHost(region),
      path: `/v1/${endpoint}:predict`,
      method: 'POST',
      body: { instances: args.instances, ...(args.parameters ? { parameters: args.parameters } : {}) },
      auth: OAUTH_ONLY,
    });
    const all = res.predictions ?? [];
    const kept = keepWithin(all, MAX_PREDICTION_CHARS);
    return {
      predictions: kept,
      count: all.length,
      returned: kept.length,
      endpoint,
      deployed_model_id: res.deployedModelId ?? null,
      model: res.model ?? null,
      model_display_name: res.modelDisplayName ?? null,
      model_version_id: res.modelVersionId ?? null,
      truncated: kept.length < all.length,
    };
  },
});

/** The longest prefix of `items` whose JSON fits in `maxChars` (predictions are opaque, so whole items are kept or dropped). */
function keepWithin(items: unknown[], maxChars: number): unknown[] {
  let used = 2;
  const kept: unknown[] = [];
  for (const item of items) {
    used += jsonChars(item) + 1;
    if (used > maxChars) break;
    kept.push(item);
  }
  return kept;
}
