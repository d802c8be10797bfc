import type { FastifyInstance } from 'fastify';

/** The CSRF cookie and hidden field of an approval page fetched with app.inject(). */
export async function openApprovalPage(app: FastifyInstance, path: string): Promise<{ status: number; html: string; csrf?: string; cookie?: string }> {
  const page = await app.inject({ method: 'GET', url: path });
  const setCookie = page.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';', 1)[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  return { status: page.statusCode, html: page.body, ...(csrf ? { csrf } : {}), ...(cookie ? { cookie } : {}) };
}

/** Answers an approval on its page as an operator would: open the page, then post the form with a hub key. */
export async function answerApproval(app: FastifyInstance, path: string, decision: 'approve' | 'deny', key: string) {
  const page = await openApprovalPage(app, path);
  if (!page.csrf || !page.cookie) throw new Error(`the approval page ${path} has no form (HTTP ${page.status})`);
  return app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
    payload: new URLSearchParams({ csrf: page.csrf, key, decision }).toString(),
  });
}
