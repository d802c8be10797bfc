import type { ClientCapabilities, InputRequiredResult, RequestStateCodec, ServerContext } from '@modelcontextprotocol/server';
import type { HubError } from '../tools/errors.js';
import type { McpRound } from '../tools/types.js';
import type { HubRequestState } from './elicitation.js';
import { isModernRequest, requestEnvelope, type SdkRuntime } from './sdk.js';

/**
 * The relay of a 2026-07-28 upstream's multi-round-trip calls through the hub's tools/call. The upstream is told the
 * hub's caller as it is (the caller's client capabilities and log level, not the hub's own), so it asks only for what
 * the caller can answer; its `input_required` answer goes back to the caller with the upstream's `requestState`
 * wrapped in the hub's signed state, bound to the caller (the codec's binding: method and principal) and to the tool
 * (so to its upstream), so a client cannot replay it for another caller, tool or upstream, nor alter it. On a 2025
 * session the SDK's legacy shim turns the same answer into server-to-client requests and calls the handler again.
 */

/** The caller's round as the upstream gets it. A hub state that names another tool is refused like a forged one. */
export function callerRound(
  sdk: SdkRuntime['server'],
  ctx: ServerContext,
  tool: string,
  legacyCapabilities: () => ClientCapabilities | undefined,
): McpRound {
  const envelope = requestEnvelope(ctx);
  const modern = isModernRequest(sdk, ctx);
  const meta: Record<string, unknown> = {
    [sdk.CLIENT_CAPABILITIES_META_KEY]: (modern ? envelope?.[sdk.CLIENT_CAPABILITIES_META_KEY] : legacyCapabilities()) ?? {},
  };
  // A 2026-07-28 caller without a log level gets no log messages, so the upstream is asked for none. A 2025 session
  // filters by its logging/setLevel when the hub relays them (the SDK's log), so the upstream is asked for all.
  if (!modern) meta[sdk.LOG_LEVEL_META_KEY] = 'debug';
  else if (envelope?.[sdk.LOG_LEVEL_META_KEY] !== undefined) meta[sdk.LOG_LEVEL_META_KEY] = envelope[sdk.LOG_LEVEL_META_KEY];
  const state = ctx.mcpReq.requestState<HubRequestState>();
  if (state?.relay && state.relay.tool !== tool) {
    throw new sdk.ProtocolError(sdk.ProtocolErrorCode.InvalidParams, 'Invalid or expired requestState', { reason: 'invalid_request_state' });
  }
  const inputResponses = ctx.mcpReq.inputResponses;
  return {
    meta,
    ...(inputResponses ? { inputResponses } : {}),
    ...(state?.relay?.state !== undefined ? { requestState: state.relay.state } : {}),
  };
}

/** Whether an upstream's raw answer is `input_required`. */
export function asksForInput(data: Record<string, unknown>): boolean {
  return data.resultType === 'input_required';
}

/** The upstream's `input_required` answer for the hub's caller: its requests as they are, its state wrapped and signed. */
export async function relayedInputRequired(
  sdk: SdkRuntime['server'],
  codec: RequestStateCodec<HubRequestState>,
  ctx: ServerContext,
  tool: string,
  upstream: Record<string, unknown>,
): Promise<InputRequiredResult> {
  const state = typeof upstream.requestState === 'string' ? upstream.requestState : undefined;
  const inputRequests = upstream.inputRequests as InputRequiredResult['inputRequests'] | undefined;
  return sdk.inputRequired({
    ...(inputRequests ? { inputRequests } : {}),
    requestState: await codec.mint({ relay: { tool, ...(state !== undefined ? { state } : {}) } }, ctx),
  });
}

/**
 * An upstream's JSON-RPC error (its code and data) as the hub's own answer to its MCP client, so the client sees what
 * the upstream refused and why: `-32021` with the capabilities it needs (HTTP 400 on 2026-07-28), `-32602`, ...
 * Undefined for every other failure, which stays the hub's `isError` result.
 */
export function relayedProtocolError(sdk: SdkRuntime['server'], error: HubError): Error | undefined {
  const code = error.details.upstream_code;
  if (error.code !== 'upstream_error' || typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  return new sdk.ProtocolError(code, error.message, error.details.upstream_data);
}
