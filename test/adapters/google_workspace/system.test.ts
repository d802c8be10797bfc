import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../helpers/config.js';
import { system } from '../../../src/adapters/google_workspace/index.js';
import { toolContext } from '../../helpers/context.js';
import { startFakeWorkspace, type FakeWorkspace } from '../../fakes/google-workspace.js';
import { TOKEN } from './helpers.js';

let fake: FakeWorkspace;
beforeEach(async () => {
  fake = await startFakeWorkspace({ acceptToken: (t) => t === TOKEN, account: 'ops@example.com' });
});
afterEach(() => fake.close());

describe('workspace system', () => {
  it('lists the seven DESIGN.md tools with their levels, and every input field is described', () => {
    expect(system.id).toBe('workspace');
    expect(Object.fromEntries(system.tools.map((t) => [t.name, t.level]))).toEqual({
      google_gmail_send: 'HIGH',
      google_gmail_search: 'LOW',
      google_drive_list: 'LOW',
      google_drive_upload: 'MEDIUM',
      google_sheets_read: 'LOW',
      google_sheets_write: 'MEDIUM',
      google_calendar_create_event: 'MEDIUM',
    });
    for (const tool of system.tools) {
      expect(tool.system).toBe('workspace');
      expect(tool.description.length).toBeLessThanOrEqual(300);
      for (const [field, schema] of Object.entries(tool.input.shape)) expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
    }
  });

  it('needs OAuth credentials (an API key alone is not enough)', () => {
    expect(system.missingConfig(testConfig({}))).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(system.missingConfig(testConfig({ GOOGLE_API_KEY: 'AIza-x' }))).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(system.missingConfig(testConfig({ GOOGLE_OAUTH_TOKEN: TOKEN }))).toBeNull();
  });

  it('check() reads Drive about.user with the token, and reports a refused token as failed', async () => {
    const config = testConfig({ GOOGLE_API_BASE_URL: fake.url, GOOGLE_OAUTH_TOKEN: TOKEN });
    const ctx = toolContext(config);
    const ok = await system.check(config, ctx.services, AbortSignal.timeout(10_000));
    expect(ok).toEqual({ state: 'connected', detail: 'GOOGLE_OAUTH_TOKEN accepted (Drive about: ops@example.com)' });
    expect(fake.requests[0]!.path).toBe('/drive/v3/about');
    expect(fake.requests[0]!.query.get('fields')).toBe('user(emailAddress,displayName)');

    const badConfig = testConfig({ GOOGLE_API_BASE_URL: fake.url, GOOGLE_OAUTH_TOKEN: 'ya29.expired' });
    const bad = await system.check(badConfig, ctx.services, AbortSignal.timeout(10_000));
    expect(bad.state).toBe('failed');
    expect(bad.state === 'failed' && bad.reason).toMatch(/^auth_error: .*GOOGLE_OAUTH_TOKEN/);
  });
});
