import type { Client } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserSessions, type UserSession } from '../../src/upstreams/user-sessions.js';

/**
 * The bookkeeping of callers' own sessions at an `auth: "user"` upstream (the sessions themselves are exercised
 * against a real stateful MCP server in user-auth-paths.test.ts): one per principal, a new one when the grant was
 * replaced, least recently used idle ones closed past the bound, idle ones closed after the idle time, busy ones never.
 */
describe('UserSessions', () => {
  afterEach(() => vi.useRealTimers());

  function sessions(limits: { userSessionsMax: number; userSessionIdleMs: number }) {
    const opened: UserSession[] = [];
    const closed: string[] = [];
    const set = new UserSessions(async (session) => {
      opened.push(session);
      return { client: { principal: session.principal } as unknown as Client, close: async () => void closed.push(`${session.principal}@${session.grantConnectedAt}`) };
    }, limits);
    return { set, opened, closed };
  }
  const grant = (token: string, connected_at = 1) => ({ connected_at, tokens: { access_token: token } });
  const settle = () => new Promise((r) => setImmediate(r));

  it('opens one session per principal, shares it between concurrent requests and carries the latest token', async () => {
    const { set, opened } = sessions({ userSessionsMax: 10, userSessionIdleMs: 60_000 });
    const [a, b] = await Promise.all([set.acquire('alice', grant('t1')), set.acquire('alice', grant('t1'))]);
    expect(a.session).toBe(b.session);
    expect(opened).toHaveLength(1);
    set.release(a.session);
    const c = await set.acquire('alice', grant('t2'));
    expect(c.session).toBe(a.session);
    expect(c.session.token).toBe('t2');
    const bob = await set.acquire('bob', grant('tb'));
    expect(bob.session).not.toBe(a.session);
    expect(opened.map((s) => s.principal)).toEqual(['alice', 'bob']);
    await set.close();
  });

  it('replaces a session when the principal connected again (a new grant may be another upstream account)', async () => {
    const { set, opened, closed } = sessions({ userSessionsMax: 10, userSessionIdleMs: 60_000 });
    const first = await set.acquire('alice', grant('t1', 1));
    set.release(first.session);
    const second = await set.acquire('alice', grant('t2', 2));
    expect(second.session).not.toBe(first.session);
    await settle();
    expect(closed).toEqual(['alice@1']);
    expect(opened).toHaveLength(2);
    await set.close();
  });

  it('closes the least recently used idle session past the bound, never a busy one', async () => {
    const { set, closed } = sessions({ userSessionsMax: 2, userSessionIdleMs: 60_000 });
    const a = await set.acquire('a', grant('x'));
    const b = await set.acquire('b', grant('x'));
    set.release(b.session);
    await set.acquire('c', grant('x'));
    await settle();
    // `a` is the oldest but busy: `b` made room.
    expect(closed).toEqual(['b@1']);
    expect(set.size).toBe(2);
    const d = await set.acquire('d', grant('x'));
    // All busy: the bound is passed for now, and restored as they idle.
    expect(set.size).toBe(3);
    set.release(a.session);
    await settle();
    expect(closed).toEqual(['b@1', 'a@1']);
    expect(set.size).toBe(2);
    set.release(d.session);
    await set.close();
  });

  it('closes a session idle for the idle time, and not while a request is in flight', async () => {
    vi.useFakeTimers();
    const { set, closed } = sessions({ userSessionsMax: 10, userSessionIdleMs: 1_000 });
    const a = await set.acquire('a', grant('x'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(closed).toEqual([]);
    set.release(a.session);
    await vi.advanceTimersByTimeAsync(999);
    expect(closed).toEqual([]);
    const again = await set.acquire('a', grant('x'));
    set.release(again.session);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(closed).toEqual(['a@1']);
    expect(set.size).toBe(0);
    await set.close();
  });

  it('forgets a session that failed to open, so the next request tries again', async () => {
    let fail = true;
    const set = new UserSessions(async () => {
      if (fail) throw new Error('401');
      return { client: {} as Client, close: async () => undefined };
    }, { userSessionsMax: 10, userSessionIdleMs: 60_000 });
    await expect(set.acquire('a', grant('x'))).rejects.toThrow('401');
    expect(set.size).toBe(0);
    fail = false;
    await expect(set.acquire('a', grant('x'))).resolves.toBeDefined();
    await set.close();
  });
});
