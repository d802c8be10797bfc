import type { Tool } from '@modelcontextprotocol/client';
import { HubError } from '../tools/errors.js';
import { isOperator, type UserConnections } from './user-connections.js';
import type { Grant } from './vault.js';

/** A fetch that sends `Authorization: Bearer <token()>` when token() gives one. */
export function bearerFetch(token: () => Promise<string | undefined> | string | undefined, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const value = await token();
    const headers = new Headers(init?.headers);
    if (value) headers.set('authorization', `Bearer ${value}`);
    return base(input, { ...init, headers });
  };
}

/**
 * Grants of an `auth: "user"` upstream. Each caller's requests go on that caller's own session with their own token
 * (see UserSessions); the listing connection (initialize, tools/list, list-change notifications) carries an
 * operator's: the grant of a hub key that connected. The tool list is therefore the same for everyone, and it is
 * kept in the vault's store for instances that have no operator grant.
 */
export class UserTokenSource {
  constructor(
    readonly upstream: string,
    private readonly connections: UserConnections,
  ) {}

  /** The caller's grant, or `upstream_auth_required` with a connect link. */
  forCall(principal: string): Promise<Grant> {
    return this.connections.grant(this.upstream, principal);
  }

  /** The operator's token for the connection itself; undefined until an operator has connected. */
  async forListing(): Promise<string | undefined> {
    const operators = (await this.connections.vault.list(this.upstream)).filter((g) => isOperator(g.principal));
    for (const g of operators) {
      try {
        return (await this.connections.grant(this.upstream, g.principal)).tokens.access_token;
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
    return (await this.connections.vault.getTools(this.upstream))?.tools as Tool[] | undefined;
  }

  /** The caller's grant did not work at the upstream (HTTP 401): it is forgotten, and the caller connects again. */
  async rejected(principal: string): Promise<HubError> {
    await this.connections.vault.delete(this.upstream, principal);
    return new HubError('upstream_auth_required', `upstream "${this.upstream}" no longer accepts your login: open connect_url in a browser to connect again`, {
      upstream: this.upstream,
      connect_url: await this.connections.connectUrl(this.upstream, principal),
    });
  }

  /** A fetch for the listing connection's transport: the operator's token, when an operator has connected. */
  operatorFetch(): typeof fetch {
    return bearerFetch(() => this.forListing());
  }
}
