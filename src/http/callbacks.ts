import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HubDeps } from '../deps.js';
import { auditTimestamp, type AuditRecord } from '../governance/audit.js';
import { autobuilderDocumentId, callbackDocumentId } from '../adapters/intelligence/ids.js';
import type { IntelligenceDocument, IntelligenceStore } from '../adapters/intelligence/store.js';

/**
 * Auto Builder's asynchronous results: `POST /v1/callbacks/chatgpt` stores one callback per correlation_id in the
 * Intelligence store (a repeat is answered with the stored record, `duplicate: true`) and writes one audit record per
 * POST (tool `chatgpt_callback`); `GET /v1/callbacks/:id` reads it. Authentication is applied by the app before these routes.
 */

/** Audit `tool` name of callback deliveries (not a callable tool: it only labels these records). */
export const CALLBACK_AUDIT_TOOL = 'chatgpt_callback';

const CallbackBody = z.object({
  correlation_id: z.string().trim().min(1).max(200).describe('correlation_id sent by the hub with the command'),
  status: z.string().trim().toLowerCase().min(1).max(50).default('success').describe('success, error, ...'),
  result: z.unknown().optional().describe('The outcome: any JSON value; required unless error is given'),
  error: z.string().max(10_000).optional().describe('Error message when status is error'),
});
type CallbackBody = z.infer<typeof CallbackBody>;

type Issue = { path: string; message: string };

/** Parses the body and lists every bad field at once (the result-or-error rule included, even next to other issues). */
function parseBody(raw: unknown): { body: CallbackBody } | { issues: Issue[] } {
  const parsed = CallbackBody.safeParse(raw);
  const issues: Issue[] = parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (r.result === undefined && r.error === undefined) issues.push({ path: 'result', message: 'required (or give error)' });
  }
  return parsed.success && issues.length === 0 ? { body: parsed.data } : { issues };
}

export interface StoredCallback {
  /** Intelligence document id (also readable with the `fetch` tool). */
  id: string;
  correlation_id: string;
  status: string;
  result: unknown;
  error: string | null;
  received_at: string;
  /** Document holding the synchronous reply of the same call, when it returned one. */
  autobuilder_document_id: string | null;
}

export interface CallbackRoutesOptions {
  deps: HubDeps;
  /** CALLBACK_MAX_BYTES: bound on what one callback stores; larger ones are refused with 413. */
  maxBytes: number;
  /** Told about every accepted callback (after it is stored and audited), e.g. to notify a waiting client. */
  onStored?: (callback: StoredCallback, duplicate: boolean, request: FastifyRequest) => void;
}

export async function callbackRoutes(app: FastifyInstance, opts: CallbackRoutesOptions): Promise<void> {
  app.post('/v1/callbacks/chatgpt', { config: { access: 'key' } }, async (request, reply) => {
    const started = Date.now();
    const parsed = parseBody(request.body);
    if ('issues' in parsed) {
      const { issues } = parsed;
      const message = `invalid callback body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
      audit(opts.deps, request, started, 'invalid', { correlation_id: correlationIdOf(request.body) }, { code: 'invalid_arguments', message });
      return sendError(reply, 400, 'invalid_arguments', message, { issues });
    }
    const { body } = parsed;
    const resultText = body.result === undefined ? '' : typeof body.result === 'string' ? body.result : JSON.stringify(body.result, null, 2);
    const text = [body.error, resultText].filter(Boolean).join('\n\n') || `(${body.status}, no result)`;
    const metadata = {
      correlation_id: body.correlation_id,
      status: body.status,
      result: body.result ?? null,
      error: body.error ?? null,
      principal: principalOf(request),
    };
    // What one callback may store (its text plus metadata): the body limit alone would let each one keep megabytes.
    const storedBytes = Buffer.byteLength(text) + Buffer.byteLength(JSON.stringify(metadata));
    if (storedBytes > opts.maxBytes) {
      const message = `callback result too large: it would store ${storedBytes} bytes, over the ${opts.maxBytes}-byte limit (CALLBACK_MAX_BYTES); store large artifacts elsewhere and send a link`;
      audit(opts.deps, request, started, 'invalid', { correlation_id: body.correlation_id, stored_bytes: storedBytes }, { code: 'payload_too_large', message });
      return sendError(reply, 413, 'payload_too_large', message, { limit_bytes: opts.maxBytes, stored_bytes: storedBytes });
    }
    return withStore(opts.deps, reply, async (store) => {
      const { document, created } = await store.ingestOnce({
        id: callbackDocumentId(body.correlation_id),
        title: `Auto Builder callback ${body.correlation_id} (${body.status})`,
        text,
        tags: ['autobuilder-callback', `status:${body.status}`],
        source: 'callback',
        metadata,
      });
      const callback = await toCallback(store, document);
      audit(opts.deps, request, started, 'ok', { correlation_id: callback.correlation_id, status: body.status, duplicate: !created, document_id: callback.id });
      try {
        opts.onStored?.(callback, !created, request);
      } catch (err) {
        request.log.warn({ err }, 'callback onStored hook failed');
      }
      return reply.code(created ? 201 : 200).send({ duplicate: !created, callback });
    });
  });

  app.get<{ Params: { correlation_id: string } }>('/v1/callbacks/:correlation_id', { config: { access: 'key' } }, async (request, reply) => {
    return withStore(opts.deps, reply, async (store) => {
      const correlationId = request.params.correlation_id.trim();
      const document = await store.get(callbackDocumentId(correlationId));
      if (!document) {
        return sendError(reply, 404, 'not_found', `no callback received for correlation_id "${correlationId.slice(0, 200)}"`);
      }
      return reply.send({ callback: await toCallback(store, document) });
    });
  });
}

async function toCallback(store: IntelligenceStore, doc: IntelligenceDocument): Promise<StoredCallback> {
  const m = doc.metadata;
  const correlationId = String(m.correlation_id);
  const syncReply = await store.get(autobuilderDocumentId(correlationId));
  return {
    id: doc.id,
    correlation_id: correlationId,
    status: String(m.status),
    result: m.result ?? null,
    error: typeof m.error === 'string' ? m.error : null,
    received_at: doc.created_at,
    autobuilder_document_id: syncReply?.id ?? null,
  };
}

/** One audit record per callback delivery; the audit log never blocks or fails the reply. */
function audit(
  deps: HubDeps,
  request: FastifyRequest,
  started: number,
  outcome: 'ok' | 'invalid',
  args: Record<string, unknown>,
  error?: { code: string; message: string },
): void {
  const record: AuditRecord = {
    id: randomUUID(),
    ts: auditTimestamp(),
    tool: CALLBACK_AUDIT_TOOL,
    system: 'chatgpt',
    level: null,
    principal: principalOf(request) ?? 'unknown',
    transport: 'rest',
    outcome,
    duration_ms: Date.now() - started,
    args,
    ...(error ? { error: { code: error.code, message: error.message.slice(0, 500) } } : {}),
  };
  try {
    deps.audit.append(record);
  } catch (err) {
    request.log.warn({ err }, 'callback audit record not written');
  }
}

function correlationIdOf(body: unknown): string | null {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>).correlation_id : undefined;
  return typeof v === 'string' ? v.slice(0, 200) : null;
}

/** The app's auth hook may decorate the request with the caller's key id; recorded when present. */
function principalOf(request: FastifyRequest): string | null {
  const p = (request as FastifyRequest & { principal?: unknown }).principal;
  return typeof p === 'string' ? p : null;
}

/** Runs `fn` with the store; a store that cannot be opened or fails mid-way answers 503 JSON, never a bare 500. */
async function withStore(deps: HubDeps, reply: FastifyReply, fn: (store: IntelligenceStore) => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await fn(await deps.intelligence());
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return sendError(reply, 503, 'internal_error', `Intelligence store unavailable: ${reason.slice(0, 300)}`);
  }
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).send({ error: { code, message, ...extra } });
}
