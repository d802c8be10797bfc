import { describe, expect, it } from 'vitest';
import { CallTracker } from '../../src/tools/call-tracker.js';

describe('CallTracker', () => {
  it('is idle at once with no call in flight', async () => {
    await expect(new CallTracker().whenIdle()).resolves.toBeUndefined();
  });

  it('resolves whenIdle only after the last call in flight settles', async () => {
    const calls = new CallTracker();
    calls.started();
    calls.started();
    let idle = false;
    const waiting = calls.whenIdle().then(() => (idle = true));
    calls.settled();
    await Promise.resolve();
    expect(idle).toBe(false);
    calls.settled();
    await waiting;
    expect(idle).toBe(true);
    // A later burst gets a fresh wait.
    calls.started();
    let again = false;
    const next = calls.whenIdle().then(() => (again = true));
    await Promise.resolve();
    expect(again).toBe(false);
    calls.settled();
    await next;
    expect(again).toBe(true);
  });

  it('aborts every running call and none that finished, whatever the order they finish in', () => {
    const calls = new CallTracker();
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const entries = controllers.map((c) => calls.run(c));
    // Finished: the newest (list head), one in the middle and the oldest (list tail).
    calls.finish(entries[4]!);
    calls.finish(entries[2]!);
    calls.finish(entries[0]!);
    calls.abortAll(new Error('shutting down'));
    expect(controllers.map((c) => c.signal.aborted)).toEqual([false, true, false, true, false]);
    expect((controllers[1]!.signal.reason as Error).message).toBe('shutting down');
  });

  it('keeps the list whole when an abort listener finishes its own call synchronously', () => {
    const calls = new CallTracker();
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const entries = controllers.map((c) => calls.run(c));
    controllers[2]!.signal.addEventListener('abort', () => calls.finish(entries[2]!));
    calls.abortAll('stop');
    expect(controllers.every((c) => c.signal.aborted)).toBe(true);
    // Finished entries are unlinked: aborting again reaches only the two still registered.
    const later = new AbortController();
    calls.run(later);
    calls.abortAll('again');
    expect(later.signal.aborted).toBe(true);
  });
});
