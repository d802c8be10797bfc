import { createInterface } from 'node:readline';
import type { CallToolResult, Client, CreateMessageResult, ElicitResult, jsonSchemaValidator, JsonSchemaValidatorResult, OAuthClientProvider, ServerCapabilities, Tool, Transport } from '@modelcontextprotocol/client';
import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamConfig } from '../config.js';
import { SecretScrubber, upstreamSecrets } from '../governance/scrub.js';
import { traceMetaParams } from '../telemetry/tracing.js';
import { HubError } from '../tools/errors.js';
import type { ClientAsker, ClientLogger, McpRound, ProgressUpdate } from '../tools/types.js';
import { ClientRequestRelay } from './client-requests.js';
import { boundedFetch, currentCall, ResultTooLargeError } from './bounded-fetch.js';
import { RefreshGate, type RefreshLimits } from './refresh-gate.js';
import { UserSessions, type OpenedSession, type UserSession, type UserSessionLimits } from './user-sessions.js';
import { bearerFetch, type UserTokenSource } from './user-tokens.js';

export type UpstreamTransportKind = 'streamable-http' | 'sse' | 'stdio';

export type UpstreamStatus =
  | { state: 'connecting' }
  | { state: 'connected'; transport: UpstreamTransportKind }
  /** The upstream wants credentials the hub does not have (HTTP 401). */
  | { state: 'needs'; variable: string; reason: string }
  | { state: 'failed'; reason: string }
  | { state: 'closed' };

export interface UpstreamCallOptions {
  signal: AbortSignal;
  /** The caller: an `auth: "user"` upstream is called with this principal's own token. */
  principal?: string;
  onProgress?: (p: ProgressUpdate) => void;
  /** Answers the upstream's elicitation and sampling requests made during this call (see ClientRequestRelay). */
  ask?: ClientAsker;
  /** The caller's request as relayed to a 2026-07-28 upstream (ignored for a 2025 one). */
  round?: McpRound;
  /** Where the upstream's log messages during this call go (see ClientRequestRelay.log). */
  log?: ClientLogger;
}

/** Who a request is for: the principal (their own session on an `auth: "user"` upstream) and, for a tool call, who answers the upstream's questions. */
export interface Caller {
  principal?: string;
  call?: { ask?: ClientAsker; log?: ClientLogger };
}

/** The bounds every upstream request carries. */
export interface UpstreamRequestOptions {
  signal: AbortSignal;
  timeout: number;
  maxTotalTimeout: number;
}

export interface ConnectionTimings extends RefreshLimits, UserSessionLimits {
  /** Bound on one tool call when the entry has no `timeout_ms`. */
  callTimeoutMs: number;
  /** Bound on connecting (initialize + tools/list). */
  connectTimeoutMs: number;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Bound on one message read from the upstream (a tool result, a list), counted while it is read. */
  resultMaxBytes: number;
}

export const DEFAULT_TIMINGS: Omit<ConnectionTimings, 'callTimeoutMs'> = {
  connectTimeoutMs: 10_000,
  minBackoffMs: 500,
  maxBackoffMs: 30_000,
  resultMaxBytes: 4 * 1024 * 1024,
  minRefreshIntervalMs: 1_000,
  maxRefreshesPerMinute: 10,
  userSessionsMax: 100,
  userSessionIdleMs: 300_000,
};

const CLIENT_INFO = { name: 'omni-hub', version: '0.1.0' };
/** The per-request `_meta` key of the client capabilities (2026-07-28), as the SDK names it. */
const CLIENT_CAPABILITIES_META_KEY = 'io.modelcontextprotocol/clientCapabilities';
const MAX_TOOL_PAGES = 50;
const MAX_STDERR_LINE = 2_000;
const MAX_REASON = 300;

type ClientSdk = typeof import('@modelcontextprotocol/client');

let sdk: Promise<ClientSdk> | undefined;
/** The SDK's client package, loaded once and only when upstreams are configured. */
function loadClientSdk(): Promise<ClientSdk> {
  sdk ??= import('@modelcontextprotocol/client');
  return sdk;
}

/**
 * The hub republishes an upstream's output schema and passes its results through unchanged, so checking them is the
 * end client's job; compiling every upstream output schema here would only cost memory and CPU (and run the
 * upstream's `pattern`s on the hub's event loop).
 */
const PASS_THROUGH_OUTPUT: jsonSchemaValidator = {
  getValidator<T>() {
    return (input: unknown): JsonSchemaValidatorResult<T> => ({ valid: true, data: input as T, errorMessage: undefined });
  },
};

const clip = (s: string, max = MAX_REASON) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return clip(String(err));
  // Node network errors carry the useful part (ECONNREFUSED, ENOTFOUND, ...) in `code`, often a cause or two down.
  let code: unknown;
  for (let e: unknown = err, depth = 0; e && depth < 4 && typeof code !== 'string'; e = (e as { cause?: unknown }).cause, depth++) {
    code = (e as { code?: unknown }).code;
  }
  const cause = err.cause instanceof Error ? err.cause.message : '';
  // fetch says only "fetch failed": the reason is in its cause.
  const message = [err.message || err.name, cause].filter(Boolean).join(': ');
  return clip(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
}

/** The HTTP status of a transport failure: SdkHttpError's `status`, the legacy SSE error's numeric `code`, 401 for UnauthorizedError. */
function httpStatusOf(err: unknown, client: ClientSdk | undefined): number | undefined {
  if (!(err instanceof Error) || !client) return undefined;
  const e: unknown = err;
  if (client.UnauthorizedError.isInstance(e)) return 401;
  if (client.SdkHttpError.isInstance(e)) return e.status;
  if (client.ProtocolError.isInstance(e)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/**
 * One upstream MCP server, reached with the SDK's Client: a stdio process the hub starts and restarts, or a Streamable
 * HTTP endpoint (legacy SSE when the endpoint refuses Streamable HTTP). Connection loss schedules a reconnect with
 * exponential backoff; calls made meanwhile answer `upstream_error` at once. Every message read from the upstream is
 * bounded in bytes while it is read (the stdio read buffer, the HTTP response streams).
 */
export class UpstreamConnection {
  status: UpstreamStatus = { state: 'connecting' };
  /** The last tool list the upstream gave (kept while it is down, so its tools answer upstream_error, not unknown_tool). */
  tools: Tool[] = [];
  /** Called after the tool list changed (first connect, reconnect, `notifications/tools/list_changed`). */
  onToolsChanged?: () => void;
  /** Called when the upstream announces that its resource or prompt list changed (forwarded to the hub's clients). */
  onContentChanged?: (kind: 'resources' | 'prompts') => void;
  /** `tools/list` requests sent to the upstream since the start (for operators and tests of the coalescing). */
  toolLists = 0;

  private client?: Client;
  private sdk?: ClientSdk;
  private provider?: OAuthClientProvider;
  /** The running process of a stdio upstream. */
  private process?: { readonly pid: number | null };
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  /** Set when the current connection was dropped because a message passed the byte cap (stdio, shared streams). */
  private overflowed = false;
  private readonly timings: ConnectionTimings;
  private readonly refreshGate: RefreshGate;
  private readonly clientRequests = new ClientRequestRelay();
  /** Present for an `auth: "user"` upstream: each caller's own session (the listing connection carries no calls). */
  private readonly userSessions?: UserSessions;
  /** Header, environment and OAuth secret values of this entry: never written to the log or a status reason. */
  private readonly scrubber: SecretScrubber;

  constructor(
    readonly config: UpstreamConfig,
    private readonly log: FastifyBaseLogger,
    timings: Partial<ConnectionTimings> & { callTimeoutMs: number },
    /** Present for an `auth: "user"` upstream: per-call tokens from the vault. */
    private readonly userTokens?: UserTokenSource,
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
    this.scrubber = new SecretScrubber(upstreamSecrets(config));
    this.refreshGate = new RefreshGate(() => this.refreshTools(), this.timings);
    if (userTokens) this.userSessions = new UserSessions((session) => this.openSession(session), this.timings);
  }

  /** Ends `principal`'s own session (their login was replaced or revoked); the next call opens a new one. */
  async forgetUser(principal: string): Promise<void> {
    await this.userSessions?.dropPrincipal(principal);
  }

  /** Open sessions of callers (`auth: "user"` upstreams), for operators and tests. */
  get userSessionCount(): number {
    return this.userSessions?.size ?? 0;
  }

  private scrub(text: string): string {
    return this.scrubber.text(text);
  }

  get name(): string {
    return this.config.name;
  }

  /** Process id of a connected stdio upstream (for the log and for operators), undefined otherwise. */
  get pid(): number | undefined {
    return this.process?.pid ?? undefined;
  }

  get callTimeoutMs(): number {
    return this.config.timeout_ms ?? this.timings.callTimeoutMs;
  }

  get resultMaxBytes(): number {
    return this.timings.resultMaxBytes;
  }

  /** The first connection attempt; resolves (never rejects) once it succeeded or failed. */
  start(): Promise<void> {
    return this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.refreshGate.close();
    this.status = { state: 'closed' };
    const client = this.client;
    this.client = undefined;
    await Promise.all([client?.close().catch(() => undefined), this.userSessions?.close()]);
  }

  private tooLarge(what: string): HubError {
    const max = this.timings.resultMaxBytes;
    return new HubError('upstream_error', `upstream "${this.name}" answered ${what} with more than ${max} bytes (UPSTREAM_RESULT_MAX_BYTES); the answer was dropped`, {
      upstream: this.name,
      limit_bytes: max,
    });
  }

  /** Connects again now instead of at the next backoff (an operator just connected their login, say). */
  retryNow(): void {
    if (this.closed || this.status.state === 'connected') return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    void this.connect();
  }

  async callTool(tool: string, args: Record<string, unknown>, opts: UpstreamCallOptions): Promise<CallToolResult> {
    const result = await this.request(
      tool,
      (client, options) =>
        client.callTool(
          this.relayParams({ name: tool, arguments: args, ...traceMetaParams() }, opts.round),
          {
            ...options,
            // An input_required answer goes back to the hub's caller, who answers it (the hub has no person to ask).
            ...(this.modern ? { allowInputRequired: true } : {}),
            // The SDK sends its own progressToken upstream only when a handler is given, and maps the answers back.
            ...(opts.onProgress ? { onprogress: (p: ProgressUpdate) => opts.onProgress!({ progress: p.progress, total: p.total, message: p.message }) } : {}),
          },
        ),
      opts.signal,
      { principal: opts.principal, call: { ask: opts.ask, log: opts.log } },
    );
    // The SDK client dispatches notifications a turn after the response they preceded on the wire: the last progress or
    // log message of the call reaches its caller only if the call stays open until then.
    await new Promise((resolve) => setImmediate(resolve));
    return result;
  }

  /** Whether the upstream speaks MCP 2026-07-28 (stateless, input_required rounds) rather than a 2025 revision. */
  get modern(): boolean {
    return this.config.protocol === '2026-07-28';
  }

  /**
   * A request's params as relayed to a 2026-07-28 upstream: the caller's envelope entries (client capabilities, log
   * level) win over the ones the SDK client attaches for the hub, and a retried round carries the caller's answers
   * and the upstream's own state. A 2025 upstream gets the params unchanged.
   */
  relayParams<P extends object>(params: P & { _meta?: Record<string, unknown> }, round: McpRound | undefined): P {
    if (!this.modern) return params;
    // A caller with no MCP request (REST, a background task) can answer nothing: the upstream is told so.
    if (!round) return { ...params, _meta: { ...params._meta, [CLIENT_CAPABILITIES_META_KEY]: {} } };
    return {
      ...params,
      _meta: { ...params._meta, ...round.meta },
      ...(round.inputResponses ? { inputResponses: round.inputResponses } : {}),
      ...(round.requestState !== undefined ? { requestState: round.requestState } : {}),
    };
  }

  /** What the upstream declared it serves (tools, resources, prompts, ...), while connected. */
  get capabilities(): ServerCapabilities | undefined {
    return this.status.state === 'connected' ? this.client?.getServerCapabilities() : undefined;
  }

  /**
   * One request to the upstream (a tool call, a resource read, a list) under a tool call's bounds: the call timeout,
   * the byte cap on its answer, the caller's cancellation; failures become HubErrors naming `what`. On an
   * `auth: "user"` upstream it goes on the caller's own session (`upstream_auth_required` when they have no login);
   * for a tool call (`caller.call`), the upstream's elicitation and sampling requests made meanwhile go to its `ask`.
   */
  async request<T>(
    what: string,
    send: (client: Client, options: UpstreamRequestOptions) => Promise<T>,
    signal: AbortSignal = new AbortController().signal,
    caller: Caller = {},
  ): Promise<T> {
    if (this.userTokens) return this.requestAsUser(what, send, signal, caller);
    const client = this.client;
    const sdk = this.sdk;
    if (!client || !sdk || this.status.state !== 'connected') {
      throw new HubError('upstream_error', `upstream "${this.name}" is not connected: ${this.describeDown()}`, { upstream: this.name });
    }
    const untrack = caller.call ? this.clientRequests.track({ ask: caller.call.ask, log: caller.call.log, signal }) : undefined;
    try {
      return await this.send(what, client, sdk, send, signal, (err) => this.lost(client, err));
    } finally {
      untrack?.();
    }
  }

  /** A request of `caller.principal` on their own session, opened with (and carrying) their own token. */
  private async requestAsUser<T>(
    what: string,
    send: (client: Client, options: UpstreamRequestOptions) => Promise<T>,
    signal: AbortSignal,
    caller: Caller,
  ): Promise<T> {
    const source = this.userTokens!;
    const sessions = this.userSessions!;
    const principal = caller.principal ?? 'anonymous';
    // The caller's own login first: without one the answer is how to connect, whatever the upstream's state.
    const grant = await source.forCall(principal);
    this.sdk ??= await loadClientSdk();
    const sdk = this.sdk;
    // A session the upstream no longer knows (HTTP 404: it restarted, or expired the session) did not run the request:
    // it is sent once more on a new session.
    for (let attempt = 0; ; attempt++) {
      let acquired: { session: UserSession; client: Client };
      try {
        acquired = await sessions.acquire(principal, grant);
      } catch (err) {
        if (httpStatusOf(err, sdk) === 401) throw await source.rejected(principal);
        throw new HubError('upstream_error', `upstream "${this.name}" could not open a session for this caller: ${this.scrub(reasonOf(err))}`, { upstream: this.name });
      }
      const { session, client } = acquired;
      let unknownSession = false;
      const lost = (err: unknown) => {
        unknownSession = httpStatusOf(err, sdk) === 404;
        void sessions.drop(session);
      };
      const untrack = caller.call ? session.relay.track({ ask: caller.call.ask, log: caller.call.log, signal }) : undefined;
      try {
        return await this.send(what, client, sdk, send, signal, lost);
      } catch (err) {
        if (err instanceof HubError && err.details.upstream_status === 401) {
          void sessions.drop(session);
          throw await source.rejected(principal);
        }
        if (!(unknownSession && attempt === 0)) throw err;
      } finally {
        untrack?.();
        sessions.release(session);
      }
    }
  }

  /** Sends one request on `client`; `lost` is told when the failure means its session is broken. */
  private async send<T>(
    what: string,
    client: Client,
    sdk: ClientSdk,
    send: (client: Client, options: UpstreamRequestOptions) => Promise<T>,
    signal: AbortSignal,
    lost: (err: unknown) => void,
  ): Promise<T> {
    const timeout = this.callTimeoutMs;
    // Aborted by the caller, or by the HTTP transport when this request's answer passes the byte cap.
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    let overflow = false;
    const target = {
      overflow: () => {
        overflow = true;
        controller.abort(this.tooLarge(what));
      },
    };
    try {
      return await currentCall.run(target, () => send(client, { signal: controller.signal, timeout, maxTotalTimeout: timeout }));
    } catch (err) {
      if (overflow || err instanceof ResultTooLargeError) throw this.tooLarge(what);
      if (signal.aborted) throw signal.reason instanceof HubError ? signal.reason : new HubError('timeout', `${this.name}_${what} was cancelled`);
      if (sdk.ProtocolError.isInstance(err)) {
        // The code and data travel on so the MCP surface can answer its client with the upstream's protocol error.
        throw new HubError('upstream_error', `upstream "${this.name}" refused ${what}: ${this.scrub(clip(err.message))}`, {
          upstream: this.name,
          upstream_code: err.code,
          ...(err.data !== undefined ? { upstream_data: err.data } : {}),
        });
      }
      if (sdk.SdkError.isInstance(err)) {
        if (err.code === sdk.SdkErrorCode.RequestTimeout) {
          throw new HubError('timeout', `upstream "${this.name}" did not answer ${what} within ${timeout} ms`, { upstream: this.name, timeout_ms: timeout });
        }
        if (err.code === sdk.SdkErrorCode.ConnectionClosed) {
          if (this.overflowed) throw this.tooLarge(what);
          throw new HubError('upstream_error', `upstream "${this.name}" closed the connection during ${what}`, { upstream: this.name });
        }
        // An answer the client could not use (an unexpected result type, a malformed result): that request failed, the
        // connection is fine.
        if (err.code === sdk.SdkErrorCode.UnsupportedResultType || err.code === sdk.SdkErrorCode.InvalidResult) {
          throw new HubError('upstream_error', `upstream "${this.name}" answered ${what} with a result the hub cannot use: ${this.scrub(clip(err.message))}`, { upstream: this.name });
        }
      }
      if (this.userTokens && httpStatusOf(err, sdk) === 401) {
        throw new HubError('upstream_error', `upstream "${this.name}" refused the caller's login`, { upstream: this.name, upstream_status: 401 });
      }
      // A transport failure (connection refused, malformed answer): the session is suspect, so reconnect in the background.
      lost(err);
      throw new HubError('upstream_error', `upstream "${this.name}" failed during ${what}: ${this.scrub(reasonOf(err))}`, { upstream: this.name });
    } finally {
      signal.removeEventListener('abort', forward);
    }
  }

  private describeDown(): string {
    switch (this.status.state) {
      case 'failed':
      case 'needs':
        return this.status.reason;
      case 'closed':
        return 'the hub is shutting down';
      default:
        return 'connecting';
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      this.sdk = await loadClientSdk();
      this.overflowed = false;
      const { client, kind } = await this.open();
      if (this.closed) {
        await client.close().catch(() => undefined);
        return;
      }
      this.client = client;
      client.onclose = () => this.lost(client, new Error(this.overflowed ? `a message passed ${this.timings.resultMaxBytes} bytes (UPSTREAM_RESULT_MAX_BYTES)` : 'connection closed'));
      await this.listenForChanges(client);
      this.tools = await this.listTools(client);
      await this.userTokens?.saveTools(this.tools).catch((err: unknown) => this.log.warn({ upstream: this.name, err: reasonOf(err) }, 'upstream tool list not cached'));
      this.attempt = 0;
      this.status = { state: 'connected', transport: kind };
      this.log.info({ upstream: this.name, transport: kind, tools: this.tools.length, pid: this.pid }, 'upstream connected');
      this.onToolsChanged?.();
    } catch (err) {
      const client = this.client;
      this.client = undefined;
      await client?.close().catch(() => undefined);
      await this.fromCache();
      this.failed(err);
    }
  }

  /**
   * A 2026-07-28 upstream announces list changes on a `subscriptions/listen` stream instead of its session: the hub
   * opens one per connection for what the upstream declared; its notifications reach the same handlers as a 2025
   * upstream's. The stream ends with the client.
   */
  private async listenForChanges(client: Client): Promise<void> {
    if (!this.modern) return;
    const declared = client.getServerCapabilities() ?? {};
    const filter = {
      ...(declared.tools?.listChanged ? { toolsListChanged: true } : {}),
      ...(declared.prompts?.listChanged ? { promptsListChanged: true } : {}),
      ...(declared.resources?.listChanged ? { resourcesListChanged: true } : {}),
    };
    if (Object.keys(filter).length === 0) return;
    await client.listen(filter, { timeout: this.timings.connectTimeoutMs }).catch((err: unknown) => {
      this.log.warn({ upstream: this.name, err: this.scrub(reasonOf(err)) }, 'upstream list changes not followed');
    });
  }

  /** An `auth: "user"` upstream without an operator login here: the list another instance (or an earlier run) saw. */
  private async fromCache(): Promise<void> {
    if (!this.userTokens || this.tools.length > 0) return;
    const cached = await this.userTokens.cachedTools().catch(() => undefined);
    if (!cached?.length || this.closed) return;
    this.tools = cached;
    this.onToolsChanged?.();
  }

  /** A connected client went away (process exit, closed stream, transport error): mark it down and reconnect. */
  private lost(client: Client, err: unknown): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    void client.close().catch(() => undefined);
    this.failed(err);
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    const status = httpStatusOf(err, this.sdk);
    if (status === 401 && this.userTokens) {
      this.status = {
        state: 'needs',
        variable: `UPSTREAMS[${this.name}].auth`,
        reason:
          this.tools.length > 0
            ? `no operator login here: serving the ${this.tools.length} tools an operator's login listed earlier (callers use their own logins); an operator (hub key) connects theirs in the console (Connections per user) to list them afresh`
            : 'no tool list yet: the upstream lists its tools only to a connected login, so an operator (hub key) connects theirs in the console (Connections per user)',
      };
    } else if (status === 401 && this.config.oauth) {
      this.status = { state: 'failed', reason: this.scrub(`OAuth client credentials were not accepted: ${reasonOf(err)}`) };
    } else if (status === 401) {
      const variable = `UPSTREAMS[${this.name}].headers.Authorization`;
      this.status = {
        state: 'needs',
        variable,
        reason: `the upstream answered HTTP 401 (it wants OAuth or a token); the hub does not run upstream OAuth: set ${variable}`,
      };
    } else {
      this.status = { state: 'failed', reason: this.scrub(reasonOf(err)) };
    }
    const delay = Math.min(this.timings.maxBackoffMs, this.timings.minBackoffMs * 2 ** this.attempt);
    this.attempt += 1;
    // Jitter keeps several hubs from reconnecting in lockstep.
    const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
    this.log.warn({ upstream: this.name, reason: this.describeDown(), retry_in_ms: wait }, 'upstream unavailable');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), wait);
    this.retryTimer.unref();
  }

  private async listTools(client: Client): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      this.toolLists += 1;
      // One page at a time (an explicit cursor), fresh from the upstream: never an answer from the SDK's cache.
      const res = await client.listTools({ cursor }, { timeout: this.timings.connectTimeoutMs, cacheMode: 'bypass' });
      tools.push(...res.tools);
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  private async refreshTools(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const tools = await this.listTools(client);
      if (this.client !== client) return;
      this.tools = tools;
      await this.userTokens?.saveTools(tools).catch((err: unknown) => this.log.warn({ upstream: this.name, err: reasonOf(err) }, 'upstream tool list not cached'));
      this.log.info({ upstream: this.name, tools: tools.length }, 'upstream tool list changed');
      this.onToolsChanged?.();
    } catch (err) {
      this.log.warn({ upstream: this.name, err: this.scrub(reasonOf(err)) }, 'upstream tool list refresh failed');
    }
  }

  private newClient(relay: ClientRequestRelay): Client {
    const sdk = this.sdk!;
    // Elicitation and sampling are declared so upstreams offer the tools that need them; each request is relayed to the
    // client of the call that made it, or refused (ClientRequestRelay).
    const capabilities = { elicitation: { form: {} }, sampling: {} };
    // A 2026-07-28 upstream is pinned to that revision; its input_required answers are handed back, not fulfilled here.
    const modern = this.modern ? { versionNegotiation: { mode: { pin: '2026-07-28' as const } }, inputRequired: { autoFulfill: false } } : {};
    const client = new sdk.Client(CLIENT_INFO, { capabilities, jsonSchemaValidator: PASS_THROUGH_OUTPUT, listMaxPages: MAX_TOOL_PAGES, ...modern });
    client.setRequestHandler('elicitation/create', async (req) => (await relay.relay('elicitation/create', req.params)) as unknown as ElicitResult);
    client.setRequestHandler('sampling/createMessage', async (req) => (await relay.relay('sampling/createMessage', req.params)) as unknown as CreateMessageResult);
    // Transport hiccups the SDK recovers from itself (e.g. a GET stream reconnecting); real losses arrive as onclose.
    client.onerror = (err) => {
      // The stdio read buffer and the bounded HTTP streams report a message over the cap with this error, then the
      // connection closes: remembered so the calls the close ends can name the cap.
      if (err instanceof ResultTooLargeError) this.overflowed = true;
      this.log.debug({ upstream: this.name, err: this.scrub(reasonOf(err)) }, 'upstream transport error');
    };
    // Storms of notifications cost at most one re-list per interval (RefreshGate).
    client.setNotificationHandler('notifications/tools/list_changed', () => this.refreshGate.notify());
    client.setNotificationHandler('notifications/resources/list_changed', () => this.onContentChanged?.('resources'));
    client.setNotificationHandler('notifications/prompts/list_changed', () => this.onContentChanged?.('prompts'));
    client.setNotificationHandler('notifications/message', (n) => relay.log(n.params));
    return client;
  }

  private async open(): Promise<{ client: Client; kind: UpstreamTransportKind }> {
    const connectOpts = { timeout: this.timings.connectTimeoutMs };
    const sdk = this.sdk!;
    if (this.config.command) {
      const client = this.newClient(this.clientRequests);
      await client.connect(await this.stdioTransport(this.config.command), connectOpts);
      return { client, kind: 'stdio' };
    }
    // A response stream opened outside any call (the standalone GET stream, the legacy SSE stream) that passes the
    // cap takes the session down with it: its messages cannot be attributed to one call.
    const onStreamOverflow = () => {
      this.overflowed = true;
      const current = this.client;
      if (current) this.lost(current, new ResultTooLargeError(this.timings.resultMaxBytes));
    };
    const { client, kind } = await this.openHttp(this.clientRequests, onStreamOverflow, this.userTokens?.operatorFetch(), this.oauthProvider(sdk));
    return { client, kind };
  }

  /** A caller's own session at an `auth: "user"` upstream: every request it sends carries `session.token`. */
  private async openSession(session: UserSession): Promise<OpenedSession> {
    const { client, transport } = await this.openHttp(session.relay, () => void this.userSessions?.drop(session), bearerFetch(() => session.token));
    // Closed from the other side (the stream ended, the process went): the next request opens a new session.
    client.onclose = () => void this.userSessions?.drop(session);
    let closing: Promise<void> | undefined;
    return {
      client,
      // Once: closing the client fires onclose, which drops (and closes) the session again.
      close: () =>
        (closing ??= (async () => {
          // Ends the session at the upstream too (DELETE, with the session's token), then the local transport.
          await transport.terminateSession?.().catch(() => undefined);
          await client.close().catch(() => undefined);
        })()),
    };
  }

  /** Streamable HTTP, or legacy SSE when the endpoint refuses it; every response read bounded (boundedFetch). */
  private async openHttp(
    relay: ClientRequestRelay,
    onStreamOverflow: () => void,
    base?: typeof fetch,
    authProvider?: OAuthClientProvider,
  ): Promise<{ client: Client; kind: 'streamable-http' | 'sse'; transport: Transport & { terminateSession?: () => Promise<void> } }> {
    const connectOpts = { timeout: this.timings.connectTimeoutMs };
    const sdk = this.sdk!;
    const url = new URL(this.config.url!);
    const requestInit = { headers: this.config.headers ?? {} };
    const fetchBounded = boundedFetch(this.timings.resultMaxBytes, onStreamOverflow, base);
    const client = this.newClient(relay);
    try {
      const transport = new sdk.StreamableHTTPClientTransport(url, { requestInit, authProvider, fetch: fetchBounded });
      await client.connect(transport, connectOpts);
      return { client, kind: 'streamable-http', transport };
    } catch (err) {
      await client.close().catch(() => undefined);
      const status = httpStatusOf(err, sdk);
      // The spec's backwards-compatibility rule: a 4xx to the initialize POST means "try the old HTTP+SSE transport".
      if (status === undefined || status < 400 || status >= 500 || status === 401 || status === 403) throw err;
    }
    const sseClient = this.newClient(relay);
    const transport = new sdk.SSEClientTransport(url, { requestInit, authProvider, fetch: fetchBounded });
    await sseClient.connect(transport, connectOpts);
    return { client: sseClient, kind: 'sse', transport };
  }

  /**
   * The SDK's client-credentials provider: on a 401 the transport discovers the authorization server from the
   * upstream's OAuth metadata, gets a token and retries. One provider per connection, so its token outlives reconnects.
   */
  private oauthProvider(sdk: ClientSdk): OAuthClientProvider | undefined {
    const oauth = this.config.oauth;
    if (!oauth) return undefined;
    if (!this.provider) {
      const options = { clientId: oauth.client_id, clientSecret: oauth.client_secret, clientName: 'omni-hub', scope: oauth.scope };
      this.provider = oauth.issuer ? new sdk.ClientCredentialsProvider({ ...options, expectedIssuer: oauth.issuer }) : new sdk.ClientCredentialsProvider(options);
    }
    return this.provider;
  }

  private async stdioTransport(command: string): Promise<Transport> {
    const [{ getDefaultEnvironment }, { BoundedStdioTransport }] = await Promise.all([
      import('@modelcontextprotocol/client/stdio'),
      import('./stdio-transport.js'),
    ]);
    // One JSON-RPC line may not pass the cap: past it the process is killed at once and restarted (BoundedStdioTransport).
    const transport = new BoundedStdioTransport({
      command,
      args: this.config.args ?? [],
      // Only the SDK's safe default variables (PATH, HOME, ...) plus the entry's own: the hub's secrets stay in the hub.
      env: { ...getDefaultEnvironment(), ...(this.config.env ?? {}) },
      cwd: this.config.cwd,
      maxLineBytes: this.timings.resultMaxBytes,
    });
    this.process = transport;
    createInterface({ input: transport.stderr, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim()) this.log.info({ upstream: this.name, stderr: this.scrub(line.slice(0, MAX_STDERR_LINE)) }, 'upstream stderr');
    });
    return transport;
  }
}
