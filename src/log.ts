import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

/** pino level → Cloud Logging severity, so Cloud Run shows levels without a log agent. */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Paths that could carry a secret: pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'config.apiKeys',
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    messageKey: 'message',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label: string) => ({ severity: SEVERITY[label] ?? 'DEFAULT', level: label }) },
    ...(config.logFormat === 'pretty' ? { transport: { target: 'pino-pretty', options: { messageKey: 'message' } } } : {}),
  };
}
