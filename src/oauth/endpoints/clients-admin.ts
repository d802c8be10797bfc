import type { FastifyInstance } from 'fastify';
import type { Level } from '../../governance/levels.js';
import { sendHubError } from '../../http/errors.js';
import { HubError } from '../../tools/errors.js';
import { clientIdentity } from '../clients.js';
import { levelRank, maxLevel, scopesUpTo } from '../scopes.js';
import type { OAuthEndpointOptions } from './options.js';

/** The console's "OAuth clients" view (hub key only): every client, who it is, its levels and last use; revoke one. */
export async function clientAdminEndpoints(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  const { clients, tokens } = opts.oauth;
  app.get('/v1/oauth/clients', { config: { access: 'key' } }, async () => {
    const list = await clients.list();
    const rows = await Promise.all(
      list.map(async (c) => {
        const grants = await tokens.grants(c.client_id);
        const top = grants.map((g) => maxLevel(g.scopes)).reduce<Level | null>((a, l) => (l && (!a || levelRank(l) > levelRank(a)) ? l : a), null);
        const subjects = [...new Set(grants.map((g) => g.subject).filter((s): s is string => !!s))];
        const last = await tokens.lastUsed(c.client_id);
        return {
          client_id: c.client_id,
          client_name: c.client_name ?? null,
          identity: clientIdentity(c),
          source: c.source,
          redirect_hosts: [...new Set(c.redirect_uris.map((u) => new URL(u).host))],
          principals: subjects.length ? subjects.map((s) => `oauth:${c.client_id}:${s}`) : [`oauth:${c.client_id}`],
          granted: top ? scopesUpTo(top) : [],
          active_grants: grants.length,
          registered_at: c.client_id_issued_at ? new Date(c.client_id_issued_at * 1000).toISOString() : null,
          approved_at: c.approved_at ? new Date(c.approved_at * 1000).toISOString() : null,
          last_used: last ? new Date(last).toISOString() : null,
        };
      }),
    );
    rows.sort((a, b) => (b.last_used ?? '').localeCompare(a.last_used ?? '') || a.client_id.localeCompare(b.client_id));
    return { clients: rows };
  });

  app.delete<{ Params: { id: string } }>('/v1/oauth/clients/:id', { config: { access: 'key' } }, async (request, reply) => {
    const id = request.params.id;
    const known = (await clients.list()).some((c) => c.client_id === id);
    if (!known) return sendHubError(reply, new HubError('not_found', 'no OAuth client with that id'));
    const revoked = await tokens.revokeClient(id);
    await clients.remove(id);
    return { client_id: id, revoked_grants: revoked, removed: true };
  });
}
