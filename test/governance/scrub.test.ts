import { describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { SecretScrubber, scrubError } from '../../src/governance/scrub.js';
import { HubError } from '../../src/tools/errors.js';

describe('SecretScrubber (upstream error text)', () => {
  const registryAuth = { username: 'u', password: 'registry-pass-5566', serveraddress: 'r.example.test' };
  const config = testConfig({
    GITHUB_TOKEN: 'gh-plain-token-not-prefixed-42',
    CHATGPT_MCP_TOKEN: 'chatgpt-token-xyz-987',
    GOOGLE_OAUTH_TOKEN: 'opaque-google-token-31',
    DOCKER_REGISTRY_AUTH: JSON.stringify(registryAuth),
    DATABASE_URL: 'postgres://hub:db-pass-77@127.0.0.1:5432/x',
  });

  it('removes every configured secret, in any encoding the hub sends, and credential shapes', () => {
    const scrubber = SecretScrubber.fromConfig(config);
    const echoed = [
      'token gh-plain-token-not-prefixed-42 refused',
      'Authorization: Bearer chatgpt-token-xyz-987',
      'got opaque-google-token-31',
      `X-Registry-Auth: ${Buffer.from(JSON.stringify(registryAuth)).toString('base64url')}`,
      'password registry-pass-5566',
      'cannot connect to postgres://hub:db-pass-77@127.0.0.1:5432/x',
      `key ${config.apiKeys[0]}`,
      'unrelated ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    ].join('\n');
    const out = scrubber.text(echoed);
    for (const secret of ['gh-plain-token-not-prefixed-42', 'chatgpt-token-xyz-987', 'opaque-google-token-31', 'registry-pass-5566', 'db-pass-77', config.apiKeys[0]!, 'ghp_abc']) {
      expect(out, secret).not.toContain(secret);
    }
    expect(out).toContain('token [REDACTED] refused');
  });

  it('scrubs a HubError message and its details at any depth, keeping code and status', () => {
    const err = new HubError('upstream_error', 'GitHub answered 401: Bad credentials gh-plain-token-not-prefixed-42', {
      upstream_status: 401,
      errors: [{ message: 'echo Bearer chatgpt-token-xyz-987' }],
      nested: { url: 'https://x:opaque-google-token-31@api.example.test/' },
    });
    const clean = scrubError(err, config);
    expect(clean.code).toBe('upstream_error');
    expect(clean.httpStatus).toBe(502);
    expect(clean.details.upstream_status).toBe(401);
    const text = JSON.stringify(clean.toJSON());
    for (const secret of ['gh-plain-token-not-prefixed-42', 'chatgpt-token-xyz-987', 'opaque-google-token-31']) expect(text).not.toContain(secret);
    expect(clean.message).toBe('GitHub answered 401: Bad credentials [REDACTED]');
  });
});
