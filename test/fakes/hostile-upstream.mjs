// A deliberately hostile MCP server, built on the official SDK's server API, for the containment tests of the
// federation: a ReDoS `pattern` in an input schema, `list_changed` storms with tool lists that change each time, and
// a result of many megabytes written slowly. Plain JavaScript, so the tests can start it as a stdio process or as an
// HTTP server (`node hostile-upstream.mjs http <port>`) without a build step.
import http from 'node:http';
import { Writable } from 'node:stream';
import { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const HUGE_BYTES = Number(process.env.HOSTILE_HUGE_MB ?? '60') * 1024 * 1024;
const EXTRA_TOOLS = 64;
let lists = 0;
let generation = 0;

function tools() {
  const object = (properties) => ({ type: 'object', properties });
  return [
    { name: 'redos', description: 'a catastrophic pattern', inputSchema: object({ s: { type: 'string', pattern: '^(a+)+$' } }) },
    { name: 'huge', description: 'a result of many megabytes', inputSchema: object({}) },
    { name: 'storm', description: 'sends list_changed many times', inputSchema: object({ count: { type: 'number' } }) },
    { name: 'stats', description: 'how often tools/list was asked', annotations: { readOnlyHint: true }, inputSchema: object({}) },
    // Tools whose schemas differ on every listing after a storm: each re-list means new schemas to compile.
    ...Array.from({ length: EXTRA_TOOLS }, (_, i) => ({
      name: `extra_${i}`,
      description: `generation ${generation}`,
      inputSchema: object({ [`field_${generation}`]: { type: 'string', pattern: `^g${generation}_[a-z]+$`, maxLength: 100 + i } }),
    })),
  ];
}

function newServer() {
  const server = new Server({ name: 'hostile', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.setRequestHandler('tools/list', async () => {
    lists += 1;
    return { tools: tools() };
  });
  server.setRequestHandler('tools/call', async (request) => {
    const { name, arguments: args = {} } = request.params;
    switch (name) {
      case 'huge':
        return { content: [{ type: 'text', text: 'x'.repeat(HUGE_BYTES) }] };
      case 'storm': {
        const count = Number(args.count ?? 200);
        for (let i = 0; i < count; i += 1) {
          generation += 1;
          await server.sendToolListChanged();
        }
        return { content: [{ type: 'text', text: `sent ${count}` }] };
      }
      case 'stats':
        return { content: [{ type: 'text', text: JSON.stringify({ lists, generation }) }], structuredContent: { lists, generation } };
      default:
        return { content: [{ type: 'text', text: `ok ${name}` }] };
    }
  });
  return server;
}

/** stdout in 256 KB slices, one per event-loop turn: a long line arrives over time, as from a real slow producer. */
function tricklingStdout() {
  return new Writable({
    write(chunk, _encoding, callback) {
      const slices = [];
      for (let at = 0; at < chunk.length; at += 256 * 1024) slices.push(chunk.subarray(at, at + 256 * 1024));
      const next = () => {
        const slice = slices.shift();
        if (!slice) return callback();
        if (process.stdout.write(slice)) setImmediate(next);
        else process.stdout.once('drain', next);
      };
      next();
    },
  });
}

const [mode, port] = process.argv.slice(2);
if (mode === 'http') {
  // Stateless Streamable HTTP: one server and transport per request, bridged from node:http to the Web standard.
  const listener = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const server = newServer();
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
    const response = await transport.handleRequest(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return res.end();
    for await (const chunk of response.body) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });
  listener.listen(Number(port ?? 0), '127.0.0.1', () => process.stderr.write(`hostile listening on port ${listener.address().port}\n`));
} else {
  await newServer().connect(new StdioServerTransport(process.stdin, tricklingStdout()));
}
