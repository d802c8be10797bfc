import type { ApprovalRecord } from '../governance/approvals.js';

/** The approval page: plain HTML and one form, usable without JavaScript; every value is escaped. */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}' +
  'h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-word}' +
  '.action{font-size:1.1rem;border-left:4px solid #b45309;background:#fff7ed;padding:.5rem .75rem;border-radius:4px}' +
  'pre{background:#f4f4f5;padding:.5rem;border-radius:6px;overflow:auto;max-height:20rem;margin:0}' +
  'input[type=password]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}label{display:block;margin:1rem 0 .25rem}' +
  '.error{color:#a00;border:1px solid #a00;padding:.5rem;border-radius:6px}.done{border:1px solid #999;padding:.75rem;border-radius:6px}' +
  '.buttons{display:flex;gap:1rem;margin-top:1rem;flex-wrap:wrap}button{font-size:1rem;padding:.5rem 1.5rem}' +
  '.approve{background:#15803d;color:#fff;border:0;border-radius:6px}.deny{background:#b91c1c;color:#fff;border:0;border-radius:6px}' +
  '@media (prefers-color-scheme:dark){body{background:#111;color:#eee}pre{background:#222}.action{background:#3b2a12}}';

export function htmlPage(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
  );
}

export interface ApprovalView {
  record: ApprovalRecord;
  csrf: string;
  /** False with MCP_AUTH=none (loopback only): there is no key to ask for. */
  keyRequired: boolean;
  /** The identity provider's name when the operator may sign in with it instead of typing a key. */
  /** The label of the configured identity provider, offered as a sign-in instead of a key. */
  identityProvider?: string;
  error?: string;
  now: number;
}

function details(r: ApprovalRecord, now: number): string {
  const minutes = Math.max(0, Math.ceil((r.expires_at - now) / 60_000));
  return (
    `<p class="action" id="action">${esc(r.action)}</p>` +
    `<dl><dt>Tool</dt><dd id="tool">${esc(r.tool)} (${esc(r.level)})</dd>` +
    `<dt>Requested by</dt><dd id="principal">${esc(r.principal)} over ${r.transport === 'rest' ? 'REST (e.g. a GPT Action)' : 'MCP'}</dd>` +
    `<dt>Requested at</dt><dd>${esc(new Date(r.created_at).toISOString())}</dd>` +
    `<dt>Expires</dt><dd id="expires">${esc(new Date(r.expires_at).toISOString())} (in ${minutes} min)</dd>` +
    `<dt>Arguments</dt><dd><pre id="args">${esc(JSON.stringify(r.args, null, 2))}</pre></dd></dl>`
  );
}

export function approvalPage(v: ApprovalView): string {
  const r = v.record;
  const key = v.keyRequired
    ? `<label for="key">Hub key (an MCP_API_KEY value) to prove you operate this hub</label>` +
      `<input type="password" id="key" name="key" autocomplete="current-password" required>`
    : '';
  return htmlPage(
    `Approve ${r.tool}?`,
    `<h1>Approve ${esc(r.tool)}?</h1>` +
      (v.error ? `<p class="error" role="alert">${esc(v.error)}</p>` : '') +
      `<p>An assistant asks to run this call through Omni Hub. It runs only if you approve, only once, and only with exactly these arguments.</p>` +
      details(r, v.now) +
      `<form method="post" action="/approvals/${esc(r.id)}"><input type="hidden" name="csrf" value="${esc(v.csrf)}">${key}` +
      `<div class="buttons"><button class="approve" type="submit" name="decision" value="approve">Approve</button>` +
      `<button class="deny" type="submit" name="decision" value="deny">Deny</button></div>` +
      (v.identityProvider
        ? `<p>Or, instead of a key, sign in with ${esc(v.identityProvider)}:</p><div class="buttons">` +
          `<button type="submit" name="decision" value="oidc-approve" formnovalidate>Sign in and approve</button>` +
          `<button type="submit" name="decision" value="oidc-deny" formnovalidate>Sign in and deny</button></div>`
        : '') +
      `</form>`,
  );
}

/** After the answer, or when the approval can no longer be answered. */
export function answeredPage(title: string, text: string, record?: ApprovalRecord, now = Date.now()): string {
  return htmlPage(title, `<h1>${esc(title)}</h1><p class="done" role="status" id="outcome">${esc(text)}</p>${record ? details(record, now) : ''}`);
}
