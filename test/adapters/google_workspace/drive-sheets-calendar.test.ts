import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { calendarCreateEvent } from '../../../src/adapters/google_workspace/calendar.js';
import { driveList, driveUpload } from '../../../src/adapters/google_workspace/drive.js';
import { sheetsRead, sheetsWrite } from '../../../src/adapters/google_workspace/sheets.js';
import { runTool } from '../../helpers/context.js';
import { startFakeWorkspace, type FakeWorkspace } from '../../fakes/google-workspace.js';
import { TOKEN, ctxFor, failure } from './helpers.js';

let fake: FakeWorkspace;
beforeEach(async () => {
  fake = await startFakeWorkspace({ acceptToken: (t) => t === TOKEN });
});
afterEach(() => fake.close());

const SHEET_ID = '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms';

describe('google_drive_list', () => {
  beforeEach(() => {
    const file = (id: string, name: string, mimeType: string, modifiedTime: string, extra: Partial<FakeWorkspace['state']['files'][number]> = {}) => ({
      id, name, mimeType, parents: ['root'], content: Buffer.from('abc'), createdTime: modifiedTime, modifiedTime, trashed: false, ...extra,
    });
    fake.state.files.push(
      file('f1', "Q3 sales.csv", 'text/csv', '2025-09-01T10:00:00.000Z'),
      file('f2', 'Q3 plan', 'application/vnd.google-apps.document', '2025-09-02T10:00:00.000Z', { parents: ['folderA'] }),
      file('f3', 'Q3 old.csv', 'text/csv', '2025-08-01T10:00:00.000Z', { trashed: true }),
    );
  });

  it('builds q from query, name and folder, asks for the fields it returns, and shapes files', async () => {
    const out = await runTool(driveList, { query: "mimeType = 'text/csv'", name_contains: "Q3 sales", page_size: 10 }, ctxFor(fake.url));
    const req = fake.requests[0]!;
    expect(req.path).toBe('/drive/v3/files');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.query.get('q')).toBe("(mimeType = 'text/csv') and name contains 'Q3 sales' and trashed = false");
    expect(req.query.get('pageSize')).toBe('10');
    expect(req.query.get('orderBy')).toBe('modifiedTime desc');
    expect(req.query.get('fields')).toMatch(/^nextPageToken,incompleteSearch,files\(id,name,mimeType,size,/);
    expect(out).toEqual({
      files: [{ id: 'f1', name: 'Q3 sales.csv', mime_type: 'text/csv', size_bytes: 3, modified_time: '2025-09-01T10:00:00.000Z', web_view_link: 'https://drive.google.com/file/d/f1/view?usp=drivesdk', parents: ['root'], owners: ['me@example.com'] }],
      next_page_token: null,
      incomplete_search: false,
    });

    const inFolder = await runTool(driveList, { folder_id: 'folderA', name_contains: "it's" }, ctxFor(fake.url));
    expect(fake.requests[1]!.query.get('q')).toBe("name contains 'it\\'s' and 'folderA' in parents and trashed = false");
    expect(inFolder.files).toEqual([]);
  });

  it('maps a Drive v3 error body (no status field) to upstream_error', async () => {
    const err = await failure(runTool(driveList, { query: 'name has nonsense' }, ctxFor(fake.url)));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 400, upstream_code: 'INVALID_ARGUMENT' });
    expect(err.message).toContain('Invalid Value');
  });
});

describe('google_drive_upload', () => {
  it('posts multipart/related metadata + text content to the upload endpoint', async () => {
    const out = await runTool(driveUpload, { name: 'notes.csv', content: 'a,b\n1,é\n', mime_type: 'text/csv', folder_id: 'folderA', description: 'from the hub' }, ctxFor(fake.url));
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/upload/drive/v3/files');
    expect(req.query.get('uploadType')).toBe('multipart');
    expect(req.headers['content-type']).toMatch(/^multipart\/related; boundary=/);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const file = fake.state.files[0]!;
    expect(file).toMatchObject({ name: 'notes.csv', mimeType: 'text/csv', parents: ['folderA'], description: 'from the hub', uploadContentType: 'text/csv' });
    expect(file.content.toString('utf8')).toBe('a,b\n1,é\n');
    expect(out).toMatchObject({ id: file.id, name: 'notes.csv', mime_type: 'text/csv', size_bytes: Buffer.byteLength('a,b\n1,é\n'), parents: ['folderA'] });
  });

  it('uploads base64 binary content byte for byte and converts to a Google type on request', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);
    await runTool(driveUpload, { name: 'x.png', content: bytes.toString('base64'), content_encoding: 'base64', mime_type: 'image/png' }, ctxFor(fake.url));
    expect(fake.state.files[0]!.content.equals(bytes)).toBe(true);

    const sheet = await runTool(driveUpload, { name: 'Report', content: 'a,b\n1,2\n', mime_type: 'text/csv', convert_to: 'spreadsheet' }, ctxFor(fake.url));
    expect(fake.state.files[1]).toMatchObject({ mimeType: 'application/vnd.google-apps.spreadsheet', uploadContentType: 'text/csv' });
    expect(sheet.size_bytes).toBeNull();
  });

  it('refuses invalid base64 without calling Drive', async () => {
    const err = await failure(runTool(driveUpload, { name: 'x', content: '***', content_encoding: 'base64' }, ctxFor(fake.url)));
    expect(err.code).toBe('invalid_arguments');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('google_sheets_read / google_sheets_write', () => {
  beforeEach(() => {
    fake.state.sheets[SHEET_ID] = {
      Sales: [
        ['Name', 'Score', 'Active'],
        ['Ana', 42, true],
        ['Bob', 7, false],
      ],
      'Other sheet': [],
    };
  });

  it('reads a range as rows, encoding the A1 range in the path', async () => {
    const out = await runTool(sheetsRead, { spreadsheet_id: SHEET_ID, range: 'Sales!A1:C10' }, ctxFor(fake.url));
    const req = fake.requests[0]!;
    expect(req.url).toContain(`/v4/spreadsheets/${SHEET_ID}/values/Sales!A1%3AC10?`);
    expect(req.query.get('valueRenderOption')).toBe('FORMATTED_VALUE');
    expect(req.query.get('majorDimension')).toBe('ROWS');
    expect(out).toEqual({
      range: 'Sales!A1:C10',
      major_dimension: 'ROWS',
      rows: [['Name', 'Score', 'Active'], ['Ana', '42', 'TRUE'], ['Bob', '7', 'FALSE']],
      row_count: 3,
      column_count: 3,
      truncated: false,
    });
    const raw = await runTool(sheetsRead, { spreadsheet_id: SHEET_ID, range: 'Sales', value_render_option: 'UNFORMATTED_VALUE', max_rows: 2 }, ctxFor(fake.url));
    expect(raw).toMatchObject({ rows: [['Name', 'Score', 'Active'], ['Ana', 42, true]], truncated: true });
  });

  it('returns no rows for an empty range', async () => {
    const out = await runTool(sheetsRead, { spreadsheet_id: SHEET_ID, range: "'Other sheet'!A1:B2" }, ctxFor(fake.url));
    expect(out).toMatchObject({ rows: [], row_count: 0, truncated: false });
  });

  it('appends rows after the table with valueInputOption and insertDataOption', async () => {
    const out = await runTool(sheetsWrite, { spreadsheet_id: SHEET_ID, range: 'Sales!A:C', values: [['Cleo', '19', 'true']] }, ctxFor(fake.url));
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/v4/spreadsheets/${SHEET_ID}/values/Sales!A:C:append`);
    expect(req.query.get('valueInputOption')).toBe('USER_ENTERED');
    expect(req.query.get('insertDataOption')).toBe('INSERT_ROWS');
    expect(JSON.parse(req.body)).toEqual({ range: 'Sales!A:C', majorDimension: 'ROWS', values: [['Cleo', '19', 'true']] });
    expect(out).toEqual({ mode: 'append', spreadsheet_id: SHEET_ID, updated_range: 'Sales!A4:C4', updated_rows: 1, updated_columns: 3, updated_cells: 3, table_range: 'Sales!A1:C3' });
    // USER_ENTERED parsed the typed strings.
    expect(fake.state.sheets[SHEET_ID]!.Sales![3]).toEqual(['Cleo', 19, true]);
  });

  it('updates cells in place with PUT and reports the updated range', async () => {
    const out = await runTool(sheetsWrite, { spreadsheet_id: SHEET_ID, range: 'Sales!B2', values: [[50], [null]], mode: 'update', value_input_option: 'RAW' }, ctxFor(fake.url));
    const req = fake.requests[0]!;
    expect(req.method).toBe('PUT');
    expect(req.path).toBe(`/v4/spreadsheets/${SHEET_ID}/values/Sales!B2`);
    expect(req.query.get('valueInputOption')).toBe('RAW');
    expect(out).toMatchObject({ mode: 'update', updated_range: 'Sales!B2:B3', updated_rows: 2, updated_cells: 1, table_range: null });
    expect(fake.state.sheets[SHEET_ID]!.Sales![1]).toEqual(['Ana', 50, true]);
    expect(fake.state.sheets[SHEET_ID]!.Sales![2]).toEqual(['Bob', 7, false]);
  });

  it('maps Sheets errors (bad range, unknown spreadsheet) to upstream_error with the upstream message', async () => {
    const tooBig = await failure(runTool(sheetsWrite, { spreadsheet_id: SHEET_ID, range: 'Sales!A1:B1', values: [[1, 2], [3, 4]], mode: 'update' }, ctxFor(fake.url)));
    expect(tooBig.code).toBe('upstream_error');
    expect(tooBig.details).toMatchObject({ upstream_status: 400, upstream_code: 'INVALID_ARGUMENT' });
    expect(tooBig.message).toContain('Requested writing within range');

    const missing = await failure(runTool(sheetsRead, { spreadsheet_id: 'doesNotExist0000', range: 'A1' }, ctxFor(fake.url)));
    expect(missing.details).toMatchObject({ upstream_status: 404, upstream_code: 'NOT_FOUND' });
  });
});

describe('google_calendar_create_event', () => {
  it('inserts an event with dateTime + timeZone, attendees, sendUpdates and a Meet request', async () => {
    fake.state.events['team@group.calendar.google.com'] = [];
    const out = await runTool(
      calendarCreateEvent,
      {
        calendar_id: 'team@group.calendar.google.com',
        summary: 'Quarterly review',
        start: '2025-10-01T09:00',
        end: '2025-10-01T10:00:00',
        time_zone: 'Europe/Paris',
        location: 'Room 4',
        attendees: ['ana@example.com', 'bob@example.com'],
        send_updates: 'all',
        create_meet_link: true,
      },
      ctxFor(fake.url),
    );
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/calendar/v3/calendars/team@group.calendar.google.com/events');
    expect(req.url).toContain('/calendars/team%40group.calendar.google.com/events');
    expect(req.query.get('sendUpdates')).toBe('all');
    expect(req.query.get('conferenceDataVersion')).toBe('1');
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      summary: 'Quarterly review',
      location: 'Room 4',
      start: { dateTime: '2025-10-01T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2025-10-01T10:00:00', timeZone: 'Europe/Paris' },
      attendees: [{ email: 'ana@example.com' }, { email: 'bob@example.com' }],
      conferenceData: { createRequest: { conferenceSolutionKey: { type: 'hangoutsMeet' } } },
    });
    const stored = fake.state.events['team@group.calendar.google.com']![0]!;
    expect(out).toEqual({
      id: stored.id,
      status: 'confirmed',
      html_link: stored.htmlLink,
      summary: 'Quarterly review',
      start: { dateTime: '2025-10-01T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2025-10-01T10:00:00', timeZone: 'Europe/Paris' },
      attendees: [{ email: 'ana@example.com', response_status: 'needsAction' }, { email: 'bob@example.com', response_status: 'needsAction' }],
      meet_link: 'https://meet.google.com/abc-defg-hij',
    });
  });

  it('creates all-day events with date fields on the primary calendar', async () => {
    const out = await runTool(calendarCreateEvent, { summary: 'Offsite', start: '2025-10-01', end: '2025-10-03' }, ctxFor(fake.url));
    expect(JSON.parse(fake.requests[0]!.body)).toMatchObject({ start: { date: '2025-10-01' }, end: { date: '2025-10-03' } });
    expect(fake.requests[0]!.path).toBe('/calendar/v3/calendars/primary/events');
    expect(fake.state.sendUpdates).toEqual(['none']);
    expect(out.meet_link).toBeNull();
  });

  it('refuses end before start locally and maps Calendar error bodies', async () => {
    const local = await failure(runTool(calendarCreateEvent, { summary: 'x', start: '2025-10-01T10:00:00Z', end: '2025-10-01T09:00:00Z' }, ctxFor(fake.url)));
    expect(local.code).toBe('invalid_arguments');
    expect(fake.requests).toHaveLength(0);

    const tz = await failure(runTool(calendarCreateEvent, { summary: 'x', start: '2025-10-01T09:00:00', end: '2025-10-01T10:00:00' }, ctxFor(fake.url)));
    expect(tz.code).toBe('upstream_error');
    expect(tz.details).toMatchObject({ upstream_status: 400 });
    expect(tz.message).toContain('Missing time zone definition');

    const unknown = await failure(runTool(calendarCreateEvent, { calendar_id: 'nobody@example.com', summary: 'x', start: '2025-10-01', end: '2025-10-02' }, ctxFor(fake.url)));
    expect(unknown.details).toMatchObject({ upstream_status: 404 });
  });
});
