import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { AUTH } from '../helpers/app.js';
import { freePort, ROOT } from '../helpers/spawn-hub.js';
import type { UpstreamSystem } from '../../src/upstreams/index.js';

/** The official MCP servers from npm (devDependencies), run with this Node. */
export const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
/** The MCP Apps example server of @modelcontextprotocol/ext-apps (one tool with a `ui://` HTML app), over stdio. */
export const BASIC_APP = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js');
export const stdioBasicApp = (name = 'app') => ({ name, command: process.execPath, args: [BASIC_APP, '--stdio'] });
export const MEMORY = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');

/** The hostile MCP server of the containment tests (test/fakes/hostile-upstream.mjs). */
export const HOSTILE = path.join(ROOT, 'test/fakes/hostile-upstream.mjs');
export const stdioHostile = (name = 'bad', extra: Record<string, unknown> = {}) => ({ name, command: process.execPath, args: [HOSTILE], ...extra });

export const stdioEverything = (name = 'ev', extra: Record<string, unknown> = {}) => ({ name, command: process.execPath, args: [EVERYTHING, 'stdio'], ...extra });

export interface ChildServer {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** server-everything in `streamableHttp` (endpoint /mcp) or `sse` (endpoint /sse) mode on a port (PORT, as its CLI reads). */
export async function startEverythingHttp(mode: 'streamableHttp' | 'sse', port?: number): Promise<ChildServer> {
  const p = port ?? (await freePort());
  return startChildServer([EVERYTHING, mode], { PORT: String(p) }, p, `/${mode === 'sse' ? 'sse' : 'mcp'}`);
}

/** The ext-apps example server in its Streamable HTTP mode (endpoint /mcp) on a port (PORT, as its CLI reads). */
export async function startBasicAppHttp(): Promise<ChildServer> {
  const p = await freePort();
  return startChildServer([BASIC_APP], { PORT: String(p) }, p, '/mcp');
}

/** The hostile MCP server of test/fakes in its Streamable HTTP mode (any path is its endpoint). */
export async function startHostileHttp(env: Record<string, string> = {}): Promise<ChildServer> {
  const p = await freePort();
  return startChildServer([HOSTILE, 'http', String(p)], env, p, '/mcp');
}

/** A Node script serving HTTP on `port`, ready once its output (stderr or stdout) says it listens. */
async function startChildServer(args: string[], env: Record<string, string>, port: number, endpoint: string): Promise<ChildServer> {
  const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${err}`)), 15_000);
    const onOutput = (d: Buffer) => {
      err += d.toString();
      if (/listening on (port|http)|running on port/i.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stderr!.on('data', onOutput);
    proc.stdout!.on('data', onOutput);
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${err}`)));
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}${endpoint}`,
    port,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** An SDK client connected to a listening hub's /mcp (stateful session), as any MCP client would be. */
export async function hubClient(app: FastifyInstance): Promise<Client> {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the hub is not listening');
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${address.port}/mcp`), { requestInit: { headers: AUTH } }));
  return client;
}

export function upstream(app: FastifyInstance, name: string): UpstreamSystem {
  const system = app.hub.registry.systems.find((s) => s.id === name);
  if (!system?.federated) throw new Error(`no upstream ${name}`);
  return system as UpstreamSystem;
}

/** Waits until every named upstream is connected: a loaded machine can take longer than the hub's start waits. */
export async function allConnected(app: FastifyInstance, names: string[]): Promise<void> {
  await eventually(() => names.every((n) => upstream(app, n).connection.status.state === 'connected'), 40_000);
}

/** Polls until `check` is truthy (bounded), for background work such as reconnects. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
