import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { OAuthError } from './errors.js';

/** What the authorization server's endpoints share: parameter reading, HTML and redirect answers, RFC-shaped errors. */

export type Form = Record<string, string | string[] | undefined>;

export const FORM_LIMIT = 64 * 1024;

/** One value of a form or query parameter; a repeated parameter is invalid (RFC 6749 §3.1). */
export function field(form: unknown, name: string): string | undefined {
  if (!form || typeof form !== 'object') return undefined;
  const v = (form as Form)[name];
  if (Array.isArray(v)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `parameter ${name} must be a string`);
  return v;
}

/** The machine endpoints take a form body (RFC 6749 §4.1.3); anything else is named as the problem. */
export function formRequired(body: unknown): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'send the parameters as an application/x-www-form-urlencoded body');
  }
}

/**
 * An HTML page with the headers @fastify/helmet sets, its Content-Security-Policy allowing forms to post to this hub
 * and, through their redirect, to `formAction` (the client's redirect origin, the identity provider).
 */
export async function html(reply: FastifyReply, status: number, body: string, formAction: string[] = []): Promise<FastifyReply> {
  await reply.helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'", ...formAction],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

export function redirectTo(reply: FastifyReply, uri: string, params: Record<string, string | undefined>): FastifyReply {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return reply.code(303).header('cache-control', 'no-store').header('location', u.toString()).send();
}

/** OAuthError as its RFC JSON; parser errors named; anything from below the routes (the store) as 503, try again. */
export function installOAuthErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | OAuthError, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.status >= 500) request.log.error({ err: error }, 'oauth failure');
      return reply.code(error.status).header('cache-control', 'no-store').send(error.toJSON());
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
    if (status >= 500) request.log.error({ err: error }, 'oauth route failed');
    const description =
      status >= 500
        ? 'the authorization server could not reach its store; try again'
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request body too large'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'unsupported Content-Type (use application/x-www-form-urlencoded or application/json)'
            : error.message;
    if (status >= 500) reply.header('retry-after', '1');
    return reply.code(status).header('cache-control', 'no-store').send({ error: status >= 500 ? 'temporarily_unavailable' : 'invalid_request', error_description: description });
  });
}
