import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { geminiGenerate } from '../../../src/adapters/ai_ml/gemini.js';
import { vertexPredict } from '../../../src/adapters/ai_ml/vertex.js';
import { cloudRunDelete, cloudRunDescribe } from '../../../src/adapters/cloud_run/tools.js';
import { buildGoogleUrl } from '../../../src/adapters/google/rest.js';
import { calendarCreateEvent } from '../../../src/adapters/google_workspace/calendar.js';
import { sheetsRead, sheetsWrite } from '../../../src/adapters/google_workspace/sheets.js';
import type { ToolDefinition } from '../../../src/tools/types.js';
import { startFakeWorkspace, type FakeWorkspace } from '../../fakes/google-workspace.js';
import { runTool } from '../../helpers/context.js';
import { ctxFor, failure } from './helpers.js';

/** Issue 14 item 11: "." and ".." in path parameters must never be resolved into another API path. */

let fake: FakeWorkspace;
beforeEach(async () => {
  fake = await startFakeWorkspace();
});
afterEach(() => fake.close());

const SHEET_ID = '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms';
const EVENT = { summary: 'x', start: '2025-10-01', end: '2025-10-02' };

/** The issue's reproductions, run past the schema (as a value from anywhere but a schema would be). */
describe('dot segments never reach the API', () => {
  it.each(['..', '.'])('calendar_id %j is refused and nothing is sent (it was POST /calendar/v3/events)', async (id) => {
    const err = await failure(calendarCreateEvent.run({ ...EVENT, calendar_id: id } as never, ctxFor(fake.url)));
    expect(err.code).toBe('invalid_arguments');
    expect(fake.requests).toEqual([]);
  });

  it.each(['..', '.'])('range %j is refused and nothing is sent (it was GET /v4/spreadsheets/<id>/)', async (range) => {
    const read = await failure(sheetsRead.run({ spreadsheet_id: SHEET_ID, range, value_render_option: 'FORMATTED_VALUE', major_dimension: 'ROWS', max_rows: 10 } as never, ctxFor(fake.url)));
    expect(read.code).toBe('invalid_arguments');
    const write = await failure(sheetsWrite.run({ spreadsheet_id: SHEET_ID, range, values: [[1]], mode: 'append', value_input_option: 'RAW' } as never, ctxFor(fake.url)));
    expect(write.code).toBe('invalid_arguments');
    expect(fake.requests).toEqual([]);
  });

  it('refuses any request path with a raw or percent-encoded dot segment where URLs are built', () => {
    for (const path of ['/v4/spreadsheets/x/values/..', '/calendar/v3/calendars/%2E%2E/events', '/a/.%2e/b', '/a/./b']) {
      expect(() => buildGoogleUrl('http://127.0.0.1:1', path), path).toThrow(/dot|"\.|segment/);
    }
    expect(buildGoogleUrl('http://127.0.0.1:1', '/v4/spreadsheets/x/values/..a').toString()).toBe('http://127.0.0.1:1/v4/spreadsheets/x/values/..a');
  });
});

describe('schemas refuse "." and ".." with a message naming the field', () => {
  const cases: [ToolDefinition, Record<string, unknown>, string][] = [
    [calendarCreateEvent, { ...EVENT, calendar_id: '..' }, 'calendar_id'],
    [sheetsRead, { spreadsheet_id: SHEET_ID, range: '..' }, 'range'],
    [sheetsRead, { spreadsheet_id: SHEET_ID, range: '.' }, 'range'],
    [sheetsWrite, { spreadsheet_id: SHEET_ID, range: '..', values: [[1]] }, 'range'],
    // Adapters whose ids were already limited to characters without dots, checked so they stay that way.
    [sheetsRead, { spreadsheet_id: '..', range: 'A1' }, 'spreadsheet_id'],
    [vertexPredict, { endpoint_id: '..', instances: [1] }, 'endpoint_id'],
    [vertexPredict, { endpoint_id: 'projects/my-project/locations/us-central1/endpoints/..', instances: [1] }, 'endpoint_id'],
    [geminiGenerate, { prompt: 'hi', model: '..' }, 'model'],
    [cloudRunDescribe, { service_name: '..' }, 'service_name'],
    [cloudRunDelete, { service_name: '.', dry_run: true }, 'service_name'],
  ];
  it.each(cases.map(([tool, args, field]) => [tool.name, field, tool, args] as const))('%s refuses a dot-only %s', (_name, field, tool, args) => {
    const parsed = tool.input.safeParse(args);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.some((i) => i.path[0] === field)).toBe(true);
  });
});

describe('path parameters stay one literal segment on the wire', () => {
  it('sends a calendar id with "@" and "#" inside its segment', async () => {
    await runTool(calendarCreateEvent, { ...EVENT, calendar_id: 'team#x@group.calendar.google.com' }, ctxFor(fake.url)).catch(() => undefined);
    expect(fake.requests[0]!.url.split('?')[0]).toBe('/calendar/v3/calendars/team%23x%40group.calendar.google.com/events');
  });

  it('sends a range holding "/" and ".." characters as one encoded segment, not as path steps', async () => {
    await runTool(sheetsRead, { spreadsheet_id: SHEET_ID, range: '../../drive/v3/files' }, ctxFor(fake.url)).catch(() => undefined);
    expect(fake.requests[0]!.url.split('?')[0]).toBe(`/v4/spreadsheets/${SHEET_ID}/values/..%2F..%2Fdrive%2Fv3%2Ffiles`);
    await runTool(sheetsRead, { spreadsheet_id: SHEET_ID, range: '...' }, ctxFor(fake.url)).catch(() => undefined);
    expect(fake.requests[1]!.url.split('?')[0]).toBe(`/v4/spreadsheets/${SHEET_ID}/values/...`);
  });
});
