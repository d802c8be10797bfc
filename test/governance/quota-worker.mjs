// Child process of multi-process.test.ts: one hub-like process firing concurrent take() calls through the real
// (compiled) RedisQuotaStore. argv: <compiled dir> <redis url> <key prefix> <key> <limit> <calls>
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, url, prefix, key, limitText, callsText] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(path.join(dir, file)).href);
const { RedisConnection } = await load('redis/connection.js');
const { RedisQuotaStore } = await load('governance/redis-quota-store.js');

// The parent starts every worker, then tells them all to fire at once over stdin.
const connection = new RedisConnection({ url, commandTimeoutMs: 10_000 });
const store = new RedisQuotaStore(connection, { keyPrefix: prefix });
if (!(await connection.waitUntilReady(10_000))) throw new Error('redis not ready');
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));

const limit = Number(limitText);
const results = await Promise.allSettled(Array.from({ length: Number(callsText) }, () => store.take(key, limit)));
const allowed = results.filter((r) => r.status === 'fulfilled' && r.value.allowed).length;
const refused = results.filter((r) => r.status === 'fulfilled' && !r.value.allowed).length;
const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason?.message ?? r.reason));
process.stdout.write(`${JSON.stringify({ allowed, refused, errors: errors.slice(0, 3), errorCount: errors.length })}\n`);
await store.close();
