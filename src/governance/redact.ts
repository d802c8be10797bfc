/**
 * Audit-safe copy of tool arguments: secret-looking keys and values are replaced, long strings truncated, depth and
 * size bounded. Own-property writes (defineProperty) keep "__proto__"/"constructor" keys inert, and cycles are cut.
 */

export const REDACTED = '[REDACTED]';
export const MAX_STRING_CHARS = 1_000;
const MAX_DEPTH = 8;
const MAX_ENTRIES = 100;
/** Total values copied per call; the rest is summarised. */
const MAX_NODES = 2_000;
/** Total string characters kept per call, so one audit record stays small whatever the arguments. */
const MAX_TOTAL_CHARS = 20_000;
/** Characters of one string scanned for credentials: what is kept plus room for a token cut at the boundary. */
const SCAN_CHARS = MAX_STRING_CHARS + 1_000;

/** Whole words of a key that mark it as secret ("api_key", "privateKey", "x-auth-token", "password"). */
const SECRET_WORDS = new Set(['key', 'token', 'auth', 'pwd', 'pat', 'jwt', 'otp', 'pin', 'cookie', 'session']);
/** Substrings of the separator-free key that mark it as secret ("clientsecret", "identitytoken", "authorization"). */
const SECRET_PARTS =
  /(password|passwd|passphrase|secret|authorization|credential|apikey|privatekey|accesskey|accesstoken|refreshtoken|idtoken|identitytoken|authtoken|bearer|signature)/;
/**
 * Credential shapes found inside any text, whatever the key it sits under: bearer/basic header values, well-known
 * token prefixes (GitHub, GitLab, Google, OpenAI-style, Slack), AWS access key ids and URL userinfo. Every pattern is
 * anchored on a literal prefix and uses bounded or non-overlapping classes, so a scan is linear in the text length.
 * A shape added here needs its prefix in MAY_HOLD_CREDENTIAL too (the test of each shape on its own checks it).
 */
const CREDENTIAL_SHAPES: readonly RegExp[] = [
  /\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\bya29\.[0-9A-Za-z_.-]{20,}/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
];
/** `scheme://userinfo@`: the userinfo (user, or user:password) is replaced, the scheme and host kept. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)[^\s/@?#]{1,512}@/gi;
/** `NAME=value` / `NAME: value` where NAME is secret-named (`GITLAB_PAT=...`, `password: ...`, `?access_token=...`). */
const NAMED_VALUE = /\b([A-Za-z_][A-Za-z0-9_.-]{0,63})(\s?=\s?|:\s?(?!\/\/))([^\s&;,'"]+)/g;
const PEM_BEGIN = '-----BEGIN ';
const PEM_END = '-----END ';

export function isSecretKey(key: string): boolean {
  const known = secretKeyVerdicts.get(key);
  if (known !== undefined) return known;
  const verdict = classifyKey(key);
  // Tool argument names repeat call after call: their verdicts are kept (a bounded set, cleared when full).
  if (key.length <= 64) {
    if (secretKeyVerdicts.size >= MAX_REMEMBERED_KEYS) secretKeyVerdicts.clear();
    secretKeyVerdicts.set(key, verdict);
  }
  return verdict;
}
const MAX_REMEMBERED_KEYS = 2_000;
const secretKeyVerdicts = new Map<string, boolean>();

function classifyKey(key: string): boolean {
  const compact = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (SECRET_PARTS.test(compact)) return true;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.has(w));
}

/**
 * A text none of whose characters could start a credential shape needs no scan: every shape below needs one of these
 * (a scheme's "://" and a NAME=value pair need ":" or "="; PEM blocks start with "-----"). A superset test: a match
 * only means the full scan runs.
 */
const MAY_HOLD_CREDENTIAL = /bearer|basic|gh[pousr]_|github_pat_|glpat-|aiza|ya29\.|sk-|xox[abposr]-|akia|asia|[:=]|-----/i;

/**
 * Replaces every credential-shaped part of a text with REDACTED: the shapes above, URL userinfo, values of
 * secret-named `NAME=value` pairs and PEM private key blocks (to their END line, or to the end of the text).
 */
export function scrubCredentials(text: string): string {
  if (!MAY_HOLD_CREDENTIAL.test(text)) return text;
  let out = scrubPem(text);
  for (const re of CREDENTIAL_SHAPES) out = out.replace(re, REDACTED);
  out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  return out.replace(NAMED_VALUE, (whole, name: string, sep: string, value: string) =>
    value !== REDACTED && isSecretKey(name) ? `${name}${sep}${REDACTED}` : whole,
  );
}

function scrubPem(text: string): string {
  let at = text.indexOf(PEM_BEGIN);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  while (at >= 0) {
    const headerEnd = text.indexOf('-----', at + PEM_BEGIN.length);
    const header = headerEnd < 0 ? '' : text.slice(at, headerEnd);
    if (!header.endsWith('PRIVATE KEY') || header.length > 60) {
      at = text.indexOf(PEM_BEGIN, at + PEM_BEGIN.length);
      continue;
    }
    const end = text.indexOf(PEM_END, headerEnd);
    const endLine = end < 0 ? -1 : text.indexOf('-----', end + PEM_END.length);
    const stop = endLine < 0 ? text.length : endLine + 5;
    out += text.slice(from, at) + REDACTED;
    from = stop;
    at = text.indexOf(PEM_BEGIN, stop);
  }
  return out + text.slice(from);
}

function truncate(value: string, originalLength: number): string {
  if (value.length <= MAX_STRING_CHARS && originalLength <= MAX_STRING_CHARS) return value;
  return `${value.slice(0, MAX_STRING_CHARS)}…[truncated ${Math.max(0, originalLength - MAX_STRING_CHARS)} chars]`;
}

/** A plain own property, `__proto__` included (assigning that key would set the prototype instead). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

interface Budget {
  nodes: number;
  chars: number;
}

export function redactArgs(value: unknown): unknown {
  const budget: Budget = { nodes: 0, chars: 0 };
  return copy(value, 0, [], budget);
}

/** `ancestors` is the path from the root (at most MAX_DEPTH objects): a short array beats a WeakSet per call. */
function copy(value: unknown, depth: number, ancestors: object[], budget: Budget): unknown {
  budget.nodes += 1;
  if (budget.nodes > MAX_NODES) return '[truncated: too many values]';
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string': {
      if (budget.chars >= MAX_TOTAL_CHARS) return `[truncated: ${value.length} chars over the record size budget]`;
      // Only what is kept is scanned (plus room for a token cut by the truncation), so the cost stays bounded.
      const kept = truncate(scrubCredentials(value.length > SCAN_CHARS ? value.slice(0, SCAN_CHARS) : value), value.length);
      budget.chars += Math.min(value.length, MAX_STRING_CHARS);
      return kept;
    }
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return `[${typeof value}]`;
  }
  const obj = value as object;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (ArrayBuffer.isView(obj)) return `[binary ${obj.byteLength} bytes]`;
  if (obj instanceof ArrayBuffer) return `[binary ${obj.byteLength} bytes]`;
  if (ancestors.includes(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated: too deep]';
  ancestors.push(obj);
  try {
    if (Array.isArray(obj) || obj instanceof Set) {
      const items = Array.isArray(obj) ? obj : [...obj];
      const out: unknown[] = items.slice(0, MAX_ENTRIES).map((item) => copy(item, depth + 1, ancestors, budget));
      if (items.length > MAX_ENTRIES) out.push(`[truncated: ${items.length - MAX_ENTRIES} more items]`);
      return out;
    }
    const { entries, more } = obj instanceof Map ? mapEntries(obj) : ownEntries(obj);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      setOwn(out, key, isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : copy(item, depth + 1, ancestors, budget));
    }
    if (more > 0) setOwn(out, '[truncated]', `${more >= MAX_COUNTED ? `${MAX_COUNTED}+` : more} more keys`);
    return out;
  } finally {
    ancestors.pop();
  }
}

/** Keys counted (not read) past MAX_ENTRIES, so a huge object costs a bounded walk. */
const MAX_COUNTED = MAX_NODES;

interface Entries {
  entries: (readonly [string, unknown])[];
  /** Keys left out (counted up to MAX_COUNTED). */
  more: number;
}

/**
 * The first MAX_ENTRIES own enumerable entries; a throwing getter yields a marker instead of failing the audit write.
 * for-in stops where we stop: neither every key nor every value of a huge object is listed.
 */
function ownEntries(obj: object): Entries {
  const entries: (readonly [string, unknown])[] = [];
  let more = 0;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    if (entries.length < MAX_ENTRIES) entries.push([key, readOwn(obj, key)]);
    else if (++more >= MAX_COUNTED) break;
  }
  return { entries, more };
}

function readOwn(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function mapEntries(map: Map<unknown, unknown>): Entries {
  const entries: (readonly [string, unknown])[] = [];
  for (const [k, v] of map) {
    if (entries.length >= MAX_ENTRIES) break;
    entries.push([String(k), v]);
  }
  return { entries, more: Math.max(0, map.size - MAX_ENTRIES) };
}
