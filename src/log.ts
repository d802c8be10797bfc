import pino, { type Logger } from 'pino';
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

function loggerOptions(config: Config): pino.LoggerOptions {
  return {
    level: config.logLevel,
    messageKey: 'message',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label: string) => ({ severity: SEVERITY[label] ?? 'DEFAULT', level: label }) },
    ...(config.logFormat === 'pretty' ? { transport: { target: 'pino-pretty', options: { messageKey: 'message' } } } : {}),
  };
}

/**
 * The hub's one logger (Fastify's and the stores'). JSON goes to stdout through an asynchronous destination: under
 * load, lines queued while a write is in flight leave together instead of one blocking write(2) per tool call.
 * Call `flush()` before exiting.
 */
export function createLogger(config: Config): Logger {
  const options = loggerOptions(config);
  if (config.logFormat === 'pretty') return pino(options);
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
