import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { googleRequest } from '../google/rest.js';
import { GOOGLEAPIS_HOST, READ_ANNOTATIONS, SCOPES, WRITE_ANNOTATIONS } from './shared.js';

/** Fields requested from Drive v3 (files.list returns only id, name, mimeType and kind without them). */
const FILE_FIELDS = 'id,name,mimeType,size,modifiedTime,createdTime,webViewLink,parents,trashed,owners(emailAddress)';
/** Drive's limit for uploadType=multipart; larger files need a resumable upload. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

interface DriveFile {
  id?: string;
  name?: string;
  mimeType?: string;
  size?: string;
  modifiedTime?: string;
  createdTime?: string;
  webViewLink?: string;
  parents?: string[];
  trashed?: boolean;
  owners?: { emailAddress?: string }[];
}

const fileShape = z.object({
  id: z.string(),
  name: z.string(),
  mime_type: z.string(),
  size_bytes: z.number().nullable(),
  modified_time: z.string().nullable(),
  web_view_link: z.string().nullable(),
  parents: z.array(z.string()),
  owners: z.array(z.string()),
});

function shapeFile(f: DriveFile): z.infer<typeof fileShape> {
  return {
    id: f.id ?? '',
    name: f.name ?? '',
    mime_type: f.mimeType ?? '',
    // Drive reports size as a string (int64) and omits it for Google Docs formats and folders.
    size_bytes: f.size !== undefined ? Number(f.size) : null,
    modified_time: f.modifiedTime ?? null,
    web_view_link: f.webViewLink ?? null,
    parents: f.parents ?? [],
    owners: (f.owners ?? []).map((o) => o.emailAddress ?? '').filter(Boolean),
  };
}

/** Quotes a value for a Drive query string literal. */
function driveLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export const driveList = defineTool({
  name: 'google_drive_list',
  system: 'workspace',
  title: 'List or search Drive files',
  description:
    'List or search Google Drive files visible to the account: Drive query syntax (e.g. "mimeType = \'application/pdf\'") and/or a name filter, folder, ordering and paging. Returns id, name, type, size, modified time and link.',
  level: 'LOW',
  input: z.object({
    query: z.string().max(2000).optional().describe("Drive search query (files.list q), e.g. \"modifiedTime > '2025-01-01T00:00:00' and mimeType = 'text/csv'\""),
    name_contains: z.string().max(200).optional().describe('Only files whose name contains this text (added to the query)'),
    folder_id: z.string().regex(/^[A-Za-z0-9_-]+$/).max(200).optional().describe('Only files directly inside this folder id'),
    include_trashed: z.boolean().default(false).describe('Include files in the trash'),
    order_by: z.string().regex(/^[a-zA-Z_ ,]+$/).max(200).default('modifiedTime desc').describe('Sort keys, e.g. "modifiedTime desc", "name", "folder,name"'),
    page_size: z.number().int().min(1).max(100).default(20).describe('Files per page (1-100)'),
    page_token: z.string().max(1000).optional().describe('next_page_token from a previous call'),
    include_shared_drives: z.boolean().default(false).describe('Also search shared drives the account belongs to'),
  }),
  output: z.object({ files: z.array(fileShape), next_page_token: z.string().nullable(), incomplete_search: z.boolean() }),
  annotations: READ_ANNOTATIONS,
  async run(args, ctx) {
    const clauses: string[] = [];
    if (args.query) clauses.push(`(${args.query})`);
    if (args.name_contains) clauses.push(`name contains ${driveLiteral(args.name_contains)}`);
    if (args.folder_id) clauses.push(`${driveLiteral(args.folder_id)} in parents`);
    if (!args.include_trashed) clauses.push('trashed = false');
    const res = await googleRequest<{ files?: DriveFile[]; nextPageToken?: string; incompleteSearch?: boolean }>(ctx, {
      host: GOOGLEAPIS_HOST,
      path: '/drive/v3/files',
      query: {
        q: clauses.join(' and ') || undefined,
        pageSize: args.page_size,
        pageToken: args.page_token,
        orderBy: args.order_by,
        fields: `nextPageToken,incompleteSearch,files(${FILE_FIELDS})`,
        ...(args.include_shared_drives ? { supportsAllDrives: true, includeItemsFromAllDrives: true, corpora: 'allDrives' } : {}),
      },
      auth: SCOPES.driveRead,
    });
    return { files: (res.files ?? []).map(shapeFile), next_page_token: res.nextPageToken ?? null, incomplete_search: res.incompleteSearch ?? false };
  },
});

const GOOGLE_TYPES = {
  document: 'application/vnd.google-apps.document',
  spreadsheet: 'application/vnd.google-apps.spreadsheet',
  presentation: 'application/vnd.google-apps.presentation',
} as const;

/** A multipart/related body: JSON metadata part, then the media part (Drive's uploadType=multipart). */
export function multipartRelated(metadata: object, content: Buffer, contentType: string, boundary = `omni_${randomBytes(12).toString('hex')}`): { data: Buffer; contentType: string } {
  const head = `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(metadata)}\r\n--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`;
  const data = Buffer.concat([Buffer.from(head, 'utf8'), content, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
  return { data, contentType: `multipart/related; boundary=${boundary}` };
}

export const driveUpload = defineTool({
  name: 'google_drive_upload',
  system: 'workspace',
  title: 'Upload a file to Drive',
  description:
    'Create a Google Drive file from text or base64 content (≤ 5 MB) with a name, MIME type, optional folder and description; convert_to turns CSV/text/HTML into a Google Sheet, Doc or Slides. Returns the new file id and link.',
  level: 'MEDIUM',
  input: z.object({
    name: z.string().min(1).max(255).describe('File name, e.g. "report.csv"'),
    content: z.string().max(7_000_000).describe('File content: plain text, or base64 when content_encoding is "base64"'),
    content_encoding: z.enum(['text', 'base64']).default('text').describe('text: content is UTF-8 text; base64: content is base64-encoded bytes (binary files)'),
    mime_type: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/).max(255).default('text/plain').describe('MIME type of the content, e.g. text/csv, application/pdf, image/png'),
    folder_id: z.string().regex(/^[A-Za-z0-9_-]+$/).max(200).optional().describe('Parent folder id; default: the root of My Drive'),
    description: z.string().max(4000).optional().describe('File description shown in Drive'),
    convert_to: z.enum(['document', 'spreadsheet', 'presentation']).optional().describe('Convert into a Google Docs / Sheets / Slides file (e.g. text/csv → spreadsheet)'),
  }),
  output: fileShape,
  annotations: WRITE_ANNOTATIONS,
  async run(args, ctx) {
    let content: Buffer;
    if (args.content_encoding === 'base64') {
      const cleaned = args.content.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(cleaned)) throw new HubError('invalid_arguments', 'content is not valid base64', { field: 'content' });
      content = Buffer.from(cleaned, 'base64');
    } else {
      content = Buffer.from(args.content, 'utf8');
    }
    if (content.length > MAX_UPLOAD_BYTES) {
      throw new HubError('invalid_arguments', `content is ${content.length} bytes; uploads are limited to ${MAX_UPLOAD_BYTES} bytes (5 MB)`, { field: 'content' });
    }
    const metadata = {
      name: args.name,
      ...(args.convert_to ? { mimeType: GOOGLE_TYPES[args.convert_to] } : { mimeType: args.mime_type }),
      ...(args.folder_id ? { parents: [args.folder_id] } : {}),
      ...(args.description ? { description: args.description } : {}),
    };
    const file = await googleRequest<DriveFile>(ctx, {
      host: GOOGLEAPIS_HOST,
      path: '/upload/drive/v3/files',
      method: 'POST',
      query: { uploadType: 'multipart', fields: FILE_FIELDS, supportsAllDrives: true },
      rawBody: multipartRelated(metadata, content, args.mime_type),
      auth: SCOPES.driveFile,
      // A retried create would leave a duplicate file.
      idempotent: false,
    });
    return shapeFile(file);
  },
});
