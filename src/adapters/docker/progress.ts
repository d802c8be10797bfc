/**
 * Reads the JSON-lines progress stream of pull / build / push to its end and condenses it: the final
 * image ID or digest, the last meaningful lines, and the first error object the Engine put in the stream
 * (`{"errorDetail": {...}, "error": "..."}`), which arrives with HTTP 200 and must never look like success.
 */

export const KEPT_LINES = 15;

export interface ProgressSummary {
  events: number;
  lines: string[];
  image_id?: string;
  digest?: string;
  error?: string;
}

interface ProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: unknown;
  stream?: string;
  aux?: { ID?: string; Digest?: string; Tag?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

const DIGEST = /(sha256:[a-f0-9]{64})/;

function apply(summary: ProgressSummary, ev: ProgressEvent): void {
  summary.events += 1;
  if (ev.error || ev.errorDetail) {
    summary.error ??= ev.errorDetail?.message || ev.error || 'unknown error';
    summary.lines.push(`ERROR: ${ev.errorDetail?.message || ev.error}`);
  }
  if (ev.aux?.ID) summary.image_id = ev.aux.ID;
  if (ev.aux?.Digest) summary.digest = ev.aux.Digest;
  if (typeof ev.stream === 'string') {
    for (const line of ev.stream.split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
      const built = /^Successfully built ([a-f0-9]+)/.exec(line);
      if (built && !summary.image_id) summary.image_id = built[1];
      summary.lines.push(line);
    }
  }
  // Per-layer byte counters ("Downloading", "Extracting" with progressDetail) are noise in a summary.
  if (ev.status && !ev.progress) {
    const line = ev.id ? `${ev.id}: ${ev.status}` : ev.status;
    const digest = DIGEST.exec(ev.status);
    if (digest && /digest/i.test(ev.status)) summary.digest = digest[1];
    summary.lines.push(line);
  }
  if (summary.lines.length > KEPT_LINES * 4) summary.lines.splice(0, summary.lines.length - KEPT_LINES);
}

/**
 * Resolves when the stream ends; rejects on a transport error (connection reset, abort). `onLine` hears each new
 * meaningful line (not the per-layer byte counters) with the count of events so far: MCP progress for the caller.
 */
export function consumeProgress(stream: NodeJS.ReadableStream, onLine?: (events: number, line: string) => void): Promise<ProgressSummary> {
  const summary: ProgressSummary = { events: 0, lines: [] };
  let buffered = '';
  let reported: string | undefined;
  const handleLine = (raw: string) => {
    const line = raw.trim();
    if (!line) return;
    try {
      apply(summary, JSON.parse(line) as ProgressEvent);
    } catch {
      summary.lines.push(line.slice(0, 500));
    }
    const last = summary.lines.at(-1);
    if (onLine && last !== undefined && last !== reported) {
      reported = last;
      onLine(summary.events, last);
    }
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) return reject(err);
      handleLine(buffered);
      summary.lines = summary.lines.slice(-KEPT_LINES);
      resolve(summary);
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handleLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on('error', (err: Error) => finish(err));
    stream.on('end', () => finish());
    stream.on('close', () => finish());
  });
}
