import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearGoogleTokenCache } from '../../../src/adapters/google/credentials.js';
import { gmailSearch, gmailSend } from '../../../src/adapters/google_workspace/gmail.js';
import { buildMessage, encodeHeaderText } from '../../../src/adapters/google_workspace/mime.js';
import { runTool } from '../../helpers/context.js';
import { startFakeGoogleToken, type FakeGoogleToken } from '../../fakes/google-token.js';
import { decodeWords, parseMime, startFakeWorkspace, type FakeWorkspace } from '../../fakes/google-workspace.js';
import { TOKEN, ctxFor, failure } from './helpers.js';

let fake: FakeWorkspace;
let tokenServer: FakeGoogleToken | undefined;

beforeEach(async () => {
  fake = await startFakeWorkspace({ acceptToken: (t) => t === TOKEN || (tokenServer?.isValidToken(t) ?? false) });
});
afterEach(async () => {
  clearGoogleTokenCache();
  await fake.close();
  await tokenServer?.close();
  tokenServer = undefined;
});

describe('RFC 2047 / MIME building', () => {
  it('leaves ASCII subjects alone and splits UTF-8 ones into ≤ 75-char encoded words on character boundaries', () => {
    expect(encodeHeaderText('Quarterly report')).toBe('Quarterly report');
    const subject = 'Rapport trimestriel — résultats 📈 '.repeat(4);
    const encoded = encodeHeaderText(subject);
    const words = encoded.split('\r\n ');
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) {
      expect(w).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
      expect(w.length).toBeLessThanOrEqual(75);
      // Each word decodes on its own: no UTF-8 sequence is cut.
      expect(decodeWords(w)).not.toContain('\uFFFD');
    }
    expect(decodeWords(encoded.replace(/\r\n /g, ' '))).toBe(subject);
  });

  it('builds a single text/plain part when only text is given', () => {
    const parsed = parseMime(buildMessage({ to: ['a@example.com'], subject: 'Hi', text: 'Line 1\nLigne 2 é' }));
    expect(parsed.contentType).toBe('text/plain; charset="UTF-8"');
    expect(parsed.parts).toHaveLength(1);
    expect(parsed.parts[0]!.body).toBe('Line 1\nLigne 2 é');
  });
});

describe('google_gmail_send', () => {
  it('sends a multipart/alternative message with encoded subject and names, to/cc/bcc, as base64url raw', async () => {
    const ctx = ctxFor(fake.url);
    const out = await runTool(
      gmailSend,
      {
        to: ['Zoë Ångström <zoe@example.com>', 'bob@example.com'],
        cc: ['Smith, John <john@example.com>'],
        bcc: ['audit@example.com'],
        subject: 'Résumé des ventes — Q3 ✅',
        text: 'Bonjour,\nles chiffres sont prêts.',
        html: '<p>Bonjour,<br>les chiffres sont <b>prêts</b>.</p>',
        reply_to: 'sales@example.com',
      },
      ctx,
    );
    expect(out).toMatchObject({ status: 'sent', thread_id: expect.any(String), label_ids: ['SENT'], recipients: 4 });
    expect(out.id).toBe(fake.state.sent[0]!.id);

    const req = fake.requests.find((r) => r.path === '/gmail/v1/users/me/messages/send')!;
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toContain('application/json');
    const raw = (JSON.parse(req.body) as { raw: string }).raw;
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);

    const sent = fake.state.sent[0]!;
    expect(sent.rawHeaders.subject).toMatch(/^=\?UTF-8\?B\?/);
    expect(sent.headers.subject).toBe('Résumé des ventes — Q3 ✅');
    expect(sent.rawHeaders.to).toContain('=?UTF-8?B?');
    expect(sent.headers.to).toBe('Zoë Ångström <zoe@example.com>, bob@example.com');
    expect(sent.headers.cc).toBe('"Smith, John" <john@example.com>');
    expect(sent.bcc).toEqual(['audit@example.com']);
    expect(sent.headers['reply-to']).toBe('sales@example.com');
    expect(sent.headers['mime-version']).toBe('1.0');
    expect(sent.contentType).toMatch(/^multipart\/alternative; boundary="/);
    expect(sent.parts.map((p) => p.contentType)).toEqual(['text/plain; charset="UTF-8"', 'text/html; charset="UTF-8"']);
    expect(sent.parts.every((p) => p.headers['content-transfer-encoding'] === 'base64')).toBe(true);
    expect(sent.text).toBe('Bonjour,\nles chiffres sont prêts.');
    expect(sent.html).toBe('<p>Bonjour,<br>les chiffres sont <b>prêts</b>.</p>');
    expect(sent.rfc822).not.toMatch(/[^\r]\n/);
  });

  it('dry_run previews the message (the pipeline answers dry runs with it; see test/tools/dry-run.test.ts)', async () => {
    const ctx = ctxFor(fake.url);
    const out = gmailSend.preview!(gmailSend.input.parse({ to: ['a@example.com'], subject: 'Test', html: '<b>x</b>', dry_run: true }), ctx.config);
    expect(out.status).toBe('dry_run');
    expect(out.message).toContain('To: a@example.com');
    expect(out.message).toContain('Content-Type: text/html; charset="UTF-8"');
    expect(fake.requests).toHaveLength(0);
    expect(fake.state.sent).toHaveLength(0);
  });

  it('requests the gmail.send scope with a service-account key', async () => {
    tokenServer = await startFakeGoogleToken();
    const key = tokenServer.createKey();
    await runTool(gmailSend, { to: ['a@example.com'], subject: 'x', text: 'y' }, ctxFor(fake.url, { GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(key) }));
    expect(tokenServer.grants.map((g) => g.scope)).toEqual(['https://www.googleapis.com/auth/gmail.send']);
    expect(fake.state.sent).toHaveLength(1);
  });

  it('rejects header injection and a body-less message before any request', () => {
    expect(() => gmailSend.input.parse({ to: ['a@example.com'], subject: 'x\r\nBcc: evil@example.com', text: 'y' })).toThrow();
    expect(() => gmailSend.input.parse({ to: ['a@example.com\r\nBcc: e@x.com'], subject: 'x', text: 'y' })).toThrow();
    expect(() => gmailSend.input.parse({ to: ['a@example.com'], subject: 'x' })).toThrow(/text, html or both/);
  });

  it('maps a refused token to auth_error and Gmail error bodies to upstream_error', async () => {
    const bad = await failure(runTool(gmailSend, { to: ['a@example.com'], subject: 'x', text: 'y' }, ctxFor(fake.url, { GOOGLE_OAUTH_TOKEN: 'ya29.revoked' })));
    expect(bad.code).toBe('auth_error');
    expect(bad.details).toMatchObject({ upstream_status: 401, source: 'GOOGLE_OAUTH_TOKEN' });

    const missing = await failure(runTool(gmailSearch, { query: 'x' }, ctxFor(`${fake.url}/nope`)));
    expect(missing.code).toBe('upstream_error');
    expect(missing.details).toMatchObject({ upstream_status: 404, upstream_code: 'NOT_FOUND' });
  });
});

describe('google_gmail_search', () => {
  beforeEach(() => {
    for (let i = 1; i <= 4; i++) {
      fake.state.mailbox.push({
        id: `m${i}`,
        threadId: `t${i}`,
        labelIds: i === 2 ? ['INBOX', 'UNREAD'] : ['INBOX'],
        snippet: `Snippet ${i}`,
        internalDate: String(1_700_000_000_000 + i),
        headers: { From: i % 2 ? 'Ana <ana@example.com>' : 'bob@example.com', To: 'me@example.com', Subject: `Invoice ${i}`, Date: 'Mon, 1 Sep 2025 10:00:00 +0000', 'X-Other': 'ignored' },
      });
    }
  });

  it('lists with q and maxResults, then fetches metadata headers for each hit', async () => {
    const out = await runTool(gmailSearch, { query: 'from:ana@example.com invoice', max_results: 5 }, ctxFor(fake.url));
    expect(out).toMatchObject({ result_size_estimate: 2, next_page_token: null });
    expect(out.messages).toEqual([
      { id: 'm1', thread_id: 't1', from: 'Ana <ana@example.com>', to: 'me@example.com', cc: null, subject: 'Invoice 1', date: 'Mon, 1 Sep 2025 10:00:00 +0000', snippet: 'Snippet 1', label_ids: ['INBOX'] },
      expect.objectContaining({ id: 'm3', subject: 'Invoice 3' }),
    ]);
    const list = fake.requests.find((r) => r.path === '/gmail/v1/users/me/messages')!;
    expect(list.query.get('q')).toBe('from:ana@example.com invoice');
    expect(list.query.get('maxResults')).toBe('5');
    expect(list.query.get('includeSpamTrash')).toBe('false');
    const gets = fake.requests.filter((r) => r.path.startsWith('/gmail/v1/users/me/messages/m'));
    expect(gets).toHaveLength(2);
    expect(gets[0]!.query.get('format')).toBe('metadata');
    expect(gets[0]!.query.getAll('metadataHeaders')).toEqual(['From', 'To', 'Cc', 'Subject', 'Date']);
    expect(gets[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('pages with next_page_token and returns an empty list when nothing matches', async () => {
    const first = await runTool(gmailSearch, { max_results: 3 }, ctxFor(fake.url));
    expect((first.messages as unknown[]).length).toBe(3);
    expect(first.next_page_token).toBe('3');
    const second = await runTool(gmailSearch, { max_results: 3, page_token: first.next_page_token }, ctxFor(fake.url));
    expect((second.messages as { id: string }[]).map((m) => m.id)).toEqual(['m4']);

    const none = await runTool(gmailSearch, { query: 'subject:nothing-like-this' }, ctxFor(fake.url));
    expect(none).toEqual({ messages: [], result_size_estimate: 0, next_page_token: null });
  });
});
