import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import Provider, { type ClientMetadata } from 'oidc-provider';
import type { Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * An upstream MCP server that needs each user's own login, as remote MCP servers do: `oidc-provider` (from npm) is
 * its authorization server (dynamic registration, PKCE, resource indicators, refresh tokens, revocation, `iss` in the
 * authorization response), and the MCP server (the SDK's, stateless) accepts only access tokens that provider issued
 * for it and still holds: no token or an unknown one answers 401 with the RFC 9728 challenge. The MCP side is the SDK
 * v2 server, stateless (one server and transport per request); its one tool, `whoami`, answers the account the token
 * belongs to.
 *
 * Options make it the other kinds of servers the hub meets: `stateful` binds each MCP session to the account whose
 * token initialized it (as GitHub's server does: `whoami` then answers the session's account, whatever token a later
 * request carries); `registration: false` turns dynamic registration off; `clientDocuments` makes the authorization
 * server accept Client ID Metadata Documents (fetched over https trusting that CA); `clients` are pre-registered
 * (a Google-style confidential client with a secret).
 */
export interface UserAuthUpstreamOptions {
  stateful?: boolean;
  registration?: boolean;
  clientDocuments?: { ca: string };
  clients?: ClientMetadata[];
}

export interface UserAuthUpstream {
  issuer: string;
  mcpUrl: string;
  provider: Provider;
  /** Refresh-token grants the authorization server answered. */
  refreshes(): number;
  /** Accounts whose access tokens were revoked (RFC 7009), in order. */
  revokedAccounts: string[];
  /** Client ids that redeemed a code or a refresh token, in order; clients that authenticated with a secret are marked. */
  tokenClients: { client_id: string; auth: string }[];
  /** Dynamic registrations the authorization server answered. */
  registrations(): number;
  /** Stateful mode: the account each session was opened by, by session id; and the session ids the hub ended (DELETE). */
  sessions: Map<string, string>;
  endedSessions: string[];
  /** Stateful mode: forgets every session, as a restart would (requests naming one then answer 404). */
  forgetSessions(): void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function startUserAuthUpstream(options: UserAuthUpstreamOptions = {}): Promise<UserAuthUpstream> {
  const asServer = createServer();
  const issuer = await listen(asServer);
  const rsServer = createServer();
  const rsBase = await listen(rsServer);
  const mcpUrl = `${rsBase}/mcp`;

  const provider = new Provider(issuer, {
    scopes: ['openid', 'offline_access', 'mcp'],
    claims: { openid: ['sub'] },
    features: {
      registration: { enabled: options.registration ?? true },
      ...(options.clientDocuments ? { clientIdMetadataDocument: { enabled: true } } : {}),
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
    ...(options.clients ? { clients: options.clients } : {}),
    // The metadata documents of the test live on loopback behind a self-signed certificate: trusted here, on purpose.
    ...(options.clientDocuments ? { fetch: documentFetch(options.clientDocuments.ca) } : {}),
  });
  const tokenClients: { client_id: string; auth: string }[] = [];
  let registrations = 0;
  provider.on('registration_create.success', () => {
    registrations += 1;
  });
  let refreshes = 0;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes += 1;
    const client = ctx.oidc.client;
    if (client) tokenClients.push({ client_id: client.clientId, auth: client.clientAuthMethod ?? 'none' });
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
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const request = new Request(url, { method: req.method, headers, body });
      const response = options.stateful ? await statefulAnswer(request, token.accountId) : await statelessAnswer(request, token.accountId);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });

  /** One server and transport per request, `whoami` answering the request's own account. */
  async function statelessAnswer(request: Request, account: string): Promise<Response> {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await whoamiServer(() => account).connect(transport);
    return transport.handleRequest(request);
  }

  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const sessions = new Map<string, string>();
  const endedSessions: string[] = [];
  /** One server per session, created at initialize for the account that initialized it: later tokens are not consulted. */
  async function statefulAnswer(request: Request, account: string): Promise<Response> {
    // No standalone stream: what this server says, it says in answer to a request.
    if (request.method === 'GET') return new Response(null, { status: 405, headers: { allow: 'POST, DELETE' } });
    const id = request.headers.get('mcp-session-id');
    if (id) {
      const transport = transports.get(id);
      if (!transport) return new Response('{"error":"unknown session"}', { status: 404 });
      if (request.method === 'DELETE') endedSessions.push(id);
      return transport.handleRequest(request);
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (sid) => {
        transports.set(sid, transport);
        sessions.set(sid, account);
      },
    });
    await whoamiServer(() => account).connect(transport);
    return transport.handleRequest(request);
  }

  return {
    issuer,
    mcpUrl,
    provider,
    refreshes: () => refreshes,
    revokedAccounts,
    tokenClients,
    registrations: () => registrations,
    sessions,
    endedSessions,
    forgetSessions: () => transports.clear(),
    async close() {
      asServer.closeAllConnections();
      rsServer.closeAllConnections();
      await Promise.all([new Promise((r) => asServer.close(r)), new Promise((r) => rsServer.close(r))]);
    },
  };
}

function whoamiServer(account: () => string): McpServer {
  const server = new McpServer({ name: 'user-auth-upstream', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The account this call runs as', annotations: { readOnlyHint: true } }, async () => ({
    content: [{ type: 'text', text: `user:${account()}` }],
  }));
  return server;
}

/** oidc-provider's outbound fetch for client metadata documents, trusting the test's certificate authority. */
function documentFetch(ca: string) {
  const dispatcher = new Agent({ connect: { ca } });
  return ((url: string, init: Record<string, unknown>) => {
    const { dispatcher: _ssrfGuard, ...rest } = init;
    return undiciFetch(url, { ...rest, dispatcher });
  }) as unknown as typeof fetch;
}

/**
 * Opens a connect link in the browser and signs in at the fake's authorization server (oidc-provider's development
 * login and consent pages) as `login`; resolves with the text of the hub's page the browser ends on.
 */
export async function signInThroughLink(page: Page, url: string, login: string): Promise<string> {
  await page.context().clearCookies();
  await page.goto(url);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.pathname === '/connect/callback');
  return (await page.locator('body').innerText()).trim();
}
