// Omni Hub operator console: plain DOM, no framework. Every value shown comes from the hub's authenticated REST
// routes and is inserted as text (never as HTML). The key lives in sessionStorage for this tab and is never rendered.
const KEY = 'omni-hub.key';
const VIEWS = ['connections', 'governance', 'audit', 'tools', 'approvals', 'oauth', 'logins'];
const AUTH_NONE = document.documentElement.dataset.auth === 'none';
const POLL_MS = 5000;
const MAX_RESULT_CHARS = 100000;

const $ = (sel) => document.querySelector(sel);
const state = { view: null, tools: [], audit: { records: [], cursor: null, pages: 0 }, tryTool: null, busy: new Set() };

/** h('td', {class: 'x'}, 'text', node) — attributes set as properties where they exist, else as attributes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

class Unauthorized extends Error {}

/** Calls the hub; a 401 anywhere signs out with a clear message. Returns {status, ok, body}. */
async function api(path, init = {}) {
  const headers = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const key = sessionStorage.getItem(KEY);
  if (key) headers.authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, { ...init, headers, cache: 'no-store' });
  } catch (err) {
    throw new Error(`the hub did not answer (${err.message})`);
  }
  const body = await res.json().catch(() => null);
  if (res.status === 401) {
    signOut(state.view ? 'The hub no longer accepts this key (401). Sign in again.' : 'Wrong key: the hub refused it (401). Enter a value of MCP_API_KEY.');
    throw new Unauthorized();
  }
  return { status: res.status, ok: res.ok, body, callId: res.headers.get('x-omni-hub-call-id') };
}

function errorText(r) {
  const e = r.body && r.body.error;
  if (!e) return `HTTP ${r.status}`;
  const retry = e.retry_after_s ? ` (retry in ${e.retry_after_s} s)` : '';
  return `${e.code}: ${e.message}${retry}`;
}

function setStatus(view, text) {
  const el = $(`#${view}-status`);
  if (el.textContent !== text) el.textContent = text;
}

async function getJson(path) {
  const r = await api(path);
  if (!r.ok) throw new Error(errorText(r));
  return r.body;
}

// ---- sign in / out ----------------------------------------------------------------------------------------------

async function signIn(key) {
  const msg = $('#login-msg');
  msg.textContent = 'Checking the key…';
  if (key) sessionStorage.setItem(KEY, key);
  try {
    const r = await api('/v1/tools');
    if (!r.ok) {
      sessionStorage.removeItem(KEY);
      msg.textContent = errorText(r);
      return;
    }
    setTools(r.body.tools);
  } catch (err) {
    if (!(err instanceof Unauthorized)) msg.textContent = err.message;
    return;
  }
  msg.textContent = '';
  $('#key').value = '';
  $('#login').hidden = true;
  $('#nav').hidden = false;
  $('#signout').hidden = AUTH_NONE;
  route();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.view = null;
  for (const v of VIEWS) $(`#${v}`).hidden = true;
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#login').hidden = false;
  $('#login-msg').textContent = message || '';
  $('#key').focus();
  $('#key').select();
}

// ---- routing and refresh ----------------------------------------------------------------------------------------

function route() {
  if ($('#login').hidden === false) return;
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'connections';
  const changed = state.view !== view;
  state.view = view;
  for (const v of VIEWS) $(`#${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#${view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (changed) {
    const heading = $(`#${view}-h`);
    heading.tabIndex = -1;
    heading.focus();
  }
  refresh(view);
}

const LOADERS = { connections: loadConnections, governance: loadGovernance, audit: loadAudit, tools: loadTools, approvals: loadApprovals, oauth: loadOAuth, logins: loadLogins };

/** One load per view at a time; failures show in the view's status line (401 already signed out). */
async function refresh(view, quiet = false) {
  if (state.busy.has(view)) return;
  state.busy.add(view);
  try {
    await LOADERS[view](quiet);
  } catch (err) {
    if (!(err instanceof Unauthorized)) {
      setStatus(view, `Could not load: ${err.message}`);
    }
  } finally {
    state.busy.delete(view);
  }
}

setInterval(() => {
  if (document.hidden || !state.view) return;
  if (state.view === 'governance') refresh('governance', true);
  if (state.view === 'approvals') refresh('approvals', true);
  if (state.view === 'audit' && $('#audit-auto').checked && state.audit.pages <= 1) refresh('audit', true);
}, POLL_MS);

// ---- connections ------------------------------------------------------------------------------------------------

async function loadConnections() {
  setStatus('connections', 'Checking every system…');
  const { systems } = await getJson('/v1/connections');
  const counts = { connected: 0, needs: 0, failed: 0 };
  $('#connections-table tbody').replaceChildren(
    ...systems.map((s) => {
      counts[s.status] += 1;
      const detail = s.status === 'needs' ? ['Set ', h('code', {}, s.variable)] : s.detail;
      return h('tr', { 'data-system': s.system },
        h('th', { scope: 'row' }, s.title, h('small', {}, s.system)),
        h('td', { class: 'num' }, s.tools),
        h('td', {}, h('span', { class: `badge st-${s.status}` }, s.label)),
        h('td', {}, detail));
    }),
  );
  setStatus('connections',
    `Checked at ${new Date().toLocaleTimeString()}: ${counts.connected} connected, ${counts.needs} need configuration, ${counts.failed} failed.`);
}

// ---- governance -------------------------------------------------------------------------------------------------

function inTime(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds <= 0) return 'now';
  return seconds < 120 ? `in ${Math.ceil(seconds)} s` : `in ${Math.ceil(seconds / 60)} min`;
}

async function loadGovernance() {
  const g = await getJson('/v1/governance');
  setStatus('governance', '');
  const mode = g.mode === 'warn' ? 'warn: over quota is allowed and flagged' : 'enforce: over quota is refused';
  const store = `${g.store ?? '?'}${g.store_healthy === false ? ' (unreachable)' : ''}`;
  const levels = Object.entries(g.levels).map(([l, n]) => `${l} ${n}`).join(' · ');
  const pairs = [['Mode', mode], ['Scope', g.scope], ['Store failure policy', g.failure_policy], ['Quota store', store], ['Hourly limits', levels]];
  $('#governance-summary').replaceChildren(...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-key': k }, v)]));
  const overrides = Object.entries(g.overrides || {});
  $('#governance-overrides').replaceChildren(
    overrides.length === 0
      ? 'None (GOVERNANCE_OVERRIDES is empty).'
      : h('ul', {}, overrides.map(([tool, o]) => h('li', {}, h('code', {}, tool), ': ',
          [o.level && `level ${o.level}`, o.limit !== undefined && `limit ${o.limit}`, o.enabled === false && 'disabled', o.enabled === true && 'enabled']
            .filter(Boolean).join(', ')))),
  );
  const filter = $('#governance-filter').value.trim().toLowerCase();
  $('#governance-table tbody').replaceChildren(
    ...g.tools.filter((t) => !filter || t.name.includes(filter)).map((t) => {
      const used = t.used ?? null;
      const usage = used === null
        ? h('span', { class: 'muted' }, g.scope === 'key' ? 'per key' : 'unknown')
        : h('span', { class: 'usage' },
            h('meter', { min: 0, max: t.limit, value: used, low: t.limit * 0.8, high: t.limit * 0.95, optimum: 0, 'aria-label': `${t.name}: ${used} of ${t.limit} calls used` }),
            h('span', { class: 'num' }, `${used} / ${t.limit}`));
      return h('tr', { 'data-tool': t.name, class: t.enabled ? null : 'disabled' },
        h('th', { scope: 'row' }, h('code', {}, t.name), h('small', {}, t.system ?? '')),
        h('td', {}, h('span', { class: `badge lv-${t.level}` }, t.level), t.enabled ? null : h('small', {}, 'disabled')),
        h('td', {}, usage),
        h('td', { class: 'reset' }, used ? inTime(t.reset_s) : '—'));
    }),
  );
}

// ---- audit ------------------------------------------------------------------------------------------------------

function auditQuery(cursor) {
  const q = new URLSearchParams({ limit: '50' });
  const tool = $('#audit-tool').value.trim();
  const outcome = $('#audit-outcome').value;
  if (tool) q.set('tool', tool);
  if (outcome) q.set('outcome', outcome);
  if (cursor) q.set('cursor', cursor);
  return `/v1/audit?${q}`;
}

function auditRow(r) {
  const time = new Date(r.ts);
  return h('tr', { 'data-id': r.id, 'data-tool': r.tool },
    h('td', {}, h('time', { datetime: r.ts, title: r.ts }, time.toLocaleTimeString())),
    h('td', {}, h('code', {}, r.tool)),
    h('td', {}, h('span', { class: `badge oc-${r.outcome}` }, r.outcome)),
    h('td', { class: 'num' }, `${r.duration_ms} ms`),
    h('td', {}, r.principal),
    h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `Details of ${r.tool} at ${time.toLocaleTimeString()}`, onclick: () => showCall(r) }, 'Details')));
}

async function loadAudit(quiet, more = false) {
  if (!quiet) setStatus('audit', 'Loading…');
  const page = await getJson(auditQuery(more ? state.audit.cursor : null));
  const a = state.audit;
  if (more) {
    a.records.push(...page.records);
    a.pages += 1;
    $('#audit-table tbody').append(...page.records.map(auditRow));
  } else {
    const same = a.pages === 1 && page.records.length === a.records.length && page.records[0]?.id === a.records[0]?.id;
    a.records = page.records;
    a.pages = 1;
    if (!same) {
      // Polling must not steal keyboard focus: a focused Details button gets its focus back in the new rows.
      const focusedId = document.activeElement?.closest('#audit-table tr')?.dataset.id;
      $('#audit-table tbody').replaceChildren(...page.records.map(auditRow));
      if (focusedId) document.querySelector(`#audit-table tr[data-id="${CSS.escape(focusedId)}"] button`)?.focus();
    }
  }
  a.cursor = page.next_cursor;
  $('#audit-more').hidden = !a.cursor;
  showAuditDelivery(page.status);
  // Only a changed message is written: the status line is a live region and polling must not chatter.
  setStatus('audit', a.records.length
    ? `${a.records.length} call${a.records.length === 1 ? '' : 's'} shown, newest first.`
    : 'No calls recorded yet for these filters.');
}

/** Says when this replica's records are still on their way to the durable store, or some were lost. */
function showAuditDelivery(status) {
  const parts = [];
  if (status?.pending > 0) parts.push(`${status.pending} record${status.pending === 1 ? '' : 's'} queued in memory`);
  if (status?.spill_bytes > 0) parts.push(`${Math.ceil(status.spill_bytes / 1024)} KB of records in the spill file`);
  if (parts.length) parts[0] = `Not yet in the audit store: ${parts[0]}`;
  if (status?.dropped > 0) parts.push(`${status.dropped} record${status.dropped === 1 ? ' was' : 's were'} lost (queue and spill full)`);
  if (status?.saturated) parts.push('the audit store is full: calls above LOW are refused with audit_unavailable unless AUDIT_FAILURE=drop');
  const text = parts.length ? `${parts.join('; ')}.` : '';
  const el = $('#audit-delivery');
  if (el.textContent !== text) el.textContent = text;
  el.hidden = !text;
}

function showCall(r) {
  const panel = $('#audit-detail');
  panel.querySelector('h3').textContent = `Call ${r.tool} (${r.outcome}) at ${r.ts}`;
  panel.querySelector('pre').textContent = JSON.stringify(r, null, 2);
  panel.hidden = false;
  panel.focus();
}

let auditFilterTimer;
$('#audit-filters').addEventListener('submit', (e) => e.preventDefault());
$('#audit-filters').addEventListener('input', () => {
  clearTimeout(auditFilterTimer);
  auditFilterTimer = setTimeout(() => refresh('audit'), 300);
});
$('#audit-more').addEventListener('click', () => loadAudit(false, true).catch((err) => {
  if (!(err instanceof Unauthorized)) setStatus('audit', `Could not load: ${err.message}`);
}));

// ---- tools ------------------------------------------------------------------------------------------------------

function setTools(tools) {
  state.tools = tools;
  $('#tool-names').replaceChildren(...tools.map((t) => h('option', { value: t.name })));
}

const HINTS = [['readOnlyHint', 'read-only'], ['destructiveHint', 'destructive'], ['idempotentHint', 'idempotent'], ['openWorldHint', 'open-world']];

async function loadTools(quiet) {
  if (!quiet) {
    setTools((await getJson('/v1/tools')).tools);
    setStatus('tools', `${state.tools.length} tools. Try one: the call goes through the same governed pipeline (quota, audit).`);
  }
  const filter = $('#tools-filter').value.trim().toLowerCase();
  const match = (t) => !filter || `${t.name} ${t.title} ${t.system}`.toLowerCase().includes(filter);
  $('#tools-table tbody').replaceChildren(
    ...state.tools.filter(match).map((t) => {
      const a = t.annotations || {};
      const hints = HINTS.filter(([k]) => a[k]).map(([, label]) => h('span', { class: `hint h-${label}` }, label));
      if (t.needs_confirmation && t.approval !== 'off') hints.push(h('span', { class: 'hint h-confirm' }, t.approval === 'person' ? 'needs a person' : 'needs confirm'));
      const status = !t.enabled ? 'disabled' : t.configured ? '✓ ready' : `⊘ needs ${t.needs}`;
      return h('tr', { 'data-tool': t.name },
        h('th', { scope: 'row' }, h('code', {}, t.name), h('small', {}, `${t.title} · ${t.system}`)),
        h('td', {}, h('span', { class: `badge lv-${t.level}` }, t.level), h('small', {}, `${t.limit}/h`)),
        h('td', { class: 'hints' }, hints),
        h('td', {}, status),
        h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `Try ${t.name}`, onclick: () => openTry(t) }, 'Try')));
    }),
  );
}

$('#tools-filter').addEventListener('input', () => loadTools(true));
$('#governance-filter').addEventListener('input', () => refresh('governance', true));

/** How a JSON Schema property is edited: simple scalars get inputs, everything else a JSON textarea. */
function kindOf(p) {
  if (Array.isArray(p.enum) && p.enum.length) return 'enum';
  if (p.type === 'string') return 'string';
  if (p.type === 'integer' || p.type === 'number') return 'number';
  if (p.type === 'boolean') return 'boolean';
  return 'json';
}

function hintText(p, kind) {
  const parts = [p.description && (/[.!?)]$/.test(p.description) ? p.description : `${p.description}.`)];
  if (p.default !== undefined) parts.push(`Default: ${JSON.stringify(p.default)}.`);
  if (p.minimum !== undefined || p.maximum !== undefined) parts.push(`Range: ${p.minimum ?? '…'} to ${p.maximum ?? '…'}.`);
  if (p.maxLength !== undefined) parts.push(`At most ${p.maxLength} characters.`);
  if (kind === 'json') parts.push(`JSON ${p.type || 'value'}.`);
  return parts.filter(Boolean).join(' ');
}

function fieldFor(name, p, required) {
  const id = `arg-${name}`;
  const kind = kindOf(p);
  const hint = h('small', { id: `${id}-hint` }, hintText(p, kind));
  const common = { id, name, 'data-kind': kind, 'aria-describedby': `${id}-hint ${id}-err`, required };
  let input;
  if (kind === 'enum') {
    input = h('select', common, required ? null : h('option', { value: '' }, p.default !== undefined ? `(default: ${p.default})` : '(none)'),
      p.enum.map((v, i) => h('option', { value: String(i) }, String(v))));
  } else if (kind === 'boolean') {
    input = h('input', { ...common, type: 'checkbox', checked: p.default === true });
  } else if (kind === 'number') {
    input = h('input', { ...common, type: 'number', inputmode: p.type === 'integer' ? 'numeric' : 'decimal', step: p.type === 'integer' ? '1' : 'any', min: p.minimum, max: p.maximum, placeholder: p.default });
  } else if (kind === 'string' && !(p.maxLength > 200)) {
    input = h('input', { ...common, type: 'text', maxlength: p.maxLength, placeholder: p.default, autocomplete: 'off', spellcheck: 'false' });
  } else {
    input = h('textarea', { ...common, rows: kind === 'json' ? 4 : 3, maxlength: kind === 'string' ? p.maxLength : null, placeholder: p.default !== undefined ? JSON.stringify(p.default) : null, spellcheck: 'false' });
  }
  input.schema = p;
  const label = h('label', { for: id }, name, required ? h('span', { class: 'req' }, ' (required)') : null);
  const err = h('span', { class: 'field-err', id: `${id}-err` });
  return h('div', { class: kind === 'boolean' ? 'field check' : 'field' }, kind === 'boolean' ? [input, label] : [label, input], hint, err);
}

function openTry(tool) {
  state.tryTool = tool;
  const schema = tool.input_schema || {};
  const required = new Set(schema.required || []);
  $('#try-h').textContent = `Try ${tool.name}`;
  $('#try-desc').textContent = tool.description;
  $('#try-fields').replaceChildren(...Object.entries(schema.properties || {}).map(([n, p]) => fieldFor(n, p, required.has(n))));
  $('#try-status').textContent = '';
  $('#try-result').textContent = '';
  $('#try').hidden = false;
  $('#try').focus();
}

/** The arguments object from the form: empty fields are left out so the tool's defaults apply. */
function readArgs() {
  const args = {};
  const problems = [];
  for (const el of $('#try-fields').querySelectorAll('[data-kind]')) {
    const p = el.schema;
    const v = el.value;
    try {
      switch (el.dataset.kind) {
        case 'boolean':
          if (el.checked !== (p.default === true) || el.required) args[el.name] = el.checked;
          break;
        case 'enum':
          if (v !== '') args[el.name] = p.enum[Number(v)];
          break;
        case 'number':
          if (v !== '') {
            const n = Number(v);
            if (!Number.isFinite(n)) throw new Error('not a number');
            args[el.name] = n;
          }
          break;
        case 'string':
          if (v !== '') args[el.name] = v;
          break;
        default:
          if (v.trim() !== '') args[el.name] = JSON.parse(v);
      }
    } catch (err) {
      problems.push({ field: el.name, message: err instanceof SyntaxError ? `invalid JSON: ${err.message}` : err.message });
    }
  }
  return { args, problems };
}

function markFields(issues) {
  for (const el of $('#try-fields').querySelectorAll('[data-kind]')) {
    const mine = issues.filter((i) => String(i.field).split('.')[0] === el.name);
    el.toggleAttribute('aria-invalid', mine.length > 0);
    $(`#arg-${el.name}-err`).textContent = mine.map((i) => i.message).join('; ');
  }
}

$('#try-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const tool = state.tryTool;
  const { args, problems } = readArgs();
  markFields(problems);
  const status = $('#try-status');
  const out = $('#try-result');
  if (problems.length) {
    status.textContent = 'Fix the highlighted fields.';
    return;
  }
  status.textContent = `Running ${tool.name}…`;
  out.textContent = '';
  try {
    const r = await api(`/v1/tools/${encodeURIComponent(tool.name)}`, { method: 'POST', body: JSON.stringify(args) });
    markFields(r.ok ? [] : r.body?.error?.issues || []);
    status.textContent = r.ok ? `${tool.name}: ok (HTTP ${r.status}, call ${r.callId ?? '?'})` : `${tool.name} failed (HTTP ${r.status}): ${errorText(r)}`;
    const text = JSON.stringify(r.body, null, 2) ?? '';
    out.textContent = text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}\n… (truncated for display)` : text;
    out.className = r.ok ? 'ok' : 'failed';
  } catch (err) {
    if (!(err instanceof Unauthorized)) status.textContent = `${tool.name} could not run: ${err.message}`;
  }
});

// ---- approvals --------------------------------------------------------------------------------------------------

async function loadApprovals() {
  const { approvals } = await getJson('/v1/approvals');
  $('#approvals-table tbody').replaceChildren(
    ...approvals.map((a) => h('tr', { 'data-approval': a.id },
      h('th', { scope: 'row' }, a.tool, h('small', {}, a.level)),
      h('td', {}, a.action),
      h('td', {}, h('code', {}, a.principal), h('small', {}, a.transport === 'rest' ? 'REST' : 'MCP')),
      h('td', {}, new Date(a.expires_at).toLocaleTimeString()),
      h('td', {}, h('a', { href: a.url, target: '_blank', rel: 'noopener', 'aria-label': `Open the approval of ${a.tool}: ${a.action}` }, 'Open')))),
  );
  setStatus('approvals', approvals.length ? `${approvals.length} waiting for a person.` : 'Nothing waits for approval.');
}

// ---- OAuth clients ----------------------------------------------------------------------------------------------

async function loadOAuth() {
  const { clients } = await getJson('/v1/oauth/clients');
  $('#oauth-table tbody').replaceChildren(
    ...clients.map((c) => h('tr', { 'data-client': c.client_id },
      // Who the client is (its document's host, or where it returns to) first: the name is its own choice.
      h('th', { scope: 'row' }, c.identity || c.client_id, h('small', {}, `calls itself ${c.client_name || '—'} · ${c.client_id} · returns to ${c.redirect_hosts.join(', ') || '—'}`)),
      h('td', {}, c.principals.map((p) => h('code', {}, p))),
      h('td', {}, c.granted.length ? c.granted.join(' ') : h('span', { class: 'muted' }, 'no live grant')),
      h('td', {}, c.last_used ? new Date(c.last_used).toLocaleString() : 'never'),
      h('td', {}, h('button', { type: 'button', class: 'small secondary', 'aria-label': `Revoke ${c.client_name || c.client_id} (${c.identity || c.client_id})`, onclick: () => revokeClient(c) }, 'Revoke')))),
  );
  setStatus('oauth', clients.length ? `${clients.length} client${clients.length === 1 ? '' : 's'}.` : 'No OAuth client yet: connect one through /mcp (see docs/chatgpt-setup.md).');
}

async function revokeClient(c) {
  const name = c.client_name || c.client_id;
  if (!window.confirm(`Revoke ${name}? Its tokens stop working now and it must be approved again.`)) return;
  try {
    const r = await api(`/v1/oauth/clients/${encodeURIComponent(c.client_id)}`, { method: 'DELETE' });
    if (!r.ok) throw new Error(errorText(r));
    await loadOAuth();
    setStatus('oauth', `Revoked ${name}: ${r.body.revoked_grants} grant(s) ended.`);
  } catch (err) {
    if (!(err instanceof Unauthorized)) setStatus('oauth', `Could not revoke ${name}: ${err.message}`);
  }
}

// ---- connections per user (auth: "user" upstreams) --------------------------------------------------------------

async function loadLogins() {
  const r = await api('/v1/user-connections');
  if (r.status === 404) {
    $('#logins-list').replaceChildren();
    setStatus('logins', 'No upstream uses "auth": "user".');
    return;
  }
  if (!r.ok) throw new Error(errorText(r));
  const { principal: me, upstreams } = r.body;
  $('#logins-list').replaceChildren(
    ...upstreams.map((u) => {
      const mine = u.grants.some((g) => g.principal === me);
      return h('div', { class: 'scroll', 'data-upstream': u.upstream },
        h('div', { class: 'bar' }, h('h3', {}, u.upstream),
          h('button', { type: 'button', class: 'small', onclick: () => connectLogin(u.upstream) }, mine ? 'Reconnect my login' : 'Connect my login')),
        h('p', { class: 'tool-list' }, toolListText(u)),
        h('table', {},
          h('caption', { class: 'sr' }, `Principals connected to ${u.upstream}, since when and with which scopes`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Principal'), h('th', { scope: 'col' }, 'Connected since'), h('th', { scope: 'col' }, 'Scopes'), h('th', { scope: 'col' }, 'Token renewed'), h('th', { scope: 'col' }, h('span', { class: 'sr' }, 'Revoke')))),
          h('tbody', {}, u.grants.length
            ? u.grants.map((g) => h('tr', { 'data-principal': g.principal },
              h('th', { scope: 'row' }, h('code', {}, g.principal), g.principal === me ? h('small', {}, 'you') : null, g.subject ? h('small', {}, `upstream user ${g.subject}`) : null),
              h('td', {}, new Date(g.connected_at).toLocaleString()),
              h('td', {}, g.scope || h('span', { class: 'muted' }, 'not stated')),
              h('td', {}, new Date(g.updated_at).toLocaleString()),
              h('td', {}, h('button', { type: 'button', class: 'small secondary', 'aria-label': `Revoke the login of ${g.principal} at ${u.upstream}`, onclick: () => revokeLogin(u.upstream, g.principal) }, 'Revoke'))))
            : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Nobody has connected yet.')))));
    }),
  );
  const total = upstreams.reduce((n, u) => n + u.grants.length, 0);
  setStatus('logins', `${total} login${total === 1 ? '' : 's'} connected across ${upstreams.length} upstream${upstreams.length === 1 ? '' : 's'}.`);
}

/** The upstream's tool list is listed with an operator's login and the same for every caller: say where it stands. */
function toolListText(u) {
  const listed = u.tool_list;
  if (!listed) {
    return u.operator_connected
      ? 'Tool list: not listed yet with the operator login (the upstream may be unreachable: see Connections).'
      : 'Tool list: none yet. The upstream lists its tools only to a signed-in user: an operator (hub key) connects their login here, and every caller then sees that list.';
  }
  const when = listed.listed_at ? ` on ${new Date(listed.listed_at).toLocaleString()}` : '';
  const source = u.operator_connected ? 'with an operator login' : 'with an operator login no longer connected (kept until one connects again)';
  return `Tool list: ${listed.tools} tool${listed.tools === 1 ? '' : 's'}, listed ${source}${when}; every caller sees the same list.`;
}

async function connectLogin(upstream) {
  // Opened first, navigated once the link exists: a window opened after an await is blocked as a pop-up.
  const tab = window.open('', '_blank');
  try {
    const r = await api(`/v1/user-connections/${encodeURIComponent(upstream)}`, { method: 'POST' });
    if (!r.ok) throw new Error(errorText(r));
    if (tab) {
      tab.opener = null;
      tab.location.href = r.body.connect_url;
    } else window.location.assign(r.body.connect_url);
    setStatus('logins', `Sign in to ${upstream} in the new tab, then press Refresh.`);
  } catch (err) {
    tab?.close();
    if (!(err instanceof Unauthorized)) setStatus('logins', `Could not start connecting to ${upstream}: ${err.message}`);
  }
}

async function revokeLogin(upstream, principal) {
  if (!window.confirm(`Revoke the login of ${principal} at ${upstream}? Their calls to ${upstream} stop until they connect again.`)) return;
  try {
    const r = await api(`/v1/user-connections/${encodeURIComponent(upstream)}?principal=${encodeURIComponent(principal)}`, { method: 'DELETE' });
    if (!r.ok) throw new Error(errorText(r));
    await loadLogins();
    setStatus('logins', `Revoked ${principal} at ${upstream}${r.body.revoked_at_upstream ? ' (and at the upstream)' : ' (the upstream offers no revocation: forgotten here)'}.`);
  } catch (err) {
    if (!(err instanceof Unauthorized)) setStatus('logins', `Could not revoke ${principal}: ${err.message}`);
  }
}

// ---- wiring -----------------------------------------------------------------------------------------------------

for (const b of document.querySelectorAll('[data-refresh]')) b.addEventListener('click', () => refresh(b.dataset.refresh));
$('#signout').addEventListener('click', () => signOut('Signed out.'));
$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('#key').value.trim();
  if (!key) {
    $('#login-msg').textContent = 'Enter the API key first.';
    return;
  }
  signIn(key);
});
window.addEventListener('hashchange', route);

if (AUTH_NONE || sessionStorage.getItem(KEY)) signIn(null);
else $('#key').focus();
