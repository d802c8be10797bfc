import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskRunner } from '../../src/mcp/tasks.js';
import { testConfig } from '../helpers/config.js';
import { HubError } from '../../src/tools/errors.js';
import { MemoryOperationStore, runOperation } from '../../src/tools/operations.js';
import type { CallOrigin, InvokeResult } from '../../src/tools/pipeline.js';
import { toolContext } from '../helpers/context.js';

type Call = Omit<CallOrigin, 'principal' | 'transport'>;
const log = { warn: () => undefined, error: () => undefined };

/**
 * The task runner on the in-memory operation store, with a stand-in for the pipeline that hands the test the call it
 * got: progress reaches tasks/get, and a cancellation stays the task's state whatever the running work writes later.
 */
describe('TaskRunner', () => {
  afterEach(() => vi.useRealTimers());

  function runner() {
    const store = new MemoryOperationStore();
    let call: Call | undefined;
    let finish!: (r: InvokeResult) => void;
    const invoke = (_name: string, _args: unknown, _principal: string, c: Call) => {
      call = c;
      return new Promise<InvokeResult>((resolve) => (finish = resolve));
    };
    const tasks = new TaskRunner(store, invoke, (r) => ({ content: [{ type: 'text', text: JSON.stringify(r.ok ? r.data : r.error) }] }), log);
    return { tasks, call: () => call!, finish: (r: InvokeResult) => finish(r) };
  }

  it('answers the latest progress line as statusMessage while the task works', async () => {
    vi.useFakeTimers();
    const t = runner();
    const created = await t.tasks.start('docker_build', {}, 'key:a', {});
    expect(created).not.toHaveProperty('statusMessage');
    t.call().onProgress!({ progress: 1, message: 'Step 1/3 : FROM scratch' });
    t.call().onProgress!({ progress: 2, message: 'Step 2/3 : RUN make' });
    // Progress is written at most every 2 s.
    await vi.advanceTimersByTimeAsync(2_100);
    expect(await t.tasks.get(created.taskId, 'key:a')).toMatchObject({ status: 'working', statusMessage: 'Step 2/3 : RUN make' });
    // Only its principal sees it.
    await expect(t.tasks.get(created.taskId, 'key:b')).rejects.toThrow(/Unknown task/);
  });

  it('a cancelled task stays cancelled when the running work writes progress or finishes afterwards; its call is aborted with "cancelled"', async () => {
    vi.useFakeTimers();
    const t = runner();
    const created = await t.tasks.start('docker_build', {}, 'key:a', {});
    await t.tasks.cancel(created.taskId, 'key:a');
    const signal = t.call().signal!;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: 'cancelled' });

    t.call().onProgress!({ progress: 1, message: 'a line the engine sent before it stopped' });
    await vi.advanceTimersByTimeAsync(2_100);
    expect(await t.tasks.get(created.taskId, 'key:a')).toMatchObject({ status: 'cancelled' });
    // The work ends after all (it finished before it saw the abort): the cancellation stays the outcome.
    t.finish({ ok: true, data: { status: 'built' }, media: [], callId: 'c' } as unknown as InvokeResult);
    await vi.advanceTimersByTimeAsync(10);
    const after = await t.tasks.get(created.taskId, 'key:a');
    expect(after.status).toBe('cancelled');
    expect(after).not.toHaveProperty('result');
  });

  it('the cancellation mark is not a task of its own', async () => {
    const t = runner();
    const created = await t.tasks.start('docker_build', {}, 'key:a', {});
    await t.tasks.cancel(created.taskId, 'key:a');
    await expect(t.tasks.get(`${created.taskId}#cancelled`, 'key:a')).rejects.toThrow(/Unknown task/);
  });
});

describe('runOperation for a caller that owns the work (an MCP task)', () => {
  it('ends with the caller\'s cancellation, never "running", and stores no operation', async () => {
    const controller = new AbortController();
    const ctx = toolContext(testConfig({}), { signal: controller.signal, deadline: Date.now() + 30 * 60_000 });
    const save = vi.spyOn(ctx.services.operations, 'save');
    let workSignal: AbortSignal | undefined;
    const answer = runOperation('docker_build', ctx, (signal) => {
      workSignal = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('socket hang up')), { once: true }));
    });
    controller.abort(new HubError('cancelled', 'docker_build was cancelled by its client (tasks/cancel)'));
    await expect(answer).rejects.toMatchObject({ code: 'cancelled' });
    expect(workSignal!.aborted).toBe(true);
    expect(save).not.toHaveBeenCalled();
  });
});
