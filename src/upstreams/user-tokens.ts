import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tool } from '@modelcontextprotocol/client';
import { HubError } from '../tools/errors.js';
import { isOperator, type UserConnections } from './user-connections.js';

/** The token of the call in progress: requests the SDK sends on its behalf carry it (see authorizedFetch). */
const callToken = new AsyncLocalStorage<string>();

/**
 * Tokens of an `auth: "user"` upstream for its one shared connection: each tool call carries its caller's own token
 * (per request, in the Authorization header), and everything else the connection sends (initialize, tools/list) the
 * operator's: the grant of the first hub key that connected. The tool list is therefore the same for everyone.
 */
export class UserTokenSource {
  constructor(
    readonly upstream: string,
    private readonly connections: UserConnections,
  ) {}

  /** The caller's token, or `upstream_auth_required` with a connect link. */
  forCall(principal: string): Promise<string> {
    return this.connections.accessToken(this.upstream, principal);
  }

  /** The operator's token for the connection itself; undefined until an operator has connected. */
  async forListing(): Promise<string | undefined> {
    const operators = (await this.connections.vault.list(this.upstream)).filter((g) => isOperator(g.principal));
    for (const g of operators) {
      try {
        return await this.connections.accessToken(this.upstream, g.principal);
      } catch (err) {
        if (!(err instanceof HubError)) throw err;
      }
    }
    return undefined;
  }

  /** Keeps the tool list the operator's login got, for instances (or restarts) that have no operator login yet. */
  async saveTools(tools: Tool[]): Promise<void> {
    await this.connections.vault.putTools(this.upstream, tools);
  }

  async cachedTools(): Promise<Tool[] | undefined> {
    return (await this.connections.vault.getTools(this.upstream)) as Tool[] | undefined;
  }

  /** The caller's grant did not work at the upstream (HTTP 401): it is forgotten, and the caller connects again. */
  async rejected(principal: string): Promise<HubError> {
    await this.connections.vault.delete(this.upstream, principal);
    return new HubError('upstream_auth_required', `upstream "${this.upstream}" no longer accepts your login: open connect_url in a browser to connect again`, {
      upstream: this.upstream,
      connect_url: await this.connections.connectUrl(this.upstream, principal),
    });
  }

  /** Runs `send` so that the requests it makes carry `token`. */
  static withToken<T>(token: string, send: () => Promise<T>): Promise<T> {
    return callToken.run(token, send);
  }

  /** A fetch for the SDK's transport: the call's token when one is running, else the operator's. */
  authorizedFetch(base: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
      const token = callToken.getStore() ?? (await this.forListing());
      const headers = new Headers(init?.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return base(input, { ...init, headers });
    };
  }
}
