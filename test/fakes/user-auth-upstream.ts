import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import Provider from 'oidc-provider';

/**
 * An upstream MCP server that needs each user's own login, as remote MCP servers do: `oidc-provider` (from npm) is
 * its authorization server (dynamic registration, PKCE, resource indicators, refresh tokens, revocation, `iss` in the
 * authorization response), and the MCP server (the SDK's, stateless) accepts only access tokens that provider issued
 * for it and still holds: no token or an unknown one answers 401 with the RFC 9728 challenge. The MCP side is the SDK
 * v2 server, stateless (one server and transport per request); its one tool, `whoami`, answers the account the token
 * belongs to.
 */
export interface UserAuthUpstream {
  issuer: string;
  mcpUrl: string;
  provider: Provider;
  /** Refresh-token grants the authorization server answered. */
  refreshes(): number;
  /** Accounts whose access tokens were revoked (RFC 7009), in order. */
  revokedAccounts: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function startUserAuthUpstream(): Promise<UserAuthUpstream> {
  const asServer = createServer();
  const issuer = await listen(asServer);
  const rsServer = createServer();
  const rsBase = await listen(rsServer);
  const mcpUrl = `${rsBase}/mcp`;

  const provider = new Provider(issuer, {
    scopes: ['openid', 'offline_access', 'mcp'],
    claims: { openid: ['sub'] },
    features: {
      registration: { enabled: true },
      revocation: { enabled: true },
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => mcpUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== mcpUrl) throw new Error(`unknown resource ${resource}`);
          return { scope: 'mcp', accessTokenFormat: 'opaque', accessTokenTTL: 3600 };
        },
      },
    },
    // Refresh tokens for every client allowed the grant, without asking for offline_access (as most MCP servers do).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  });
  let refreshes = 0;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes += 1;
  });
  const revokedAccounts: string[] = [];
  // Revoking a refresh or access token ends its grant (and every token of it); the revoked token names the account.
  provider.on('grant.revoked', (ctx) => {
    const entities = ctx.oidc.entities as { RefreshToken?: { accountId?: string }; AccessToken?: { accountId?: string } };
    const account = entities.RefreshToken?.accountId ?? entities.AccessToken?.accountId;
    if (account) revokedAccounts.push(account);
  });
  asServer.on('request', provider.callback());

  const challenge = `Bearer resource_metadata="${rsBase}/.well-known/oauth-protected-resource/mcp"`;
  rsServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', rsBase);
      if (url.pathname === '/.well-known/oauth-protected-resource/mcp' || url.pathname === '/.well-known/oauth-protected-resource') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: mcpUrl, authorization_servers: [issuer], scopes_supported: ['mcp'] }));
        return;
      }
      if (url.pathname !== '/mcp') return void res.writeHead(404).end();
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const token = bearer ? await provider.AccessToken.find(bearer) : undefined;
      if (!token || token.isExpired || !token.accountId) {
        res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      const account = token.accountId;
      const server = new McpServer({ name: 'user-auth-upstream', version: '1.0.0' });
      server.registerTool('whoami', { description: 'The account of the token this call carries', annotations: { readOnlyHint: true } }, async () => ({
        content: [{ type: 'text', text: `user:${account}` }],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await transport.handleRequest(new Request(url, { method: req.method, headers, body }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });

  return {
    issuer,
    mcpUrl,
    provider,
    refreshes: () => refreshes,
    revokedAccounts,
    async close() {
      asServer.closeAllConnections();
      rsServer.closeAllConnections();
      await Promise.all([new Promise((r) => asServer.close(r)), new Promise((r) => rsServer.close(r))]);
    },
  };
}
