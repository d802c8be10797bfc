import { type Level, LEVELS } from '../governance/levels.js';
import { levelRank, scopeForLevel } from './scopes.js';

/** The consent page: plain HTML and one form, usable without JavaScript; every value is escaped. */

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const LEVEL_TEXT: Readonly<Record<Level, string>> = {
  LOW: 'read-only and low-impact tools',
  MEDIUM: 'plus tools that create or change data',
  HIGH: 'plus builds, sends and deployments of new things',
  CRITICAL: 'plus deletions and production deploys (each still needs a person\'s approval of the exact call)',
};

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}' +
  'h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}' +
  'fieldset{margin:1rem 0;border:1px solid #bbb;border-radius:6px}label{display:block;margin:.25rem 0}' +
  'input[type=password]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}' +
  '.error{color:#a00;border:1px solid #a00;padding:.5rem;border-radius:6px}.buttons{display:flex;gap:1rem;margin-top:1rem}' +
  'button{font-size:1rem;padding:.5rem 1.5rem}';

export interface ConsentView {
  tx: string;
  csrf: string;
  clientName: string;
  clientId: string;
  /** Who the client is, as far as the hub can tell: its metadata document's host, or the hosts it returns to. */
  identity: string;
  redirectHost: string;
  requested: Level;
  /** The level preselected: the lowest offered, so approving without a choice grants the least. */
  checked: Level;
  /** The identity provider's name when the operator may sign in with it instead of typing a key. */
  /** The label of the configured identity provider, offered as a sign-in instead of a key. */
  identityProvider?: string;
  error?: string;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function consentPage(v: ConsentView): string {
  const levels = LEVELS.filter((l) => levelRank(l) <= levelRank(v.requested));
  const radios = levels
    .map((l) => {
      const id = `level-${l.toLowerCase()}`;
      return `<label for="${id}"><input type="radio" id="${id}" name="level" value="${scopeForLevel(l)}"${l === v.checked ? ' checked' : ''}> ` +
        `<strong>${esc(scopeForLevel(l))}</strong>: ${esc(LEVEL_TEXT[l])}</label>`;
    })
    .join('');
  return page(
    'Authorize access to Omni Hub',
    `<main><h1>Authorize ${esc(v.identity)} to use Omni Hub</h1>` +
      (v.error ? `<p class="error" role="alert">${esc(v.error)}</p>` : '') +
      `<dl><dt>Client</dt><dd>${esc(v.identity)}</dd><dt>Calls itself</dt><dd>${esc(v.clientName)}</dd><dt>Client id</dt><dd>${esc(v.clientId)}</dd>` +
      `<dt>Returns to</dt><dd>${esc(v.redirectHost)}</dd><dt>Requested</dt><dd>tools up to ${esc(scopeForLevel(v.requested))}</dd></dl>` +
      `<form method="post" action="/authorize">` +
      `<input type="hidden" name="tx" value="${esc(v.tx)}"><input type="hidden" name="csrf" value="${esc(v.csrf)}">` +
      `<fieldset><legend>Grant access to tools up to</legend>${radios}</fieldset>` +
      `<label for="key">Hub key (an MCP_API_KEY value) to prove you operate this hub</label>` +
      `<input type="password" id="key" name="key" autocomplete="current-password" required>` +
      `<div class="buttons"><button type="submit" name="action" value="approve">Approve</button>` +
      `<button type="submit" name="action" value="deny" formnovalidate>Deny</button></div>` +
      (v.identityProvider
        ? `<p>Or, instead of a key:</p><div class="buttons"><button type="submit" name="action" value="oidc" formnovalidate>Sign in with ${esc(v.identityProvider)} and approve</button></div>`
        : '') +
      `</form></main>`,
  );
}

/** Shown instead of redirecting when the client or its redirect URI cannot be trusted (no open redirect). */
export function errorPage(error: string, description: string): string {
  return page('Authorization error', `<main><h1>Authorization request refused</h1><p role="alert"><strong>${esc(error)}</strong>: ${esc(description)}</p></main>`);
}
