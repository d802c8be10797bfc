import type { Client } from '@modelcontextprotocol/client';
import { ClientRequestRelay } from './client-requests.js';

export interface UserSessionLimits {
  /** Most sessions one `auth: "user"` upstream keeps open; past it the least recently used idle one is closed. */
  userSessionsMax: number;
  /** A session without a request in flight for this long is closed (and ended at the upstream). */
  userSessionIdleMs: number;
}

/** What opening a session gives: the connected client and how to end the session at the upstream. */
export interface OpenedSession {
  client: Client;
  close(): Promise<void>;
}

/**
 * One principal's own MCP session at an `auth: "user"` upstream: initialized with that principal's token, and every
 * request on it (calls, the standalone stream, the final DELETE) carries that principal's token. Upstreams bind
 * sessions to the user who opened them, so a session is never lent to another principal, and it is replaced when
 * the principal's grant was replaced (a reconnect may be another upstream account).
 */
export class UserSession {
  /** Elicitation and sampling the upstream sends on this session go to a call of this principal only. */
  readonly relay = new ClientRequestRelay();
  busy = 0;
  idleTimer?: NodeJS.Timeout;
  opened!: Promise<OpenedSession>;

  constructor(
    readonly principal: string,
    /** When the grant the session was opened with was connected: another value means another grant. */
    readonly grantConnectedAt: number,
    /** The access token the session's requests carry: the principal's latest (refreshes replace it). */
    public token: string,
  ) {}
}

/**
 * The open sessions of one `auth: "user"` upstream, one per principal: least recently used first, at most
 * `userSessionsMax` (an idle one is closed to make room; sessions with requests in flight are never closed for room),
 * each closed after `userSessionIdleMs` without a request in flight.
 */
export class UserSessions {
  private readonly sessions = new Map<string, UserSession>();
  private closed = false;

  constructor(
    private readonly open: (session: UserSession) => Promise<OpenedSession>,
    private readonly limits: UserSessionLimits,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The principal's session for one request (opened when needed), with its token set; give it back with release(). */
  async acquire(principal: string, grant: { connected_at: number; tokens: { access_token: string } }): Promise<{ session: UserSession; client: Client }> {
    if (this.closed) throw new Error('the upstream connection is closed');
    let session = this.sessions.get(principal);
    if (session && session.grantConnectedAt !== grant.connected_at) {
      void this.drop(session);
      session = undefined;
    }
    if (session) {
      // Most recently used last.
      this.sessions.delete(principal);
      this.sessions.set(principal, session);
      session.token = grant.tokens.access_token;
    } else {
      session = new UserSession(principal, grant.connected_at, grant.tokens.access_token);
      this.sessions.set(principal, session);
      session.opened = this.open(session);
    }
    session.busy += 1;
    clearTimeout(session.idleTimer);
    this.makeRoom();
    try {
      return { session, client: (await session.opened).client };
    } catch (err) {
      this.release(session);
      void this.drop(session);
      throw err;
    }
  }

  release(session: UserSession): void {
    session.busy -= 1;
    if (session.busy > 0 || this.sessions.get(session.principal) !== session) return;
    // Sessions opened past the bound while every other one was busy are closed as soon as they idle.
    this.makeRoom();
    if (this.sessions.get(session.principal) !== session) return;
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => {
      if (session.busy === 0) void this.drop(session);
    }, this.limits.userSessionIdleMs);
    session.idleTimer.unref();
  }

  /** Ends a session (its transport failed, the upstream refused it, or it idled): the next request opens a new one. */
  drop(session: UserSession): Promise<void> {
    if (this.sessions.get(session.principal) === session) this.sessions.delete(session.principal);
    clearTimeout(session.idleTimer);
    return session.opened.then((s) => s.close()).catch(() => undefined);
  }

  /** Ends the principal's session, if any (their grant is being revoked, or was replaced). */
  async dropPrincipal(principal: string): Promise<void> {
    const session = this.sessions.get(principal);
    if (session) await this.drop(session);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions.values()].map((s) => this.drop(s)));
  }

  private makeRoom(): void {
    for (const s of this.sessions.values()) {
      if (this.sessions.size <= this.limits.userSessionsMax) return;
      if (s.busy === 0) void this.drop(s);
    }
  }
}
