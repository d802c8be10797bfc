import { execSync, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, hubEnv, MAIN, mainThreadCpuMs, openSession, ROOT, sleep, startProcess, startRedis, loadUnique } from './lib.mjs';
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SUPERGATEWAY = path.join(ROOT, 'node_modules/supergateway/dist/index.js');
const redis = await startRedis();
const upstreams = JSON.stringify([{ name: 'ev', command: process.execPath, args: [EVERYTHING, 'stdio'] }]);
const hub = await startProcess(MAIN, hubEnv({ UPSTREAMS: upstreams, MCP_SESSION_MODE: 'stateful', GOVERNANCE_OVERRIDES: JSON.stringify({ ev_echo: { limit: 100_000_000 } }), LOG_LEVEL: 'warn', REDIS_URL: redis.url }));
const port = await freePort();
const sg = spawn(process.execPath, [SUPERGATEWAY, '--stdio', `${process.execPath} ${EVERYTHING} stdio`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--healthEndpoint', '/healthz', '--logLevel', 'none'], { stdio: 'ignore' });
const sgUrl = `http://127.0.0.1:${port}`;
for (;;) { if (await fetch(`${sgUrl}/healthz`).then((r) => r.ok, () => false)) break; await sleep(50); }
const child = (pid) => Number(execSync(`pgrep -P ${pid} | head -1`).toString().trim());
const procCpu = (pid) => { const f = execSync(`cat /proc/${pid}/stat`).toString().split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const t = [
  { id: 'hub', url: hub.url, pid: hub.proc.pid, tool: 'ev_echo' },
  { id: 'sg', url: sgUrl, pid: sg.pid, tool: 'echo' },
];
for (const x of t) { x.headers = await openSession(x.url); x.child = child(x.pid); x.body = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: x.tool, arguments: { message: 'hello' } } }); }
let id = 1;
for (let r = 0; r < 4; r++) for (const x of r % 2 ? [...t].reverse() : t) {
  const a = mainThreadCpuMs(x.pid), pa = procCpu(x.pid), c = procCpu(x.child);
  const res = await loadUnique({ url: `${x.url}/mcp`, headers: x.headers, body: x.body, connections: 16, duration: 4, firstId: id });
  id += 1e6;
  const n = res.total;
  console.log(x.id, 'rps', res.rps, 'p99', res.p99_ms, 'main us/req', Math.round(1000 * (mainThreadCpuMs(x.pid) - a) / n), 'proc us/req', Math.round(1000 * (procCpu(x.pid) - pa) / n), 'child us/req', Math.round(1000 * (procCpu(x.child) - c) / n));
}
sg.kill('SIGKILL'); await hub.stop(); await redis.stop();
