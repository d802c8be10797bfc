/**
 * The one error type of the hub. Every refusal and failure — from the pipeline or an adapter —
 * is a HubError with a stable `code`; MCP turns it into an `isError` tool result, REST into
 * `{"error": {...}}` with `httpStatus`.
 */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden_host'
  | 'insufficient_scope'
  | 'unknown_tool'
  | 'invalid_arguments'
  | 'invalid_request'
  | 'tool_disabled'
  | 'not_configured'
  | 'confirmation_required'
  | 'approval_required'
  | 'approval_denied'
  | 'quota_exceeded'
  | 'governance_unavailable'
  | 'audit_unavailable'
  | 'auth_error'
  | 'upstream_error'
  /** An `auth: "user"` upstream and a caller without a (valid) grant there: details carry `connect_url`. */
  | 'upstream_auth_required'
  | 'timeout'
  | 'not_found'
  | 'payload_too_large'
  | 'rate_limited'
  /** The call's own client stopped it (an MCP task's `tasks/cancel`). */
  | 'cancelled'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden_host: 403,
  insufficient_scope: 403,
  unknown_tool: 404,
  invalid_arguments: 400,
  invalid_request: 400,
  tool_disabled: 403,
  not_configured: 503,
  confirmation_required: 428,
  approval_required: 428,
  approval_denied: 403,
  quota_exceeded: 429,
  governance_unavailable: 503,
  audit_unavailable: 503,
  auth_error: 502,
  upstream_error: 502,
  upstream_auth_required: 401,
  timeout: 504,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  cancelled: 409,
  internal_error: 500,
};

export class HubError extends Error {
  readonly code: ErrorCode;
  /** Extra structured fields (e.g. `upstream_status`, `variable`, `retry_after_s`, `issues`). */
  readonly details: Record<string, unknown>;
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, httpStatus?: number) {
    super(message);
    this.name = 'HubError';
    this.code = code;
    this.details = details;
    this.httpStatus = httpStatus ?? STATUS[code];
  }

  /** The JSON body shared by REST errors and MCP `isError` results. */
  toJSON(): { code: ErrorCode; message: string } & Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function notConfigured(variable: string, what: string): HubError {
  return new HubError('not_configured', `${what} is not configured: set ${variable}`, { variable });
}

/** Coerces anything thrown into a HubError without leaking stack traces or secrets to the caller. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof Error && err.name === 'AbortError') return new HubError('timeout', 'the operation timed out');
  const message = err instanceof Error ? err.message : String(err);
  return new HubError('internal_error', `internal error: ${message.slice(0, 500)}`);
}

/** The error a signal was aborted with when its call's own client cancelled it (an MCP task's `tasks/cancel`). */
export function cancelledBy(signal: AbortSignal | undefined): HubError | undefined {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return reason instanceof HubError && reason.code === 'cancelled' ? reason : undefined;
}
