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

/** Whole words of a key that mark it as secret ("api_key", "privateKey", "x-auth-token", "password"). */
const SECRET_WORDS = new Set(['key', 'token', 'auth', 'pwd', 'jwt', 'otp', 'pin', 'cookie', 'session']);
/** Substrings of the separator-free key that mark it as secret ("clientsecret", "identitytoken", "authorization"). */
const SECRET_PARTS =
  /(password|passwd|passphrase|secret|authorization|credential|apikey|privatekey|accesskey|accesstoken|refreshtoken|idtoken|identitytoken|authtoken|bearer|signature)/;
/** Values that are credentials whatever their key: bearer headers, GitHub / Google / OpenAI tokens, PEM keys. */
const SECRET_VALUES = [
  /^\s*(bearer|basic)\s+\S{8,}/i,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bAIza[0-9A-Za-z_-]{30,}/,
  /\bya29\.[0-9A-Za-z_-]{20,}/,
  /\bsk-[A-Za-z0-9_-]{20,}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

export function isSecretKey(key: string): boolean {
  const compact = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (SECRET_PARTS.test(compact)) return true;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.has(w));
}

function isSecretValue(value: string): boolean {
  return SECRET_VALUES.some((re) => re.test(value));
}

function truncate(value: string): string {
  if (value.length <= MAX_STRING_CHARS) return value;
  return `${value.slice(0, MAX_STRING_CHARS)}…[truncated ${value.length - MAX_STRING_CHARS} chars]`;
}

function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Budget {
  nodes: number;
  chars: number;
}

export function redactArgs(value: unknown): unknown {
  const budget: Budget = { nodes: 0, chars: 0 };
  return copy(value, 0, new WeakSet<object>(), budget);
}

function copy(value: unknown, depth: number, ancestors: WeakSet<object>, budget: Budget): unknown {
  budget.nodes += 1;
  if (budget.nodes > MAX_NODES) return '[truncated: too many values]';
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string': {
      if (isSecretValue(value)) return REDACTED;
      if (budget.chars >= MAX_TOTAL_CHARS) return `[truncated: ${value.length} chars over the record size budget]`;
      const kept = truncate(value);
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
  if (ancestors.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated: too deep]';
  ancestors.add(obj);
  try {
    if (Array.isArray(obj) || obj instanceof Set) {
      const items = Array.isArray(obj) ? obj : [...obj];
      const out: unknown[] = items.slice(0, MAX_ENTRIES).map((item) => copy(item, depth + 1, ancestors, budget));
      if (items.length > MAX_ENTRIES) out.push(`[truncated: ${items.length - MAX_ENTRIES} more items]`);
      return out;
    }
    const entries = obj instanceof Map ? [...obj.entries()].map(([k, v]) => [String(k), v] as const) : ownEntries(obj);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries.slice(0, MAX_ENTRIES)) {
      setOwn(out, key, isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : copy(item, depth + 1, ancestors, budget));
    }
    if (entries.length > MAX_ENTRIES) setOwn(out, '[truncated]', `${entries.length - MAX_ENTRIES} more keys`);
    return out;
  } finally {
    ancestors.delete(obj);
  }
}

/** Own enumerable entries; a throwing getter yields a marker instead of failing the audit write. */
function ownEntries(obj: object): (readonly [string, unknown])[] {
  return Object.keys(obj).map((key) => {
    try {
      return [key, (obj as Record<string, unknown>)[key]] as const;
    } catch {
      return [key, '[unreadable]'] as const;
    }
  });
}
