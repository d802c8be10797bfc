import { z } from 'zod';

/**
 * Field types shared by the config areas. Every environment variable arrives as a non-empty string (loadConfig drops
 * empty ones); a field's transform turns it into the typed value the hub reads, and a field's issue message is the
 * text after "invalid NAME: " in the one line the hub prints.
 */

/** The parsed variables of an area's shape: what its mapping to the config receives. */
export type Vars<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

export const csv = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A comma-separated list. */
export const list = z.string().transform(csv);

/** Reports `message` on the field being parsed (or on `variable` from a whole-environment check) and yields nothing. */
export function fail(ctx: z.RefinementCtx, message: string, variable?: string): never {
  ctx.addIssue({ code: 'custom', message, ...(variable === undefined ? {} : { path: [variable] }) });
  return z.NEVER;
}

/** Reports that `variable` must be set (because of another one): the hub prints "missing NAME: message". */
export function missing(ctx: z.RefinementCtx, variable: string, message: string): never {
  ctx.addIssue({ code: 'custom', message, path: [variable], params: { missing: true } });
  return z.NEVER;
}

/** A variable that holds JSON matching `schema`. */
export const jsonText = <T extends z.ZodType>(schema: T, name: string) =>
  z.string().transform((text, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(ctx, `${name} is not valid JSON`);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const first = result.error.issues[0];
      return fail(ctx, `${name}: ${first?.path.join('.') || 'value'} ${first?.message ?? 'is invalid'}`);
    }
    return result.data;
  });

export const port = z.coerce.number().int().min(0).max(65535);
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const positiveInt = z.coerce.number().int().positive();
export const urlString = z.string().url();
/** A URL the hub appends paths to: kept without its trailing slash. */
export const baseUrl = urlString.transform((u) => u.replace(/\/$/, ''));
export const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL');
