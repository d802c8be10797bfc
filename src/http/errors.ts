import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { baseUrl, bearerChallenge } from '../oauth/discovery.js';
import { HubError } from '../tools/errors.js';

/** A HubError's status and the headers that go with it (Retry-After, WWW-Authenticate), whatever the body's shape. */
export function hubErrorStatus(reply: FastifyReply, err: HubError): FastifyReply {
  if (err.code === 'quota_exceeded' || err.code === 'rate_limited' || err.code === 'governance_unavailable') {
    const retry = Number(err.details.retry_after_s ?? 1);
    reply.header('retry-after', String(Math.max(1, Math.ceil(retry))));
  }
  if (err.code === 'unauthorized') reply.header('www-authenticate', bearerChallenge(baseUrl(reply.request, reply.server.hub.config)));
  return reply.code(err.httpStatus);
}

/** Sends a HubError as `{"error": {...}}` with its status (and Retry-After / WWW-Authenticate where they belong). */
export function sendHubError(reply: FastifyReply, err: HubError): FastifyReply {
  return hubErrorStatus(reply, err).send({ error: err.toJSON() });
}

/**
 * Every failure the framework raises (bad JSON, wrong content type, body too large, flood limit) becomes a JSON error
 * naming the problem: REST shape on REST routes, JSON-RPC shape on the MCP routes. 5xx never carry internals.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    let code: string;
    let message = status >= 500 ? 'internal error' : error.message;
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        code = 'payload_too_large';
        message = 'request body too large';
        break;
      case 'OMNI_BODY_SHAPE':
        code = 'invalid_arguments';
        break;
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        code = 'unsupported_media_type';
        message = 'Content-Type must be application/json';
        break;
      default:
        code = status === 429 ? 'rate_limited' : status >= 500 ? 'internal_error' : 'invalid_request';
    }
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      code = 'invalid_request';
      message = `invalid JSON body: ${error.message}`;
    }
    // The route's declaration (src/http/access.ts) says how its errors look: JSON-RPC on the MCP transports.
    if (request.routeOptions.config?.protocol === 'mcp') {
      const rpcCode = code === 'invalid_request' && message.startsWith('invalid JSON') ? -32700 : code === 'invalid_arguments' ? -32602 : -32000;
      return reply.code(status).send({ jsonrpc: '2.0', error: { code: rpcCode, message }, id: null });
    }
    return reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) =>
    sendHubError(reply, new HubError('not_found', `no route ${request.method} ${request.url.split('?', 1)[0]!.slice(0, 200)}`)),
  );
}
