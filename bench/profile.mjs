// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per origin (our code, a package, Node).
import { readFileSync } from 'node:fs';

function origin(url) {
  if (!url) return '(native/V8)';
  // Node's bundled undici is what `fetch` runs on: named apart so its cost shows.
  if (url.startsWith('node:internal/deps/undici')) return 'undici (inside Node: fetch)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (/\/dist(-bench)?\/(src|bench|test)\//.test(url) || /\/dist\//.test(url)) return 'omni-hub (ours)';
  return url;
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const d = /\/(dist(?:-bench)?\/.*)$/.exec(url);
  return d ? d[1] : url.replace(/^file:\/\//, '');
}

/** Self time per call frame (sum of the sample time deltas landing on it), sorted, with percentages. */
export function summariseProfile(file, top = 20) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (socket writes, JSON) are attributed to the nearest JavaScript caller so the table says whose they are.
  const caller = (id) => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = nodes.get(p).callFrame;
      if (f.url) return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    }
    return '';
  };
  const perFrame = new Map();
  const perOrigin = new Map();
  const oursInclusive = new Map();
  const originInclusive = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const node = nodes.get(id);
    if (!node) return;
    const f = node.callFrame;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName.startsWith('(') ? '' : `native, called from ${caller(id)}`;
    const key = `${f.functionName || '(anonymous)'}\t${where}`;
    perFrame.set(key, (perFrame.get(key) ?? 0) + dt);
    const o = f.functionName.startsWith('(') && !f.url ? f.functionName : origin(f.url);
    perOrigin.set(o, (perOrigin.get(o) ?? 0) + dt);
    total += dt;
    // Inclusive time of our own functions: each distinct frame of ours on the sampled stack gets the sample once.
    // Inclusive time per origin likewise: a package (or Node) is charged once per sample it is anywhere on the stack.
    const seen = new Set();
    const seenOrigins = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const cf = nodes.get(n).callFrame;
      if (cf.url) {
        const org = origin(cf.url);
        if (!seenOrigins.has(org)) {
          seenOrigins.add(org);
          originInclusive.set(org, (originInclusive.get(org) ?? 0) + dt);
        }
      }
      if (origin(cf.url) !== 'omni-hub (ours)') continue;
      const k = `${cf.functionName || '(anonymous)'}\t${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      oursInclusive.set(k, (oursInclusive.get(k) ?? 0) + dt);
    }
  });
  const pct = (v) => Math.round((1000 * v) / total) / 10;
  const sort = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    total_ms: Math.round(total / 1000),
    samples: prof.samples.length,
    functions: sort(perFrame)
      .slice(0, top)
      .map(([k, v]) => {
        const [fn, where] = k.split('\t');
        return { function: fn, where, self_ms: Math.round(v / 1000), pct: pct(v) };
      }),
    ours_inclusive: sort(oursInclusive)
      .slice(0, 12)
      .map(([k, v]) => {
        const [fn, where] = k.split('\t');
        return { function: fn, where, total_ms: Math.round(v / 1000), pct: pct(v) };
      }),
    origins_inclusive: sort(originInclusive)
      .slice(0, 15)
      .map(([o, v]) => ({ origin: o, total_ms: Math.round(v / 1000), pct: pct(v) })),
    origins: sort(perOrigin).map(([o, v]) => ({ origin: o, self_ms: Math.round(v / 1000), pct: pct(v) })),
  };
}
