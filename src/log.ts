import type { FastifyBaseLogger } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
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
 * How the JSON lines leave: gathered until LOG_BUFFER_BYTES are queued, and otherwise written LOG_FLUSH_MS after the
 * first line that is still waiting, so a line is at most that late. Writing each line as it came cost a write through
 * libuv's thread pool (a hand-off to another thread and back) per tool call. The flush timer runs only while a line
 * waits: sonic-boom's own `periodicFlush` fires every interval, and with nothing queued still writes an empty string
 * through the thread pool, so an idle hub woke twenty times a second and took CPU from whatever shared its core.
 * Lines are queued as buffers: in its string mode sonic-boom appends each line to the pending string and measures that
 * string's UTF-8 length again, work that grows with the buffer on every line.
 * On exit (process.exit, an uncaught exception) pino writes what is left synchronously, so nothing queued is lost
 * unless the process is killed outright (SIGKILL, out of memory), where a write in flight would be lost as well.
 */
// Under sonic-boom's 16 KiB largest write. At a few hundred bytes per audit line, a write carries dozens of calls' lines.
const LOG_BUFFER_BYTES = 12 * 1024;
const LOG_FLUSH_MS = 50;

/** What pino writes to: its lines (strings) and its `flush()`. */
interface LogDestination {
  write(line: string): void;
  flush(cb?: (err?: Error) => unknown): void;
}

/** Standard output, asynchronous and buffered (see LOG_FLUSH_MS). */
function bufferedStdout(): LogDestination {
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, contentMode: 'buffer' });
  // In buffer mode sonic-boom's write takes a Buffer; its type declares only the string form.
  const writeBuffer = destination.write.bind(destination) as unknown as (data: Buffer) => boolean;
  let pending: NodeJS.Timeout | undefined;
  const flush = () => {
    pending = undefined;
    try {
      destination.flush();
    } catch {
      // Destroyed at exit, after pino wrote what was left: nothing is waiting any more.
    }
  };
  return {
    write(line) {
      writeBuffer(Buffer.from(line));
      pending ??= setTimeout(flush, LOG_FLUSH_MS).unref();
    },
    flush: (cb) => destination.flush(cb),
  };
}

/**
 * The hub's one logger (Fastify's and the stores'). JSON goes to stdout through an asynchronous, buffered
 * destination (see LOG_FLUSH_MS). Call `flush()` before exiting.
 */
export function createLogger(config: Config): Logger {
  const options = loggerOptions(config);
  if (config.logFormat === 'pretty') return pino(options);
  return pino(options, bufferedStdout());
}

type LogArgs = Parameters<FastifyBaseLogger['info']>;

/**
 * Fastify's per-request logger, made on the request's first log line. Fastify builds a pino child for every request
 * (its `reqId` binding serialized and passed through the redactor), yet a tool call logs through the pipeline's own
 * logger and a request rarely logs at all, so building the child up front is work for nothing on almost every call.
 * A line logged through it is the same as the child's, `reqId` included.
 */
class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.logger.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: LogArgs): void {
    this.logger.fatal(...args);
  }

  error(...args: LogArgs): void {
    this.logger.error(...args);
  }

  warn(...args: LogArgs): void {
    this.logger.warn(...args);
  }

  info(...args: LogArgs): void {
    this.logger.info(...args);
  }

  debug(...args: LogArgs): void {
    this.logger.debug(...args);
  }

  trace(...args: LogArgs): void {
    this.logger.trace(...args);
  }

  silent(...args: LogArgs): void {
    this.logger.silent(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: the request logger above instead of a pino child per request. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options);
}

/** The slice of a pino/Fastify logger the stores (governance, Redis, sessions) use (tests pass pino({level: 'silent'})). */
export interface StoreLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: StoreLog = { info() {}, warn() {}, error() {} };
