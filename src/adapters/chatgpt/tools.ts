import { z } from 'zod';
import type { Config } from '../../config.js';
import { HubError, notConfigured } from '../../tools/errors.js';
import { capText } from '../../tools/limits.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { autobuilderDocumentId } from '../intelligence/ids.js';
import { postExecute, upstream, upstreamMessage, type ExecuteRequest } from './client.js';

/** Characters of the result returned inline; the full result stays in the Intelligence store (fetch document_id). */
export const INLINE_RESULT_CHARS = 40_000;

export const CALLBACK_PATH = '/v1/callbacks/chatgpt';

export function callbackUrl(config: Config): string | null {
  return config.publicUrl ? `${config.publicUrl}${CALLBACK_PATH}` : null;
}

export const autoBuilderExecute = defineTool({
  name: 'chatgpt_auto_builder_execute',
  system: 'chatgpt',
  title: 'Run a ChatGPT Auto Builder command',
  description:
    'Send a command (with optional context) to the ChatGPT Auto Builder at CHATGPT_MCP_ENDPOINT/execute and return its result. The result is stored in the Intelligence store; asynchronous results arrive later at the hub callback route under the same correlation_id.',
  level: 'MEDIUM',
  input: z.object({
    command: z.string().trim().min(1).max(20_000).describe('The instruction for Auto Builder, e.g. "scaffold a Fastify service with a /healthz route"'),
    context: z
      .union([z.record(z.string(), z.unknown()), z.string().max(100_000)])
      .optional()
      .describe('Extra input for the command: a JSON object (e.g. {"repo": "org/app", "branch": "main"}) or plain text'),
  }),
  output: z.object({
    status: z.enum(['success', 'accepted']),
    result: z.unknown(),
    command: z.string(),
    correlation_id: z.string(),
    callback_url: z.string().nullable(),
    document_id: z.string().nullable(),
    truncated: z.boolean(),
    store_error: z.string().optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { endpoint, token, timeoutMs } = ctx.config.chatgpt;
    if (!endpoint) throw notConfigured('CHATGPT_MCP_ENDPOINT', 'ChatGPT Auto Builder');
    const request: ExecuteRequest = {
      command: args.command,
      context: args.context ?? {},
      correlation_id: ctx.callId,
      callback_url: callbackUrl(ctx.config),
    };
    const reply = await postExecute({ endpoint, token, timeoutMs }, request, ctx.signal);

    if (reply.status < 200 || reply.status >= 300) {
      const message = upstreamMessage(reply.body);
      if ((reply.status === 401 || reply.status === 403) && token) {
        throw new HubError('auth_error', `Auto Builder rejected CHATGPT_MCP_TOKEN (HTTP ${reply.status}): ${message}`, {
          upstream_status: reply.status,
          source: 'CHATGPT_MCP_TOKEN',
        });
      }
      throw upstream(`Auto Builder answered HTTP ${reply.status}: ${message}`, reply.status, { upstream_message: message });
    }
    if (isErrorEnvelope(reply.body)) {
      const message = upstreamMessage(reply.body);
      throw upstream(`Auto Builder reported an error: ${message}`, reply.status, { upstream_message: message });
    }

    const result = unwrapResult(reply.body);
    // 202: Auto Builder took the command and will post the outcome to callback_url later.
    const status = reply.status === 202 ? 'accepted' : 'success';
    const text = typeof result === 'string' ? result : JSON.stringify(result, null, 2);
    const stored = status === 'success' ? await storeResult(args.command, args.context, text, reply.status, ctx) : null;
    const inline = capText(text, INLINE_RESULT_CHARS);
    return {
      status,
      result: inline.truncated ? inline.text : result,
      command: args.command,
      correlation_id: ctx.callId,
      callback_url: request.callback_url,
      document_id: stored?.id ?? null,
      truncated: inline.truncated,
      ...(stored?.error ? { store_error: stored.error } : {}),
    };
  },
});

/** `{status: "error", ...}` with a 2xx status is still a failure. */
function isErrorEnvelope(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>).status === 'error';
}

/** Replies shaped `{result: ...}` carry the result in that field; any other reply is the result itself. */
function unwrapResult(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'result' in body) {
    return (body as Record<string, unknown>).result;
  }
  return body;
}

/**
 * The command already ran upstream, so a store failure must not turn the call into an error and lose the result:
 * it is logged and reported next to the result instead.
 */
async function storeResult(
  command: string,
  context: unknown,
  text: string,
  upstreamStatus: number,
  ctx: ToolContext,
): Promise<{ id: string | null; error?: string }> {
  try {
    const store = await ctx.services.intelligence();
    const doc = await store.ingest({
      id: autobuilderDocumentId(ctx.callId),
      title: `Auto Builder: ${command.slice(0, 120)}`,
      text: text || '(empty result)',
      tags: ['autobuilder'],
      source: 'autobuilder',
      metadata: { correlation_id: ctx.callId, command, context: context ?? null, upstream_status: upstreamStatus, principal: ctx.principal },
    });
    return { id: doc.id };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.warn({ err: message, correlation_id: ctx.callId }, 'Auto Builder result not stored in the Intelligence store');
    return { id: null, error: `result not stored: ${message}` };
  }
}
