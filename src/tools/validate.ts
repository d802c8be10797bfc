import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { z } from 'zod';
import { boundedUnknownKeys } from './limits.js';

/** One argument problem as callers see it (`invalid_arguments.issues`). */
export interface ArgumentIssue {
  field: string;
  message: string;
}

export type ArgumentCheck = { ok: true; data: Record<string, unknown> } | { ok: false; issues: ArgumentIssue[] };

/** Checks a call's raw arguments; built once per registered tool (zod for built-in tools, Ajv for upstream ones). */
export type ArgumentValidator = (raw: unknown) => ArgumentCheck;

const MAX_ISSUES = 50;

/** Top-level argument names the schema does not declare. */
function unknownFields(shape: Record<string, unknown>, raw: unknown): string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  return boundedUnknownKeys(shape, raw, MAX_ISSUES).map((k) => k.slice(0, 100));
}

/** Built-in tools: the zod schema, plus a refusal of undeclared fields. */
export function zodValidator(schema: z.ZodObject): ArgumentValidator {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    const unknown = unknownFields(schema.shape, raw);
    if (parsed.success && !unknown.length) return { ok: true, data: parsed.data as Record<string, unknown> };
    // A misspelt or invented field is an error, not silently dropped: `dry_run` sent to a tool that has none must
    // not run the real action.
    const issues = [
      ...(parsed.success ? [] : parsed.error.issues.slice(0, MAX_ISSUES).map((i) => ({ field: i.path.map(String).join('.') || '(root)', message: i.message }))),
      ...unknown.map((field) => ({ field, message: "unknown field (not in this tool's input schema)" })),
    ];
    return { ok: false, issues };
  };
}

/** Bounds on an upstream tool's input schema: its JSON text and its nesting. Larger schemas are not served. */
export const SCHEMA_MAX_CHARS = 100_000;
export const SCHEMA_MAX_DEPTH = 32;

type AjvModule = typeof import('ajv/dist/2020.js');
type RegExpEngine = ((pattern: string, flags: string) => { test(s: string): boolean }) & { code: string };

let loaded: { Ajv: AjvModule['Ajv2020']; regExp: RegExpEngine } | undefined;

/**
 * Ajv and the regular-expression engine for `pattern`/`patternProperties`, loaded on first use (a hub without
 * upstreams never pays for them). Upstream schemas are whatever their authors wrote, so their patterns run on RE2JS:
 * linear in the input, pure JavaScript, so a pattern such as `^(a+)+$` cannot stall the event loop. Patterns RE2
 * does not support (lookaround, backreferences) make the schema unusable and its tool is not served.
 */
function ajvParts(): NonNullable<typeof loaded> {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const { Ajv2020 } = require('ajv/dist/2020.js') as AjvModule;
    const { RE2JS } = require('re2js') as typeof import('re2js');
    const regExp: RegExpEngine = Object.assign((pattern: string) => RE2JS.compile(pattern), { code: 'RE2JS.compile' });
    loaded = { Ajv: Ajv2020, regExp };
  }
  return loaded;
}

/** Depth of a JSON value's nesting, counted without recursion (a hostile schema cannot exhaust the stack). */
function jsonDepth(value: unknown, max: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > max) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function ajvIssue(e: ErrorObject): ArgumentIssue {
  const path = e.instancePath.split('/').filter(Boolean);
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (params.missingProperty) path.push(params.missingProperty);
  if (params.additionalProperty) path.push(params.additionalProperty);
  return { field: path.join('.').slice(0, 200) || '(root)', message: e.message ?? e.keyword };
}

/** Keywords whose values are data, not schemas: a `pattern` key inside them is not a regular expression. */
const DATA_KEYWORDS = new Set(['const', 'default', 'enum', 'examples']);

/** Every regular expression a schema holds (`pattern` values, `patternProperties` keys), found without recursion. */
function patternsOf(schema: unknown): string[] {
  const patterns: string[] = [];
  const stack: unknown[] = [schema];
  while (stack.length) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string') patterns.push(o.pattern);
    if (o.patternProperties && typeof o.patternProperties === 'object') patterns.push(...Object.keys(o.patternProperties));
    for (const [key, child] of Object.entries(o)) if (!DATA_KEYWORDS.has(key)) stack.push(child);
  }
  return patterns;
}

/**
 * Upstream tools: their own JSON Schema (throws when it is too large, too deep, or holds a pattern RE2 cannot run:
 * such a tool is not served). `$schema` and `$id` are dropped: draft-07 and 2020-12 tool schemas validate alike, and
 * equal ids from different tools must not collide. Each schema gets its own Ajv instance: Ajv keeps every schema it
 * compiled for its whole life, so with one shared instance a tool that went away (or an upstream re-listing changed
 * tools) would never be freed; this way the compiled code goes with the validator when the registry drops it.
 * Ajv compiles on the tool's first call, not here: a re-list after an upstream's `list_changed` builds the validators of
 * every changed tool at once, and compiling them all in that one turn held the event loop for the whole batch. A schema
 * Ajv then cannot compile (an unresolvable `$ref`) refuses each call with the reason.
 */
export function jsonSchemaValidator(schema: Record<string, unknown>): ArgumentValidator {
  const chars = JSON.stringify(schema).length;
  if (chars > SCHEMA_MAX_CHARS) throw new Error(`the schema has ${chars} characters of JSON, over the ${SCHEMA_MAX_CHARS}-character bound`);
  if (jsonDepth(schema, SCHEMA_MAX_DEPTH) > SCHEMA_MAX_DEPTH) throw new Error(`the schema nests deeper than ${SCHEMA_MAX_DEPTH} levels`);
  const { $schema: _s, $id: _i, ...body } = schema;
  const { Ajv, regExp } = ajvParts();
  for (const pattern of patternsOf(body)) regExp(pattern, 'u');
  let compiled: ValidateFunction | { error: string } | undefined;
  const compile = (): ValidateFunction | { error: string } => {
    // Tolerant of unknown keywords and formats; the meta-schema check is skipped (compiling it per instance would cost
    // more than the tool's own schema).
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false, logger: false, code: { regExp } });
    try {
      return ajv.compile(body);
    } catch (err) {
      return { error: `the tool's input schema cannot be compiled: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}` };
    }
  };
  return (raw) => {
    compiled ??= compile();
    if ('error' in compiled) return { ok: false, issues: [{ field: '(root)', message: compiled.error }] };
    if (compiled(raw)) return { ok: true, data: raw as Record<string, unknown> };
    return { ok: false, issues: (compiled.errors ?? []).slice(0, MAX_ISSUES).map(ajvIssue) };
  };
}
