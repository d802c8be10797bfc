import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { SystemId } from '../adapters/names.js';
import { SYSTEM_IDS } from '../adapters/names.js';
import { callerView, visibleTools, type CatalogView } from '../tools/catalog.js';
import { HubError, toHubError } from '../tools/errors.js';
import type { JsonSchema, RegisteredTool, ToolRegistry } from '../tools/registry.js';
import { sendHubError } from './errors.js';
import { isAllowedHost } from './host-guard.js';
import { profileParam } from './rest.js';

/** GPT Actions limits (OpenAI's production notes): summaries/descriptions ≤ 300 characters. */
const MAX_DESCRIPTION = 300;

const clip = (s: string, max = MAX_DESCRIPTION) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

const errorSchema: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
      additionalProperties: true,
    },
  },
  required: ['error'],
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** OpenAPI 3.1 for GPT Actions, generated from the registry: one operation per tool, operationId = tool name. */
export function buildOpenApi(registry: ToolRegistry, systems: ReadonlySet<SystemId> | null, tools: readonly RegisteredTool[] = registry.list()): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const t of tools) {
    if (systems && !systems.has(t.def.system)) continue;
    const consequential = t.def.level === 'HIGH' || t.def.level === 'CRITICAL';
    paths[`/v1/tools/${t.def.name}`] = {
      post: {
        operationId: t.def.name,
        summary: clip(t.def.title),
        description: clip(t.description),
        tags: [t.def.system],
        'x-openai-isConsequential': consequential,
        requestBody: { required: true, content: { 'application/json': { schema: t.inputSchema } } },
        responses: {
          '200': {
            description: 'Tool result',
            content: { 'application/json': { schema: t.outputSchema ?? { type: 'object', additionalProperties: true } } },
          },
          '400': errorResponse('Invalid arguments (each bad field listed)'),
          '401': errorResponse('Missing or invalid API key'),
          '403': errorResponse('Tool disabled, or a person denied this call (approval_denied)'),
          '428': errorResponse('approval_required: show the user approval_url to approve, then call again with approval_id (or confirmation_required: call again with confirm: true)'),
          '429': errorResponse('Hourly quota exceeded; see Retry-After'),
          '502': errorResponse('Upstream failure'),
          '503': errorResponse('System not configured or governance store unavailable'),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Omni Hub',
      version: '0.1.0',
      description: clip('Governed tools for Google Cloud Run, Workspace, AI/ML, Maps, Docker, GitHub, an Intelligence store and ChatGPT Auto Builder.'),
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearerAuth: [] }],
  };
}

export async function openApiRoute(app: FastifyInstance, opts: { config: Config; registry: ToolRegistry }): Promise<void> {
  const cache = new Map<string, Record<string, unknown>>();
  opts.registry.onChange(() => cache.clear());
  app.get('/openapi.json', { config: { access: 'open' } }, async (request, reply) => {
    const raw = (request.query as { systems?: unknown }).systems;
    // The document is public (a GPT Action fetches it without a key): only an explicit `?profile=` narrows it.
    const profile = profileParam(request);
    let view: CatalogView;
    try {
      view = callerView(opts.config, { principal: '', profile });
    } catch (err) {
      return sendHubError(reply, toHubError(err));
    }
    let key = `${profile ?? ''}|all`;
    let filter: Set<SystemId> | null = null;
    if (raw !== undefined) {
      const names = String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // Built-in systems and the names of upstream MCP servers.
      const known: string[] = [...SYSTEM_IDS, ...opts.registry.systems.filter((s) => s.federated).map((s) => s.id)];
      const unknown = names.filter((n) => !known.includes(n));
      if (unknown.length) {
        return sendHubError(
          reply,
          new HubError('invalid_request', `unknown system(s): ${unknown.join(', ').slice(0, 200)}; known: ${known.join(', ')}`),
        );
      }
      filter = new Set(names as SystemId[]);
      key = `${profile ?? ''}|${[...filter].sort().join(',')}`;
    }
    let doc = cache.get(key);
    if (!doc) {
      doc = buildOpenApi(opts.registry, filter, visibleTools(opts.registry, opts.config, view));
      cache.set(key, doc);
    }
    // Without PUBLIC_URL the request's own host is used only when it is one of ours; any other Host header (a
    // rebinding or spoofed name) gets a relative server URL instead of steering a GPT Action to that host.
    const server = opts.config.publicUrl ?? (isAllowedHost(opts.config, request.host) ? `${request.protocol}://${request.host}` : '/');
    return { ...doc, servers: [{ url: server }] };
  });
}
