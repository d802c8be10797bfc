import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * DNS-rebinding protection for the MCP endpoints: the Host header must name an allowed host and a browser Origin, when
 * sent, must be an allowed origin (or a loopback origin when the host itself is loopback).
 */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

function hostname(hostHeader: string): string {
  const h = hostHeader.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':', 1)[0]!;
}

export function hostGuard(config: Config) {
  const hosts = new Set(config.allowedHosts);
  const origins = new Set(config.allowedOrigins);
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const host = request.headers.host;
    if (!host || !hosts.has(hostname(host))) {
      await reply.code(403).send({
        error: { code: 'forbidden_host', message: `host ${JSON.stringify(host ?? '')} is not allowed; add it to ALLOWED_HOSTS` },
      });
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const o = origin.toLowerCase();
      if (!origins.has(o) && !LOOPBACK_ORIGIN.test(o)) {
        await reply.code(403).send({
          error: { code: 'forbidden_host', message: `origin ${JSON.stringify(origin)} is not allowed; add it to ALLOWED_ORIGINS` },
        });
      }
    }
  };
}
