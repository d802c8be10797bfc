import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
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

let ajv: Ajv2020 | undefined;

/** Ajv is loaded on first use: a hub without upstreams never pays for it. */
function sharedAjv(): Ajv2020 {
  if (!ajv) {
    const { Ajv2020: AjvClass } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    // Upstream schemas are whatever their authors wrote: unknown keywords and formats are tolerated, not fatal.
    ajv = new AjvClass({ strict: false, allErrors: true, validateFormats: false, logger: false });
  }
  return ajv;
}

function ajvIssue(e: ErrorObject): ArgumentIssue {
  const path = e.instancePath.split('/').filter(Boolean);
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (params.missingProperty) path.push(params.missingProperty);
  if (params.additionalProperty) path.push(params.additionalProperty);
  return { field: path.join('.').slice(0, 200) || '(root)', message: e.message ?? e.keyword };
}

/**
 * Upstream tools: their own JSON Schema, compiled once (throws when the schema itself is broken). `$schema` and `$id`
 * are dropped: draft-07 and 2020-12 tool schemas validate alike, and equal ids from different tools must not collide.
 */
export function jsonSchemaValidator(schema: Record<string, unknown>): ArgumentValidator {
  const { $schema: _s, $id: _i, ...body } = schema;
  const validate: ValidateFunction = sharedAjv().compile(body);
  return (raw) => {
    if (validate(raw)) return { ok: true, data: raw as Record<string, unknown> };
    return { ok: false, issues: (validate.errors ?? []).slice(0, MAX_ISSUES).map(ajvIssue) };
  };
}
