import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system as maps } from '../../../src/adapters/google_maps/index.js';
import { system as workspace } from '../../../src/adapters/google_workspace/index.js';
import { AUTH, testHub, type TestHub } from '../../helpers/app.js';
import { startFakeMaps, type FakeMaps } from '../../fakes/google-maps.js';
import { startFakeWorkspace, type FakeWorkspace } from '../../fakes/google-workspace.js';

/** Workspace and Maps tools through POST /v1/tools/{name}: validation, the run, and error statuses. */
describe('Workspace and Maps through the REST callback route', () => {
  let fake: FakeWorkspace;
  let hub: TestHub;
  let bare: TestHub;

  beforeAll(async () => {
    fake = await startFakeWorkspace({ acceptToken: (t) => t === 'ya29.rest' });
    fake.state.sheets['sheet0123456789'] = { Data: [['a', 'b']] };
    hub = await testHub({ GOOGLE_OAUTH_TOKEN: 'ya29.rest', GOOGLE_API_BASE_URL: fake.url }, { systems: [workspace, maps] });
    bare = await testHub({}, { systems: [workspace, maps] });
  });
  afterAll(async () => {
    await hub?.close();
    await bare?.close();
    await fake?.close();
  });

  const post = (h: TestHub, tool: string, payload: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { ...AUTH, 'content-type': 'application/json' }, payload });

  it('sends mail and appends rows through the pipeline', async () => {
    const sent = await post(hub, 'google_gmail_send', { to: ['ana@example.com'], subject: 'Report', text: 'Done.' });
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('"status":"sent"');
    expect(fake.state.sent[0]!.headers.to).toBe('ana@example.com');

    const appended = await post(hub, 'google_sheets_write', { spreadsheet_id: 'sheet0123456789', range: 'Data!A:B', values: [['c', 'd']] });
    expect(appended.statusCode).toBe(200);
    expect(fake.state.sheets['sheet0123456789']!.Data).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('rejects bad arguments with 400 before any upstream call', async () => {
    const before = fake.requests.length;
    const res = await post(hub, 'google_gmail_send', { to: ['not-an-address'], subject: 'x', text: 'y' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_arguments');
    expect(fake.requests.length).toBe(before);
  });

  it('answers 502 with the upstream status for a Google error', async () => {
    const res = await post(hub, 'google_sheets_read', { spreadsheet_id: 'missing0123456789', range: 'A1' });
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatchObject({ code: 'upstream_error', upstream_status: 404 });
  });

  it('answers 503 not_configured naming the variable when credentials are missing', async () => {
    const ws = await post(bare, 'google_drive_list', {});
    expect(ws.statusCode).toBe(503);
    expect(ws.json().error).toMatchObject({ code: 'not_configured', variable: 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON' });
    const m = await post(bare, 'google_maps_geocode', { address: 'x' });
    expect(m.statusCode).toBe(503);
    expect(m.json().error).toMatchObject({ code: 'not_configured', variable: 'GOOGLE_API_KEY' });
  });
});

describe('Maps through the REST callback route', () => {
  let fake: FakeMaps;
  let hub: TestHub;
  beforeAll(async () => {
    fake = await startFakeMaps({ apiKey: 'AIza-rest' });
    hub = await testHub({ GOOGLE_API_KEY: 'AIza-rest', GOOGLE_API_BASE_URL: fake.url }, { systems: [maps] });
  });
  afterAll(async () => {
    await hub?.close();
    await fake?.close();
  });

  it('ZERO_RESULTS is a 200 with an empty list', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/google_maps_geocode', headers: { ...AUTH, 'content-type': 'application/json' }, payload: { address: 'nowhere' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('"status":"ZERO_RESULTS"');
  });
});
