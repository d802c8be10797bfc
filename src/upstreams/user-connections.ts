import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { auditTimestamp, type AuditStore } from '../governance/audit.js';
import { HubError } from '../tools/errors.js';
import { CALLBACK_PATH, UpstreamUserAuth, type PendingConnect } from './user-auth.js';
import { CredentialVault, type Grant, type GrantInfo } from './vault.js';

/** openid-client's errors say "invalid response encountered" and keep the reason (e.g. a wrong `iss`) in their cause. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return 'code exchange failed';
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 200);
}

/** A connect link lives this long and opens one flow; the flow then has the same time to come back. */
export const CONNECT_TTL_S = 600;
const TICKET = 'ticket';
const FLOW = 'flow';

interface Ticket {
  upstream: string;
  principal: string;
}

interface Flow extends PendingConnect {
  /** Random value of the browser cookie set when the flow started: the callback must come from that browser. */
  browser: string;
}

/** One `auth: "user"` upstream as the console shows it. */
export interface UpstreamLogins {
  upstream: string;
  grants: GrantInfo[];
  /** Whether an operator (hub key) has a grant here: the listing connection uses it. */
  operator_connected: boolean;
  /** The tool list every caller sees, as last listed with an operator's grant; null until one has listed it. */
  tool_list: { tools: number; listed_at?: number } | null;
}

/** Principals that see and revoke everyone's upstream logins: hub keys (operators) and the open hub. */
export const isOperator = (principal: string) => principal.startsWith('key:') || principal === 'anonymous';

/**
 * Everything about `auth: "user"` upstreams the HTTP routes and tool calls need: the vault, one authorization flow per
 * upstream, connect links and audit records (connect, refresh failure, revoke: principal, upstream and scopes only).
 */
export class UserConnections {
  private readonly flows = new Map<string, UpstreamUserAuth>();
  /** Told after a principal connected (the upstream's shared connection may now list its tools). */
  onConnected?: (upstream: string, principal: string) => void;
  /** Told before a principal's login is revoked here: their session at the upstream ends while its token still works. */
  onDisconnected?: (upstream: string, principal: string) => Promise<void>;

  constructor(
    private readonly config: Config,
    readonly vault: CredentialVault,
    private readonly audit: AuditStore,
    private readonly log: FastifyBaseLogger,
  ) {
    for (const u of config.upstreams) if (u.auth === 'user') this.flows.set(u.name, new UpstreamUserAuth(u, vault, config.publicUrl));
    vault.onRefreshFailure = (grant, reason) => {
      this.log.warn({ upstream: grant.upstream, principal: grant.principal, reason }, 'upstream token refresh failed');
      this.record('refresh', grant.upstream, grant.principal, 'error', {}, { code: 'refresh_failed', message: reason });
    };
  }

  static async open(config: Config, log: FastifyBaseLogger, audit: AuditStore): Promise<UserConnections> {
    return new UserConnections(config, await CredentialVault.open(config, log), audit, log);
  }

  close(): Promise<void> {
    return this.vault.close();
  }

  get upstreams(): string[] {
    return [...this.flows.keys()];
  }

  flow(upstream: string): UpstreamUserAuth {
    const f = this.flows.get(upstream);
    if (!f) throw new HubError('not_found', `no upstream "${upstream.slice(0, 40)}" with "auth": "user"`);
    return f;
  }

  /** Where the hub is reached from a browser: PUBLIC_URL, else this machine's own port (a laptop). */
  base(requestBase?: string): string {
    return this.config.publicUrl ?? requestBase ?? `http://localhost:${this.config.port}`;
  }

  /** A single-use link that starts `principal`'s login at `upstream` in whichever browser opens it. */
  async connectUrl(upstream: string, principal: string, requestBase?: string): Promise<string> {
    this.flow(upstream);
    const ticket = randomBytes(32).toString('base64url');
    await this.vault.putOnce(TICKET, ticket, JSON.stringify({ upstream, principal } satisfies Ticket), CONNECT_TTL_S);
    return `${this.base(requestBase)}/connect/${upstream}?ticket=${ticket}`;
  }

  /** The grant for a call; `upstream_auth_required` (with a fresh connect link) when there is no usable one. */
  async grant(upstream: string, principal: string): Promise<Grant> {
    try {
      return await this.flow(upstream).usableGrant(principal, () => this.connectUrl(upstream, principal));
    } catch (err) {
      if (err instanceof HubError) throw err;
      // The authorization server could not renew an expired token (unreachable, 5xx): the grant stays for a retry.
      throw new HubError('upstream_error', `your login at upstream "${upstream}" expired and could not be renewed now: ${reasonOf(err)}`, { upstream });
    }
  }

  /** Opens a connect link: the authorization server's URL and the cookie value that binds the flow to this browser. */
  async begin(upstream: string, ticketId: string, requestBase: string): Promise<{ url: string; browser: string; state: string }> {
    const text = await this.vault.takeOnce(TICKET, ticketId);
    const ticket = text ? (JSON.parse(text) as Ticket) : undefined;
    if (!ticket || ticket.upstream !== upstream) {
      throw new HubError('invalid_request', 'this connect link is unknown, used already or expired: ask for a new one (call the tool again, or use the console)');
    }
    const { url, pending } = await this.flow(upstream).start(ticket.principal, `${this.base(requestBase)}${CALLBACK_PATH}`);
    const browser = randomBytes(32).toString('base64url');
    await this.vault.putOnce(FLOW, pending.state, JSON.stringify({ ...pending, browser } satisfies Flow), CONNECT_TTL_S);
    return { url, browser, state: pending.state };
  }

  /** The authorization server's answer: state, browser, PKCE and issuer checked, the grant stored. */
  async complete(currentUrl: URL, browserOf: (state: string) => string | undefined): Promise<GrantInfo> {
    const state = currentUrl.searchParams.get('state') ?? '';
    const text = state ? await this.vault.takeOnce(FLOW, state) : undefined;
    const flow = text ? (JSON.parse(text) as Flow) : undefined;
    if (!flow) throw new HubError('invalid_request', 'this sign-in is unknown, finished already or expired: start again from the connect link');
    if (browserOf(state) !== flow.browser) throw new HubError('invalid_request', 'this sign-in was started in another browser: start again from the connect link in this one');
    const error = currentUrl.searchParams.get('error');
    if (error) {
      this.record('connect', flow.upstream, flow.principal, 'error', {}, { code: error.slice(0, 60), message: 'the authorization server refused' });
      throw new HubError('invalid_request', `the authorization server of "${flow.upstream}" answered ${error.slice(0, 60)}`);
    }
    try {
      const grant = await this.flow(flow.upstream).finish(currentUrl, flow);
      this.record('connect', flow.upstream, flow.principal, 'ok', { scope: grant.scope ?? null });
      this.onConnected?.(flow.upstream, flow.principal);
      const { tokens: _tokens, ...info } = grant;
      return info;
    } catch (err) {
      const message = reasonOf(err);
      this.record('connect', flow.upstream, flow.principal, 'error', {}, { code: 'connect_failed', message });
      throw new HubError('auth_error', `connecting to "${flow.upstream}" failed: ${message}`);
    }
  }

  /** Revokes `principal`'s grant at `upstream` (at the authorization server too, where it offers revocation). */
  async disconnect(upstream: string, principal: string, by: string): Promise<{ revoked_at_upstream: boolean; existed: boolean }> {
    const existed = (await this.vault.get(upstream, principal)) !== undefined;
    await this.onDisconnected?.(upstream, principal).catch(() => undefined);
    let revoked = false;
    try {
      revoked = (await this.flow(upstream).disconnect(principal)).revoked;
    } catch (err) {
      // Deleted here whatever the server said; its refusal is worth an audit line, not a failed disconnect.
      this.log.warn({ upstream, principal, reason: err instanceof Error ? err.message.slice(0, 200) : 'revocation failed' }, 'upstream token revocation failed');
    }
    if (existed) this.record('revoke', upstream, by, 'ok', { principal, revoked_at_upstream: revoked });
    return { revoked_at_upstream: revoked, existed };
  }

  /**
   * Per upstream: the grants `principal` may see (an operator all of them), and the state of its tool list, which is
   * the same for every principal and instance: listed with an operator's grant (when, how many tools), or not yet.
   */
  async list(principal: string): Promise<UpstreamLogins[]> {
    const out: UpstreamLogins[] = [];
    for (const upstream of this.upstreams) {
      const grants = await this.vault.list(upstream);
      const listed = await this.vault.getTools(upstream);
      out.push({
        upstream,
        grants: isOperator(principal) ? grants : grants.filter((g) => g.principal === principal),
        operator_connected: grants.some((g) => isOperator(g.principal)),
        tool_list: listed ? { tools: listed.tools.length, ...(listed.listed_at ? { listed_at: listed.listed_at } : {}) } : null,
      });
    }
    return out;
  }

  private record(action: 'connect' | 'refresh' | 'revoke', upstream: string, principal: string, outcome: 'ok' | 'error', args: Record<string, unknown>, error?: { code: string; message: string }): void {
    this.audit.append({
      id: randomUUID(),
      ts: auditTimestamp(),
      tool: `${upstream}.${action}`,
      system: upstream,
      level: null,
      principal,
      transport: 'rest',
      outcome,
      duration_ms: 0,
      args,
      ...(error ? { error } : {}),
    });
  }
}
