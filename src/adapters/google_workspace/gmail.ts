import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { capText } from '../../tools/limits.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { MAILBOX_PATTERN, addressOf, buildMessage, toBase64Url } from './mime.js';
import { GMAIL_HOST, READ_ANNOTATIONS, SCOPES, WRITE_ANNOTATIONS, segment } from './shared.js';

const MESSAGES = '/gmail/v1/users/me/messages';
/** Gmail's send limit is 35 MB; the hub's request budget is far smaller, so bodies are capped well below it. */
const MAX_BODY_CHARS = 500_000;
const MAX_RECIPIENTS = 100;

const mailbox = z.string().max(320).regex(MAILBOX_PATTERN, 'must be an email address, optionally as "Name <address>"');
const recipients = (what: string) => z.array(mailbox.describe(`One ${what} recipient: address or "Name <address>"`)).max(MAX_RECIPIENTS);

const recipientCount = (a: { to: string[]; cc?: string[]; bcc?: string[] }): number =>
  new Set([...a.to, ...(a.cc ?? []), ...(a.bcc ?? [])].map((m) => addressOf(m).toLowerCase())).size;

export const gmailSend = defineTool({
  name: 'google_gmail_send',
  system: 'workspace',
  title: 'Send an email (Gmail)',
  description:
    'Send an email from the authenticated Gmail account: to/cc/bcc, UTF-8 subject, plain-text and/or HTML body (both → multipart/alternative). dry_run: true returns the message that would be sent without sending it.',
  level: 'HIGH',
  input: z
    .object({
      to: recipients('To').min(1).describe('Recipients (1-100): "a@example.com" or "Ana <a@example.com>"'),
      cc: recipients('Cc').optional().describe('Cc recipients (≤ 100)'),
      bcc: recipients('Bcc').optional().describe('Bcc recipients (≤ 100); not visible to the other recipients'),
      subject: z.string().max(900).regex(/^[^\r\n]*$/, 'must be one line').describe('Subject line (one line, any language)'),
      text: z.string().max(MAX_BODY_CHARS).optional().describe('Plain-text body; give text, html or both'),
      html: z.string().max(MAX_BODY_CHARS).optional().describe('HTML body; with text, the message is multipart/alternative'),
      from: mailbox.optional().describe('From address; must be the account or one of its verified send-as aliases. Default: the account'),
      reply_to: mailbox.optional().describe('Reply-To address'),
      thread_id: z.string().regex(/^[A-Za-z0-9]+$/).max(64).optional().describe('Gmail thread id to add the message to (reply in thread)'),
      in_reply_to: z.string().regex(/^<[^\s<>]+>$/).max(998).optional().describe('Message-ID being answered, e.g. "<abc@mail.gmail.com>", for threading in other clients'),
      dry_run: z.boolean().default(false).describe('true: build and return the message without sending it'),
    })
    .refine((a) => a.text !== undefined || a.html !== undefined, { message: 'give text, html or both', path: ['text'] }),
  output: z.object({
    status: z.enum(['sent', 'dry_run']),
    id: z.string().optional(),
    thread_id: z.string().optional(),
    label_ids: z.array(z.string()).optional(),
    recipients: z.number(),
    message: z.string().optional(),
    size_bytes: z.number(),
    truncated: z.boolean().optional(),
  }),
  annotations: WRITE_ANNOTATIONS,
  // dry_run: true is answered by the pipeline with this preview (no quota); run() only sends.
  preview(args) {
    const message = buildMessage(args);
    const shown = capText(message);
    const size = Buffer.byteLength(message, 'utf8');
    return { status: 'dry_run', recipients: recipientCount(args), message: shown.text, size_bytes: size, ...(shown.truncated ? { truncated: true } : {}) };
  },
  async run(args, ctx) {
    const message = buildMessage(args);
    const size = Buffer.byteLength(message, 'utf8');
    const sent = await googleRequest<{ id?: string; threadId?: string; labelIds?: string[] }>(ctx, {
      host: GMAIL_HOST,
      path: `${MESSAGES}/send`,
      method: 'POST',
      body: { raw: toBase64Url(message), ...(args.thread_id ? { threadId: args.thread_id } : {}) },
      auth: SCOPES.gmailSend,
      // Sending twice would deliver twice.
      idempotent: false,
    });
    return { status: 'sent', id: sent.id ?? '', thread_id: sent.threadId ?? '', label_ids: sent.labelIds ?? [], recipients: recipientCount(args), size_bytes: size };
  },
});

interface GmailHeader {
  name?: string;
  value?: string;
}
interface GmailMessage {
  id?: string;
  threadId?: string;
  labelIds?: string[];
  snippet?: string;
  internalDate?: string;
  payload?: { headers?: GmailHeader[] };
}

const METADATA_HEADERS = ['From', 'To', 'Cc', 'Subject', 'Date'];
/** messages.get calls in flight at once: Gmail's per-user rate limit punishes unbounded fan-out. */
const GET_CONCURRENCY = 5;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function header(msg: GmailMessage, name: string): string | null {
  const h = msg.payload?.headers?.find((x) => x.name?.toLowerCase() === name.toLowerCase());
  return h?.value ?? null;
}

async function getMetadata(ctx: ToolContext, id: string): Promise<GmailMessage | null> {
  try {
    return await googleRequest<GmailMessage>(ctx, {
      host: GMAIL_HOST,
      path: `${MESSAGES}/${segment(id)}`,
      query: { format: 'metadata', metadataHeaders: METADATA_HEADERS },
      auth: SCOPES.gmailRead,
    });
  } catch (err) {
    // A message deleted between list and get is skipped, not a failure of the search.
    if (err instanceof HubError && err.details.upstream_status === 404) return null;
    throw err;
  }
}

export const gmailSearch = defineTool({
  name: 'google_gmail_search',
  system: 'workspace',
  title: 'Search email (Gmail)',
  description:
    'Search the authenticated Gmail mailbox with Gmail query syntax (e.g. "from:ana@example.com is:unread newer_than:7d"). Returns From/To/Subject/Date headers and the snippet of up to 50 messages, newest first.',
  level: 'LOW',
  input: z.object({
    query: z.string().max(1000).default('').describe('Gmail search query, as typed in the Gmail search box; empty lists recent messages'),
    max_results: z.number().int().min(1).max(50).default(10).describe('Messages to return (1-50)'),
    label_ids: z.array(z.string().max(100).describe('Label id, e.g. INBOX, UNREAD, SENT or a user label id')).max(10).optional().describe('Only messages with all these labels'),
    include_spam_trash: z.boolean().default(false).describe('Also search Spam and Trash'),
    page_token: z.string().max(500).optional().describe('next_page_token from a previous call, for the next page'),
  }),
  output: z.object({
    messages: z.array(
      z.object({
        id: z.string(),
        thread_id: z.string(),
        from: z.string().nullable(),
        to: z.string().nullable(),
        cc: z.string().nullable(),
        subject: z.string().nullable(),
        date: z.string().nullable(),
        snippet: z.string(),
        label_ids: z.array(z.string()),
      }),
    ),
    result_size_estimate: z.number(),
    next_page_token: z.string().nullable(),
  }),
  annotations: READ_ANNOTATIONS,
  async run(args, ctx) {
    const list = await googleRequest<{ messages?: { id?: string }[]; nextPageToken?: string; resultSizeEstimate?: number }>(ctx, {
      host: GMAIL_HOST,
      path: MESSAGES,
      query: {
        q: args.query || undefined,
        maxResults: args.max_results,
        labelIds: args.label_ids,
        includeSpamTrash: args.include_spam_trash,
        pageToken: args.page_token,
      },
      auth: SCOPES.gmailRead,
    });
    const ids = (list.messages ?? []).map((m) => m.id).filter((id): id is string => Boolean(id)).slice(0, args.max_results);
    const details = await mapLimited(ids, GET_CONCURRENCY, (id) => getMetadata(ctx, id));
    const messages = details
      .filter((m): m is GmailMessage => m !== null)
      .map((m) => ({
        id: m.id ?? '',
        thread_id: m.threadId ?? '',
        from: header(m, 'From'),
        to: header(m, 'To'),
        cc: header(m, 'Cc'),
        subject: header(m, 'Subject'),
        date: header(m, 'Date'),
        snippet: m.snippet ?? '',
        label_ids: m.labelIds ?? [],
      }));
    return { messages, result_size_estimate: list.resultSizeEstimate ?? messages.length, next_page_token: list.nextPageToken ?? null };
  },
});
