import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { registerAppResource, registerAppTool, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';

/**
 * An MCP App server deployed at its own URL, as the ext-apps documentation has servers declare their app's origin:
 * built with the SDK v2 server and the `@modelcontextprotocol/ext-apps` server helpers (stateless Streamable HTTP at
 * `/mcp`). Its resources name the server's own URL and origin the documented ways:
 * - `ui://dashboard/view.html`: `_meta.ui.domain` in Claude's form (the hash of this server's MCP URL under
 *   claudemcpcontent.com), `openai/widgetDomain` = this server's origin, and a CSP naming this origin and an API;
 * - `ui://dashboard/generated.html`: `_meta.ui.domain` in ChatGPT's generated form (`mcp-endpoint-<hash of the MCP
 *   URL>.web-sandbox.oaiusercontent.com`), and the OpenAI CSP key in its snake_case form.
 */
export interface AppUpstream {
  /** This server's MCP URL, what it derived its domains from. */
  mcpUrl: string;
  origin: string;
  close(): Promise<void>;
}

const API = 'https://api.example.com';
export const appHash = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 32);
const HTML = '<!doctype html><html><body><p>dashboard</p></body></html>';

function appServer(mcpUrl: string, origin: string): McpServer {
  const server = new McpServer({ name: 'dashboard', version: '1.0.0' });
  registerAppTool(server, 'show-dashboard', { description: 'Shows the dashboard', _meta: { ui: { resourceUri: 'ui://dashboard/view.html' } } }, async () => ({
    content: [{ type: 'text', text: 'dashboard shown' }],
  }));
  registerAppResource(server, 'Dashboard', 'ui://dashboard/view.html', { description: 'The dashboard view' }, async () => ({
    contents: [
      {
        uri: 'ui://dashboard/view.html',
        mimeType: RESOURCE_MIME_TYPE,
        text: HTML,
        _meta: {
          ui: { domain: `${appHash(mcpUrl)}.claudemcpcontent.com`, csp: { connectDomains: [origin, API], resourceDomains: [origin] }, prefersBorder: true },
          'openai/widgetDomain': origin,
          'openai/widgetCSP': { connect_domains: [origin, API], resource_domains: [origin] },
        },
      },
    ],
  }));
  registerAppResource(
    server,
    'Generated origin',
    'ui://dashboard/generated.html',
    { description: 'A view on the host-generated origin', _meta: { ui: { domain: `mcp-endpoint-${appHash(mcpUrl)}.web-sandbox.oaiusercontent.com` } } },
    async () => ({
      contents: [
        {
          uri: 'ui://dashboard/generated.html',
          mimeType: RESOURCE_MIME_TYPE,
          text: HTML,
          _meta: { ui: { domain: `mcp-endpoint-${appHash(mcpUrl)}.web-sandbox.oaiusercontent.com`, csp: { frameDomains: [origin] } } },
        },
      ],
    }),
  );
  return server;
}

export async function startAppUpstream(): Promise<AppUpstream> {
  let mcpUrl = '';
  let origin = '';
  const listener: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const server = appServer(mcpUrl, origin);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    const body = req.method === 'GET' || req.method === 'HEAD' || chunks.length === 0 ? undefined : Buffer.concat(chunks);
    const response = await transport.handleRequest(new Request(`${origin}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
  mcpUrl = `${origin}/mcp`;
  return {
    mcpUrl,
    origin,
    close: () => new Promise<void>((r) => listener.close(() => r())),
  };
}
