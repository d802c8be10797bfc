import type { ToolServices } from '../../tools/types.js';
import type { ConnectionStatus } from '../../tools/types.js';

/** Store reachable and migrated (shared by the intelligence and connector systems' check()). */
export async function probeStore(services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  try {
    const store = await abortable(services.intelligence(), signal);
    await abortable(store.ping(), signal);
    return { state: 'connected', detail: store.kind === 'postgres' ? 'PostgreSQL' : 'embedded SQLite' };
  } catch (err) {
    return { state: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('check aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('check timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
