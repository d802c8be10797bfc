import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from '../helpers/fake-server.js';

/**
 * One local origin speaking the REST wire formats of Gmail v1, Drive v3 (+ multipart upload), Sheets v4 values and
 * Calendar v3 events, as documented on developers.google.com: the same paths, verbs, JSON field names and error
 * envelopes (`{"error": {code, message, status, errors}}`; Drive and Calendar v3 omit `status`). Point
 * GOOGLE_API_BASE_URL at `url`. State is plain data so tests (and the lead's end-to-end pipeline) can seed and inspect it.
 */

export type Cell = string | number | boolean;

export interface FakeRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

export interface MimePart {
  headers: Record<string, string>;
  contentType: string;
  /** Decoded (transfer encoding undone), as UTF-8 text. */
  body: string;
  bodyBytes: Buffer;
}

export interface SentMessage {
  id: string;
  threadId: string;
  /** The base64url `raw` as received. */
  raw: string;
  /** The decoded RFC 5322 text. */
  rfc822: string;
  /** Header names lower-cased; RFC 2047 words decoded, folding removed. */
  headers: Record<string, string>;
  /** Header values exactly as on the wire (unfolded, not decoded). */
  rawHeaders: Record<string, string>;
  contentType: string;
  parts: MimePart[];
  text: string | null;
  html: string | null;
  to: string[];
  cc: string[];
  bcc: string[];
}

export interface MailboxMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  headers: Record<string, string>;
}

export interface DriveFileRecord {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  description?: string;
  content: Buffer;
  createdTime: string;
  modifiedTime: string;
  trashed: boolean;
  /** The media part's Content-Type as uploaded. */
  uploadContentType?: string;
}

export interface CalendarEventRecord {
  [key: string]: unknown;
  id: string;
  summary?: string;
}

export interface FakeWorkspaceState {
  account: string;
  sent: SentMessage[];
  mailbox: MailboxMessage[];
  files: DriveFileRecord[];
  /** spreadsheet id → sheet title → grid of rows from A1. */
  sheets: Record<string, Record<string, Cell[][]>>;
  /** calendar id → events ("primary" exists). */
  events: Record<string, CalendarEventRecord[]>;
  /** sendUpdates of each event insert, in order. */
  sendUpdates: string[];
}

export interface FakeWorkspace {
  url: string;
  requests: FakeRequest[];
  state: FakeWorkspaceState;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function googleError(res: http.ServerResponse, code: number, message: string, status: string | null, reason: string): void {
  const error: Json = { code, message, errors: [{ message, domain: 'global', reason }] };
  if (status) error.status = status;
  sendJson(res, code, { error });
}

const id = (n = 16) => randomBytes(n).toString('hex').slice(0, n);

export async function startFakeWorkspace(opts: { acceptToken?: (token: string) => boolean; account?: string } = {}): Promise<FakeWorkspace> {
  const acceptToken = opts.acceptToken ?? ((t: string) => t.length > 0);
  const state: FakeWorkspaceState = { account: opts.account ?? 'me@example.com', sent: [], mailbox: [], files: [], sheets: {}, events: { primary: [] }, sendUpdates: [] };
  const requests: FakeRequest[] = [];

  const handle = (req: FakeRequest, res: http.ServerResponse): void => {
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!token || !acceptToken(token)) {
      return googleError(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'UNAUTHENTICATED', 'authError');
    }
    const p = req.path;
    if (p.startsWith('/gmail/v1/users/me/')) return gmail(req, res, state);
    if (p === '/drive/v3/about' || p === '/drive/v3/files' || p === '/upload/drive/v3/files') return drive(req, res, state);
    if (p.startsWith('/v4/spreadsheets/')) return sheets(req, res, state);
    if (p.startsWith('/calendar/v3/calendars/')) return calendar(req, res, state);
    googleError(res, 404, `Not Found: ${req.method} ${p}`, 'NOT_FOUND', 'notFound');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const rec: FakeRequest = { method: req.method ?? 'GET', url: req.url ?? '/', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, body: raw.toString('utf8'), raw };
      requests.push(rec);
      try {
        handle(rec, res);
      } catch (err) {
        if (!res.headersSent) googleError(res, 500, String(err), 'INTERNAL', 'backendError');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------- Gmail ----------

/** RFC 2047 decoding of B and Q encoded words; whitespace between adjacent encoded words is dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}

function parseHeaders(block: string): { decoded: Record<string, string>; raw: Record<string, string> } {
  const decoded: Record<string, string> = {};
  const raw: Record<string, string> = {};
  for (const line of block.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    raw[name] = value;
    decoded[name] = decodeWords(value);
  }
  return { decoded, raw };
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding?.toLowerCase() === 'quoted-printable') {
    return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  return Buffer.from(body, 'utf8');
}

function boundaryOf(contentType: string): string | null {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  return m ? m[1]! : null;
}

export function parseMime(text: string): { headers: Record<string, string>; rawHeaders: Record<string, string>; parts: MimePart[]; contentType: string } {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('no header/body separator (CRLF CRLF)');
  const { decoded, raw } = parseHeaders(text.slice(0, split));
  const body = text.slice(split + 4);
  const contentType = decoded['content-type'] ?? 'text/plain';
  const boundary = boundaryOf(contentType);
  const parts: MimePart[] = [];
  if (/^multipart\//i.test(contentType) && boundary) {
    const sections = body.split(`--${boundary}`);
    if (!sections.some((s) => s.startsWith('--'))) throw new Error('multipart body without a closing boundary');
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) break;
      const s = section.replace(/^\r\n/, '').replace(/\r\n$/, '');
      const at = s.indexOf('\r\n\r\n');
      const ph = parseHeaders(s.slice(0, at)).decoded;
      const bytes = decodeBody(s.slice(at + 4), ph['content-transfer-encoding']);
      parts.push({ headers: ph, contentType: ph['content-type'] ?? 'text/plain', body: bytes.toString('utf8'), bodyBytes: bytes });
    }
  } else {
    const bytes = decodeBody(body, decoded['content-transfer-encoding']);
    parts.push({ headers: { 'content-type': contentType }, contentType, body: bytes.toString('utf8'), bodyBytes: bytes });
  }
  return { headers: decoded, rawHeaders: raw, parts, contentType };
}

const addresses = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

function matchesQuery(m: MailboxMessage, q: string): boolean {
  const h = (name: string) => (m.headers[name] ?? '').toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => {
      const [op, ...rest] = term.split(':');
      const v = rest.join(':');
      if (!v) return [h('From'), h('To'), h('Subject'), m.snippet.toLowerCase()].some((x) => x.includes(term));
      if (op === 'from') return h('From').includes(v);
      if (op === 'to') return h('To').includes(v);
      if (op === 'subject') return h('Subject').includes(v);
      if (op === 'is') return m.labelIds.map((l) => l.toLowerCase()).includes(v);
      if (op === 'label') return m.labelIds.map((l) => l.toLowerCase()).includes(v);
      return true;
    });
}

function gmail(req: FakeRequest, res: http.ServerResponse, state: FakeWorkspaceState): void {
  const rest = req.path.slice('/gmail/v1/users/me/'.length);
  if (req.method === 'GET' && rest === 'profile') {
    return sendJson(res, 200, { emailAddress: state.account, messagesTotal: state.mailbox.length, threadsTotal: state.mailbox.length, historyId: '1000' });
  }
  if (req.method === 'POST' && rest === 'messages/send') {
    let payload: { raw?: string; threadId?: string };
    try {
      payload = JSON.parse(req.body) as typeof payload;
    } catch {
      return googleError(res, 400, 'Invalid JSON payload received.', 'INVALID_ARGUMENT', 'parseError');
    }
    if (!payload.raw) return googleError(res, 400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'INVALID_ARGUMENT', 'invalidArgument');
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(payload.raw)) return googleError(res, 400, "Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed", 'INVALID_ARGUMENT', 'invalid');
    const rfc822 = Buffer.from(payload.raw, 'base64url').toString('utf8');
    let parsed: ReturnType<typeof parseMime>;
    try {
      parsed = parseMime(rfc822);
    } catch (err) {
      return googleError(res, 400, `Invalid message: ${(err as Error).message}`, 'INVALID_ARGUMENT', 'invalidArgument');
    }
    const to = addresses(parsed.headers.to);
    const cc = addresses(parsed.headers.cc);
    const bcc = addresses(parsed.headers.bcc);
    if (!to.length && !cc.length && !bcc.length) return googleError(res, 400, 'Recipient address required', 'INVALID_ARGUMENT', 'invalidArgument');
    const msgId = id();
    const threadId = payload.threadId ?? msgId;
    const part = (type: string) => parsed.parts.find((x) => x.contentType.toLowerCase().startsWith(type))?.body ?? null;
    state.sent.push({ id: msgId, threadId, raw: payload.raw, rfc822, headers: parsed.headers, rawHeaders: parsed.rawHeaders, contentType: parsed.contentType, parts: parsed.parts, text: part('text/plain'), html: part('text/html'), to, cc, bcc });
    state.mailbox.unshift({
      id: msgId,
      threadId,
      labelIds: ['SENT'],
      snippet: (part('text/plain') ?? '').slice(0, 100),
      internalDate: String(Date.now()),
      headers: { From: parsed.headers.from ?? state.account, To: parsed.headers.to ?? '', Subject: parsed.headers.subject ?? '', Date: new Date().toUTCString() },
    });
    return sendJson(res, 200, { id: msgId, threadId, labelIds: ['SENT'] });
  }
  if (req.method === 'GET' && rest === 'messages') {
    const max = Math.min(Number(req.query.get('maxResults') ?? 100), 500);
    const offset = Number(req.query.get('pageToken') ?? 0);
    const labels = req.query.getAll('labelIds');
    const spamTrash = req.query.get('includeSpamTrash') === 'true';
    const hits = state.mailbox.filter(
      (m) => (spamTrash || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH')) && labels.every((l) => m.labelIds.includes(l)) && matchesQuery(m, req.query.get('q') ?? ''),
    );
    const page = hits.slice(offset, offset + max);
    // Gmail omits `messages` when nothing matches.
    return sendJson(res, 200, {
      ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
      ...(offset + max < hits.length ? { nextPageToken: String(offset + max) } : {}),
      resultSizeEstimate: hits.length,
    });
  }
  const get = /^messages\/([^/]+)$/.exec(rest);
  if (req.method === 'GET' && get) {
    const m = state.mailbox.find((x) => x.id === get[1]);
    if (!m) return googleError(res, 404, 'Requested entity was not found.', 'NOT_FOUND', 'notFound');
    const wanted = req.query.getAll('metadataHeaders').map((h) => h.toLowerCase());
    const headers = Object.entries(m.headers)
      .filter(([name]) => req.query.get('format') !== 'metadata' || !wanted.length || wanted.includes(name.toLowerCase()))
      .map(([name, value]) => ({ name, value }));
    return sendJson(res, 200, { id: m.id, threadId: m.threadId, labelIds: m.labelIds, snippet: m.snippet, internalDate: m.internalDate, sizeEstimate: 1024, historyId: '1000', payload: { mimeType: 'text/plain', headers } });
  }
  googleError(res, 404, 'Not Found', 'NOT_FOUND', 'notFound');
}

// ---------- Drive ----------

const literal = "'((?:[^'\\\\]|\\\\.)*)'";
const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

function driveClause(clause: string): ((f: DriveFileRecord) => boolean) | null {
  const c = clause.trim().replace(/^\((.*)\)$/, '$1').trim();
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^name contains ${literal}$`).exec(c))) return (f) => f.name.includes(unescape(m![1]!));
  if ((m = new RegExp(`^name = ${literal}$`).exec(c))) return (f) => f.name === unescape(m![1]!);
  if ((m = new RegExp(`^mimeType (=|!=) ${literal}$`).exec(c))) return (f) => (f.mimeType === unescape(m![2]!)) === (m![1] === '=');
  if ((m = new RegExp(`^${literal} in parents$`).exec(c))) return (f) => f.parents.includes(unescape(m![1]!));
  if ((m = /^trashed (=|!=) (true|false)$/.exec(c))) return (f) => (f.trashed === (m![2] === 'true')) === (m![1] === '=');
  return null;
}

function driveFile(f: DriveFileRecord): Json {
  return {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    parents: f.parents,
    trashed: f.trashed,
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    webViewLink: `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    owners: [{ emailAddress: 'me@example.com' }],
    // Google Docs formats have no size.
    ...(f.mimeType.startsWith('application/vnd.google-apps.') ? {} : { size: String(f.content.length) }),
    ...(f.description ? { description: f.description } : {}),
  };
}

function drive(req: FakeRequest, res: http.ServerResponse, state: FakeWorkspaceState): void {
  if (req.method === 'GET' && req.path === '/drive/v3/about') {
    if (!req.query.get('fields')) return googleError(res, 400, "The 'fields' parameter is required for this method.", null, 'required');
    return sendJson(res, 200, { user: { kind: 'drive#user', displayName: 'Fake User', emailAddress: state.account, me: true, permissionId: '123' } });
  }
  if (req.method === 'GET' && req.path === '/drive/v3/files') {
    const q = req.query.get('q') ?? '';
    const filters: ((f: DriveFileRecord) => boolean)[] = [];
    for (const clause of q ? q.split(/\s+and\s+/) : []) {
      const f = driveClause(clause);
      if (!f) return googleError(res, 400, 'Invalid Value', null, 'invalid');
      filters.push(f);
    }
    const size = Math.min(Number(req.query.get('pageSize') ?? 100), 1000);
    const offset = Number(req.query.get('pageToken') ?? 0);
    const hits = state.files.filter((f) => filters.every((fn) => fn(f)));
    if (req.query.get('orderBy')?.startsWith('modifiedTime desc')) hits.sort((a, b) => b.modifiedTime.localeCompare(a.modifiedTime));
    const page = hits.slice(offset, offset + size);
    return sendJson(res, 200, { kind: 'drive#fileList', incompleteSearch: false, files: page.map(driveFile), ...(offset + size < hits.length ? { nextPageToken: String(offset + size) } : {}) });
  }
  if (req.method === 'POST' && req.path === '/upload/drive/v3/files') {
    if (req.query.get('uploadType') !== 'multipart') return googleError(res, 400, 'Unsupported upload type', null, 'badContent');
    const boundary = boundaryOf(String(req.headers['content-type'] ?? ''));
    if (!String(req.headers['content-type']).startsWith('multipart/related') || !boundary) return googleError(res, 400, 'Bad content type. Please use multipart.', null, 'badContent');
    const parts = splitMultipart(req.raw, boundary);
    if (parts.length !== 2) return googleError(res, 400, 'Multipart body must have a metadata part and a media part', null, 'badContent');
    let meta: { name?: string; mimeType?: string; parents?: string[]; description?: string };
    try {
      meta = JSON.parse(parts[0]!.body.toString('utf8')) as typeof meta;
    } catch {
      return googleError(res, 400, 'Invalid JSON in metadata part', null, 'parseError');
    }
    const now = new Date().toISOString();
    const file: DriveFileRecord = {
      id: `1${id(32)}`,
      name: meta.name ?? 'Untitled',
      mimeType: meta.mimeType ?? parts[1]!.headers['content-type'] ?? 'application/octet-stream',
      parents: meta.parents ?? ['root'],
      description: meta.description,
      content: parts[1]!.body,
      createdTime: now,
      modifiedTime: now,
      trashed: false,
      uploadContentType: parts[1]!.headers['content-type'],
    };
    state.files.push(file);
    return sendJson(res, 200, driveFile(file));
  }
  googleError(res, 404, 'Not Found', null, 'notFound');
}

function splitMultipart(raw: Buffer, boundary: string): { headers: Record<string, string>; body: Buffer }[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const text = Buffer.concat([Buffer.from('\r\n'), raw]);
  const out: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = text.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (text.subarray(start, start + 2).toString() === '--') break;
    const next = text.indexOf(delimiter, start);
    if (next < 0) break;
    const section = text.subarray(start + 2, next);
    const sep = section.indexOf('\r\n\r\n');
    out.push({ headers: parseHeaders(section.subarray(0, sep).toString('utf8')).decoded, body: section.subarray(sep + 4) });
    at = next;
  }
  return out;
}

// ---------- Sheets ----------

interface GridRange {
  sheet: string;
  r1: number;
  c1: number;
  /** Inclusive; null = open-ended. */
  r2: number | null;
  c2: number | null;
  /** A two-cell range ("A1:B2"): writes must stay inside it. A single cell only anchors the write. */
  bounded: boolean;
}

function colIndex(letters: string): number {
  return [...letters.toUpperCase()].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
}
function colName(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}
const sheetRef = (sheet: string) => (/^[A-Za-z0-9_]+$/.test(sheet) ? sheet : `'${sheet.replace(/'/g, "''")}'`);
function a1(g: GridRange, rows: number, cols: number): string {
  return `${sheetRef(g.sheet)}!${colName(g.c1)}${g.r1 + 1}:${colName(g.c1 + Math.max(cols, 1) - 1)}${g.r1 + Math.max(rows, 1)}`;
}

function parseRange(range: string, book: Record<string, Cell[][]>): GridRange | null {
  let sheet: string | undefined;
  let cells: string | undefined;
  const m = /^(?:'((?:[^']|'')+)'|([^!]+))!(.*)$/.exec(range);
  if (m) {
    sheet = (m[1] ?? m[2])!.replace(/''/g, "'");
    cells = m[3];
  } else if (range in book) {
    sheet = range;
  } else {
    sheet = Object.keys(book)[0];
    cells = range;
  }
  if (!sheet || !(sheet in book)) return null;
  if (!cells) return { sheet, r1: 0, c1: 0, r2: null, c2: null, bounded: false };
  const c = /^([A-Za-z]{0,3})(\d*)(?::([A-Za-z]{0,3})(\d*))?$/.exec(cells);
  if (!c || (!c[1] && !c[2])) return null;
  const r1 = c[2] ? Number(c[2]) - 1 : 0;
  const c1 = c[1] ? colIndex(c[1]) : 0;
  if (c[3] === undefined && c[4] === undefined) return { sheet, r1, c1, r2: c[2] ? r1 : null, c2: c[1] ? c1 : null, bounded: false };
  return { sheet, r1, c1, r2: c[4] ? Number(c[4]) - 1 : null, c2: c[3] ? colIndex(c[3]) : null, bounded: true };
}

function formatted(v: Cell): string {
  return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v);
}

function userEntered(v: Cell): Cell {
  if (typeof v !== 'string') return v;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (/^(true|false)$/i.test(v)) return v.toUpperCase() === 'TRUE';
  return v;
}

function sheets(req: FakeRequest, res: http.ServerResponse, state: FakeWorkspaceState): void {
  const m = /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+?)(:append)?$/.exec(req.path);
  if (!m) return googleError(res, 404, 'Not Found', 'NOT_FOUND', 'notFound');
  const [, spreadsheetId, range, append] = m as unknown as [string, string, string, string | undefined];
  const book = state.sheets[spreadsheetId];
  if (!book) return googleError(res, 404, 'Requested entity was not found.', 'NOT_FOUND', 'notFound');
  const g = parseRange(range, book);
  if (!g) return googleError(res, 400, `Unable to parse range: ${range}`, 'INVALID_ARGUMENT', 'badRequest');
  const grid = book[g.sheet]!;

  if (req.method === 'GET' && !append) {
    const render = req.query.get('valueRenderOption') ?? 'FORMATTED_VALUE';
    const lastRow = Math.min(g.r2 ?? grid.length - 1, grid.length - 1);
    const rows: Cell[][] = [];
    for (let r = g.r1; r <= lastRow; r++) {
      const row = grid[r] ?? [];
      const end = Math.min(g.c2 ?? row.length - 1, row.length - 1);
      const cells: Cell[] = [];
      for (let c = g.c1; c <= end; c++) cells.push(row[c] ?? '');
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      rows.push(render === 'FORMATTED_VALUE' ? cells.map(formatted) : cells);
    }
    while (rows.length && rows[rows.length - 1]!.length === 0) rows.pop();
    const width = rows.reduce((n, r) => Math.max(n, r.length), 0);
    return sendJson(res, 200, {
      range: a1(g, g.r2 !== null ? g.r2 - g.r1 + 1 : rows.length, g.c2 !== null ? g.c2 - g.c1 + 1 : width),
      majorDimension: 'ROWS',
      ...(rows.length ? { values: rows } : {}),
    });
  }

  const option = req.query.get('valueInputOption');
  if (option !== 'RAW' && option !== 'USER_ENTERED') return googleError(res, 400, "Invalid valueInputOption: ''", 'INVALID_ARGUMENT', 'badRequest');
  let body: { values?: (Cell | null)[][]; majorDimension?: string };
  try {
    body = JSON.parse(req.body) as typeof body;
  } catch {
    return googleError(res, 400, 'Invalid JSON payload received.', 'INVALID_ARGUMENT', 'parseError');
  }
  const values = body.values ?? [];
  const write = (startRow: number, startCol: number): { rows: number; cols: number; cells: number } => {
    let cols = 0;
    let cells = 0;
    values.forEach((row, i) => {
      const target = (grid[startRow + i] ??= []);
      row.forEach((v, j) => {
        if (v === null) return;
        while (target.length < startCol + j) target.push('');
        target[startCol + j] = option === 'USER_ENTERED' ? userEntered(v) : v;
        cells++;
      });
      cols = Math.max(cols, row.length);
    });
    for (let r = 0; r < startRow; r++) grid[r] ??= [];
    return { rows: values.length, cols, cells };
  };

  if (req.method === 'PUT' && !append) {
    const width = values.reduce((n, r) => Math.max(n, r.length), 0);
    if (g.bounded && g.r2 !== null && g.r1 + values.length - 1 > g.r2) {
      return googleError(res, 400, `Requested writing within range [${range}], but tried writing to row [${g.r1 + values.length}]`, 'INVALID_ARGUMENT', 'badRequest');
    }
    if (g.bounded && g.c2 !== null && g.c1 + width - 1 > g.c2) {
      return googleError(res, 400, `Requested writing within range [${range}], but tried writing to column [${colName(g.c1 + width - 1)}]`, 'INVALID_ARGUMENT', 'badRequest');
    }
    const w = write(g.r1, g.c1);
    return sendJson(res, 200, { spreadsheetId, updatedRange: a1(g, w.rows, w.cols), updatedRows: w.rows, updatedColumns: w.cols, updatedCells: w.cells });
  }
  if (req.method === 'POST' && append) {
    // The "table" is the data found in the range; new rows go after its last non-empty row.
    let last = -1;
    grid.forEach((row, r) => {
      if (r >= g.r1 && row.slice(g.c1, g.c2 === null ? undefined : g.c2 + 1).some((v) => v !== '')) last = r;
    });
    const start = last >= 0 ? last + 1 : g.r1;
    const tableWidth = last >= 0 ? grid.slice(g.r1, last + 1).reduce((n, r) => Math.max(n, r.length - g.c1), 0) : 0;
    const w = write(start, g.c1);
    const target = { ...g, r1: start };
    return sendJson(res, 200, {
      spreadsheetId,
      ...(last >= 0 ? { tableRange: a1(g, last - g.r1 + 1, tableWidth) } : {}),
      updates: { spreadsheetId, updatedRange: a1(target, w.rows, w.cols), updatedRows: w.rows, updatedColumns: w.cols, updatedCells: w.cells },
    });
  }
  googleError(res, 404, 'Not Found', 'NOT_FOUND', 'notFound');
}

// ---------- Calendar ----------

function calendar(req: FakeRequest, res: http.ServerResponse, state: FakeWorkspaceState): void {
  const m = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(req.path);
  if (!m || req.method !== 'POST') return googleError(res, 404, 'Not Found', null, 'notFound');
  const calendarId = m[1]!;
  const events = state.events[calendarId];
  if (!events) return googleError(res, 404, 'Not Found', null, 'notFound');
  let ev: Json;
  try {
    ev = JSON.parse(req.body) as Json;
  } catch {
    return googleError(res, 400, 'Parse Error', null, 'parseError');
  }
  const start = ev.start as { date?: string; dateTime?: string; timeZone?: string } | undefined;
  const end = ev.end as { date?: string; dateTime?: string; timeZone?: string } | undefined;
  if (!start || (!start.date && !start.dateTime)) return googleError(res, 400, 'Missing start time.', null, 'required');
  if (!end || (!end.date && !end.dateTime)) return googleError(res, 400, 'Missing end time.', null, 'required');
  if (start.dateTime && !/(Z|[+-]\d{2}:\d{2})$/.test(start.dateTime) && !start.timeZone) {
    return googleError(res, 400, 'Missing time zone definition for start time.', null, 'missingTimeZone');
  }
  if (Date.parse(end.dateTime ?? end.date!) <= Date.parse(start.dateTime ?? start.date!)) {
    return googleError(res, 400, 'The specified time range is empty.', null, 'timeRangeEmpty');
  }
  const eventId = id(26).toLowerCase();
  const withMeet = req.query.get('conferenceDataVersion') === '1' && (ev.conferenceData as { createRequest?: unknown } | undefined)?.createRequest;
  const created: CalendarEventRecord = {
    kind: 'calendar#event',
    etag: `"${Date.now()}"`,
    id: eventId,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${eventId} ${state.account}`).toString('base64url')}`,
    created: new Date().toISOString(),
    updated: new Date().toISOString(),
    summary: ev.summary as string | undefined,
    ...(ev.description ? { description: ev.description } : {}),
    ...(ev.location ? { location: ev.location } : {}),
    creator: { email: state.account, self: true },
    organizer: { email: calendarId === 'primary' ? state.account : calendarId, self: true },
    start,
    end,
    iCalUID: `${eventId}@google.com`,
    sequence: 0,
    ...(Array.isArray(ev.attendees) ? { attendees: (ev.attendees as { email: string }[]).map((a) => ({ email: a.email, responseStatus: 'needsAction' })) } : {}),
    ...(withMeet ? { hangoutLink: 'https://meet.google.com/abc-defg-hij', conferenceData: { ...(ev.conferenceData as Json), conferenceId: 'abc-defg-hij' } } : {}),
    reminders: { useDefault: true },
    eventType: 'default',
  };
  events.push(created);
  state.sendUpdates.push(req.query.get('sendUpdates') ?? 'false');
  sendJson(res, 200, created);
}
