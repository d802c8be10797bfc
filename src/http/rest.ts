import type { CallToolResult } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config.js';
import { runConnectionChecks } from '../connections.js';
import type { HubDeps } from '../deps.js';
import type { AuditOutcome } from '../governance/audit.js';
import type { Governor } from '../governance/governor.js';
import { HubError, toHubError } from '../tools/errors.js';
import { callerView, visibleTools, type CatalogView } from '../tools/catalog.js';
import type { InvokePipeline, InvokeResult } from '../tools/pipeline.js';
import type { ToolRegistry } from '../tools/registry.js';
import { baseUrl } from '../oauth/discovery.js';
import { sendHubError } from './errors.js';
import { upstreamRestBody } from './upstream-result.js';

export interface RestOptions {
  config: Config;
  deps: HubDeps;
  registry: ToolRegistry;
  governor: Governor;
  pipeline: InvokePipeline;
}

/** Room left for binary content in a REST answer under the GPT Actions 100,000-character body limit. */
const MAX_REST_MEDIA_CHARS = 90_000;

const AUDIT_OUTCOMES = [
  'ok',
  'error',
  'invalid',
  'denied_disabled',
  'not_configured',
  'denied_confirmation',
  'denied_quota',
  'denied_store_unavailable',
  'denied_scope',
  'denied_audit_unavailable',
  'denied_approval',
] as const satisfies readonly AuditOutcome[];

const AuditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    tool: z.string().max(200).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    cursor: z.string().max(200).optional(),
  })
  .strict();

function queryError(error: z.ZodError): HubError {
  const issues = error.issues.map((i) => ({ field: i.path.join('.') || '(query)', message: i.message }));
  return new HubError('invalid_request', `invalid query: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { issues });
}

/** RateLimit-* headers (IETF draft names ChatGPT and most clients read) from the call's quota state. */
function setQuotaHeaders(reply: FastifyReply, result: InvokeResult): void {
  const q = result.governance?.quota;
  if (!q) return;
  reply.header('ratelimit-limit', String(q.limit));
  reply.header('ratelimit-remaining', String(q.remaining));
  reply.header('ratelimit-reset', String(q.reset_s));
}

/** `?profile=<name>` of a request, when given. */
export function profileParam(request: FastifyRequest): string | undefined {
  const value = (request.query as { profile?: unknown } | undefined)?.profile;
  return typeof value === 'string' ? value : undefined;
}

/** The REST surface: the callback route the GPT calls, the catalog, and the operator routes. */
export async function restRoutes(app: FastifyInstance, opts: RestOptions): Promise<void> {
  const { config, deps, registry, governor, pipeline } = opts;

  /** The caller's view of the catalog: its key's profile, `?profile=`, its OAuth token's level (catalog.ts). */
  const viewOf = (request: FastifyRequest) =>
    callerView(config, { principal: request.principal, profile: profileParam(request), maxLevel: request.oauth?.maxLevel ?? null });

  app.get('/v1/tools', { config: { access: 'tool' } }, async (request, reply) => {
    let view: CatalogView;
    try {
      view = viewOf(request);
    } catch (err) {
      return sendHubError(reply, toHubError(err));
    }
    return { tools: visibleTools(registry, config, view).map((t) => {
      const rule = governor.rule(t.def);
      const missing = t.system.missingConfig(config);
      return {
        name: t.def.name,
        system: t.def.system,
        title: t.def.title,
        description: t.description,
        level: rule.level,
        limit: rule.limit,
        enabled: rule.enabled,
        configured: missing === null,
        ...(missing ? { needs: missing } : {}),
        needs_confirmation: t.needsConfirmation,
        // Who approves the tool's calls (APPROVAL): only tools that describe a deploy/delete/remove action are gated.
        ...(t.needsConfirmation ? { approval: rule.approval } : {}),
        annotations: t.annotations,
        input_schema: t.inputSchema,
        ...(t.outputSchema ? { output_schema: t.outputSchema } : {}),
      };
    }) };
  });

  app.post<{ Params: { name: string } }>('/v1/tools/:name', { config: { access: 'tool' } }, async (request, reply) => {
    const controller = new AbortController();
    // The client hanging up before the answer aborts the upstream work too. (The request stream's own 'close' fires
    // once the body is read, so it is the response socket that tells.)
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const profile = profileParam(request);
    if (profile !== undefined) {
      try {
        viewOf(request);
      } catch (err) {
        return sendHubError(reply, toHubError(err));
      }
    }
    const result = await pipeline.invoke(request.params.name, request.body ?? {}, {
      principal: request.principal,
      transport: 'rest',
      signal: controller.signal,
      baseUrl: () => baseUrl(request, config),
      ...(profile !== undefined ? { profile } : {}),
    });
    setQuotaHeaders(reply, result);
    reply.header('x-omni-hub-call-id', result.callId);
    if (!result.ok) return sendHubError(reply, result.error);
    const g = result.governance;
    if (result.raw) {
      const upstream = upstreamRestBody(result.data as CallToolResult, MAX_REST_MEDIA_CHARS, config.resultMaxChars);
      if ('error' in upstream) return sendHubError(reply, upstream.error);
      return { ...upstream.body, ...(g?.warning || g?.degraded ? { _governance: { warning: g.warning, degraded: g.degraded } } : {}) };
    }
    const mediaChars = result.media.reduce((n, m) => n + m.data.length, 0);
    // GPT Actions reject bodies over 100,000 characters: binary content that would not fit is left out and said so.
    const media =
      mediaChars === 0
        ? {}
        : mediaChars <= MAX_REST_MEDIA_CHARS
          ? { media: result.media }
          : {
              media_omitted: {
                items: result.media.map((m) => ({ type: m.type, mimeType: m.mimeType, base64_chars: m.data.length })),
                reason: `binary content of ${mediaChars} base64 characters exceeds the ${MAX_REST_MEDIA_CHARS}-character REST limit; call the tool over MCP (/mcp) to receive it`,
              },
            };
    return {
      ...result.data,
      ...media,
      ...(result.truncated ? { _truncated: result.truncated } : {}),
      ...(g?.warning || g?.degraded ? { _governance: { warning: g.warning, degraded: g.degraded } } : {}),
    };
  });

  app.get('/v1/governance', { config: { access: 'key' } }, async (request) => ({
    mode: config.governance.mode,
    scope: config.governance.scope,
    failure_policy: config.governance.failurePolicy,
    store: deps.quota.kind,
    store_healthy: deps.quota.isHealthy(),
    levels: config.governance.limits,
    approval: config.governance.approval,
    approval_ttl_s: config.governance.approvalTtlMs / 1000,
    overrides: config.governance.overrides,
    tools: await governor.usage(
      registry.list().map((t) => t.def),
      request.principal,
    ),
  }));

  app.get('/v1/audit', { config: { access: 'key' } }, async (request, reply) => {
    const q = AuditQuerySchema.safeParse(request.query);
    if (!q.success) return sendHubError(reply, queryError(q.error));
    try {
      // `status` says whether records of this replica are still on their way (queued, spilled) or were lost.
      return { ...(await deps.audit.list(q.data)), status: deps.audit.status() };
    } catch (err) {
      return sendHubError(reply, toHubError(err));
    }
  });

  app.get('/v1/connections', { config: { access: 'key' } }, async () => ({ systems: await runConnectionChecks(config, deps, [...registry.systems]) }));
}
