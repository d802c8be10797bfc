import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { testConfig } from './helpers/config.js';
import { createDeps } from '../src/deps-factory.js';
import { REDACT_PATHS } from '../src/log.js';
import { AUTH } from './helpers/app.js';

/**
 * request.log is made on a request's first line (src/log.ts, requestLogger): what it writes must be what Fastify's
 * per-request pino child wrote — the request id, the parent's redaction, its own children's bindings.
 */
describe('the per-request logger', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('writes lines with the request id, redacted like every other line, and makes children with both bindings', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info', messageKey: 'message', redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, sink);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-reqlog-'));
    const config = testConfig({ DATA_DIR: dataDir });
    const deps = await createDeps(config, pino({ level: 'silent' }));
    const app = await buildApp(config, deps, { logger });
    cleanup.push(async () => {
      await app.close();
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    app.get('/v1/log-probe', { config: { access: 'key' } }, async (request) => {
      request.log.warn({ headers: { authorization: 'Bearer secret-value' } }, 'probe line');
      request.log.child({ part: 'inner' }).info('child line');
      return { id: request.id, level: request.log.level };
    });
    app.get('/v1/quiet-probe', { config: { access: 'key' } }, async () => ({ ok: true }));
    await app.ready();

    const quiet = await app.inject({ method: 'GET', url: '/v1/quiet-probe', headers: AUTH });
    expect(quiet.statusCode).toBe(200);
    expect(lines).toEqual([]);

    const res = await app.inject({ method: 'GET', url: '/v1/log-probe', headers: AUTH });
    expect(res.statusCode).toBe(200);
    const { id, level } = res.json<{ id: string; level: string }>();
    expect(level).toBe('info');
    const probe = lines.find((l) => l.message === 'probe line');
    expect(probe).toMatchObject({ reqId: id, headers: { authorization: '[REDACTED]' } });
    expect(JSON.stringify(lines)).not.toContain('secret-value');
    expect(lines.find((l) => l.message === 'child line')).toMatchObject({ reqId: id, part: 'inner' });
  });
});
