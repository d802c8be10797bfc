import { randomBytes } from 'node:crypto';

/**
 * RFC 5322 message construction for Gmail's `raw` field: RFC 2047 encoded-words for non-ASCII header text,
 * multipart/alternative (RFC 2046) when both plain and HTML bodies are given, base64 transfer encoding for bodies.
 */

export interface MailInput {
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  reply_to?: string;
  subject: string;
  text?: string;
  html?: string;
  in_reply_to?: string;
}

/** "addr@example.com" or "Display Name <addr@example.com>". */
export const MAILBOX_PATTERN = /^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@",;]+@[^\s<>@",;]+\.[^\s<>@",;]+)$/;

const MAX_ENCODED_WORD = 75;
const ENCODED_WORD_OVERHEAD = '=?UTF-8?B??='.length;

function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/**
 * Encodes header text as RFC 2047 B-encoded words of ≤ 75 characters each, split on character (never byte)
 * boundaries so no UTF-8 sequence is cut; words are joined by folding whitespace, which decoders drop.
 */
export function encodeHeaderText(text: string): string {
  if (isPrintableAscii(text)) return text;
  const maxBytes = Math.floor((MAX_ENCODED_WORD - ENCODED_WORD_OVERHEAD) / 4) * 3;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > maxBytes) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** A mailbox with its display name encoded (non-ASCII) or quoted (RFC 5322 specials). */
export function formatMailbox(mailbox: string): string {
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(mailbox);
  if (!m) return mailbox.trim();
  const name = m[1]!.replace(/^"(.*)"$/, '$1');
  const address = m[2]!;
  if (!name) return `<${address}>`;
  if (!isPrintableAscii(name)) return `${encodeHeaderText(name)} <${address}>`;
  if (/[()<>[\]:;@\\,."]/.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  return `${name} <${address}>`;
}

/** The bare address of a mailbox, for dry-run summaries. */
export function addressOf(mailbox: string): string {
  const m = /<([^<>]+)>/.exec(mailbox);
  return (m ? m[1]! : mailbox).trim();
}

/** Address lists folded one mailbox per line, so no header line nears RFC 5322's 998-character limit. */
function addressList(mailboxes: string[]): string {
  return mailboxes.map(formatMailbox).join(',\r\n ');
}

function base64Lines(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

function bodyPart(contentType: 'text/plain' | 'text/html', text: string): string {
  return [`Content-Type: ${contentType}; charset="UTF-8"`, 'Content-Transfer-Encoding: base64', '', base64Lines(text)].join('\r\n');
}

/** The full message text with CRLF line endings, ready to base64url-encode into Gmail's `raw`. */
export function buildMessage(mail: MailInput, boundary = `omni_${randomBytes(12).toString('hex')}`): string {
  const headers: string[] = [];
  if (mail.from) headers.push(`From: ${formatMailbox(mail.from)}`);
  headers.push(`To: ${addressList(mail.to)}`);
  if (mail.cc?.length) headers.push(`Cc: ${addressList(mail.cc)}`);
  // Gmail delivers to Bcc recipients and strips the header from what the other recipients receive.
  if (mail.bcc?.length) headers.push(`Bcc: ${addressList(mail.bcc)}`);
  if (mail.reply_to) headers.push(`Reply-To: ${formatMailbox(mail.reply_to)}`);
  if (mail.in_reply_to) headers.push(`In-Reply-To: ${mail.in_reply_to}`, `References: ${mail.in_reply_to}`);
  headers.push(`Subject: ${encodeHeaderText(mail.subject)}`, 'MIME-Version: 1.0');

  if (mail.text !== undefined && mail.html !== undefined) {
    headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    const body = [`--${boundary}`, bodyPart('text/plain', mail.text), `--${boundary}`, bodyPart('text/html', mail.html), `--${boundary}--`, ''].join('\r\n');
    return `${headers.join('\r\n')}\r\n\r\n${body}`;
  }
  const single = mail.html !== undefined ? bodyPart('text/html', mail.html) : bodyPart('text/plain', mail.text ?? '');
  return `${headers.join('\r\n')}\r\n${single}\r\n`;
}

export function toBase64Url(message: string): string {
  return Buffer.from(message, 'utf8').toString('base64url');
}
