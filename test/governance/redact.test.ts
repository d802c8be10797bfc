import { describe, expect, it } from 'vitest';
import { isSecretKey, MAX_STRING_CHARS, REDACTED, redactArgs, scrubCredentials } from '../../src/governance/redact.js';

describe('redactArgs', () => {
  it('replaces secret-looking keys at any depth and keeps the rest', () => {
    const input = {
      query: 'hello',
      max_output_tokens: 256,
      keyword: 'rust',
      author: 'ada',
      api_key: 'abc',
      apiKey: 'abc',
      password: 'p',
      Authorization: 'Bearer x',
      headers: { 'X-Auth-Token': 't', accept: 'json' },
      registry_auth: { username: 'u', password: 'p' },
      nested: [{ client_secret: 's', private_key: 'k', credentials: { a: 1 }, identitytoken: 'i', name: 'n' }],
    };
    expect(redactArgs(input)).toEqual({
      query: 'hello',
      max_output_tokens: 256,
      keyword: 'rust',
      author: 'ada',
      api_key: REDACTED,
      apiKey: REDACTED,
      password: REDACTED,
      Authorization: REDACTED,
      headers: { 'X-Auth-Token': REDACTED, accept: 'json' },
      registry_auth: REDACTED,
      nested: [{ client_secret: REDACTED, private_key: REDACTED, credentials: REDACTED, identitytoken: REDACTED, name: 'n' }],
    });
    // The input is not modified.
    expect(input.api_key).toBe('abc');
  });

  it('classifies key names', () => {
    for (const k of ['token', 'access_token', 'refreshToken', 'GITHUB_TOKEN', 'secret', 'passwd', 'key', 'sshKey', 'cookie', 'x-api-key']) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ['tokens', 'max_tokens', 'keys_count', 'monkey', 'author', 'title', 'service_name', 'image_uri', 'passage']) {
      expect(isSecretKey(k), k).toBe(false);
    }
  });

  it('redacts credential-shaped values under innocent keys', () => {
    expect(
      redactArgs({
        header: 'Bearer abcdefghijklmnop',
        note: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIE...',
        text: 'a normal sentence about bears',
      }),
    ).toEqual({ header: REDACTED, note: REDACTED, pem: REDACTED, text: 'a normal sentence about bears' });
  });

  it('redacts by value shape inside strings, arrays and nested objects, keeping the rest readable', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const out = redactArgs({
      env: { DATABASE_URL: 'postgres://app:pw-9f8e7d@db/app', GITLAB_PAT: 'glpat-abcdefghijklmnopqrst', REGION: 'eu' },
      env_list: ['DATABASE_URL=postgres://app:pw-9f8e7d@db/app', 'GITLAB_PAT=glpat-abcdefghijklmnopqrst', 'MODE=prod'],
      command: ['curl', '-H', 'Authorization: Bearer abcdefghijklmnopqrstuv', 'https://api.example.test'],
      remote: 'https://oauth2:tok-5566778899@git.example.test/repo.git',
      nested: [{ deeper: { note: `key file ${pem} end`, aws: 'id AKIAABCDEFGHIJKLMNOP in use' } }],
      tokens: 'ya29.a0AfH6SMBabcdefghijklmnop sk-proj-abcdefghijklmnopqrstuv xoxb-1234567890-abcdef github_pat_11ABCDEFG0123456789abcdef',
      url: 'https://api.example.test/x?access_token=opaque-value-123&page=2',
      basic: 'Basic dXNlcjpwYXNzd29yZA==',
    });
    const text = JSON.stringify(out);
    for (const secret of ['pw-9f8e7d', 'glpat-', 'abcdefghijklmnopqrstuv', 'tok-5566778899', 'MIIEvQ', 'AKIAABCDEFGHIJKLMNOP', 'ya29.', 'sk-proj', 'xoxb-', 'github_pat_', 'opaque-value-123', 'dXNlcjpwYXNzd29yZA']) {
      expect(text, secret).not.toContain(secret);
    }
    expect(out).toMatchObject({
      env: { DATABASE_URL: `postgres://${REDACTED}@db/app`, GITLAB_PAT: REDACTED, REGION: 'eu' },
      env_list: [`DATABASE_URL=postgres://${REDACTED}@db/app`, `GITLAB_PAT=${REDACTED}`, 'MODE=prod'],
      command: ['curl', '-H', `Authorization: ${REDACTED}`, 'https://api.example.test'],
      remote: `https://${REDACTED}@git.example.test/repo.git`,
      nested: [{ deeper: { note: `key file ${REDACTED} end`, aws: `id ${REDACTED} in use` } }],
      url: `https://api.example.test/x?access_token=${REDACTED}&page=2`,
      basic: REDACTED,
    });
  });

  it('leaves ordinary text alone and scans adversarial text in linear time', () => {
    for (const text of ['a normal sentence about bears', 'keyword: rust', 'https://example.test/a/b?page=2', 'see skeleton-key docs', 'ghp_short']) {
      expect(scrubCredentials(text), text).toBe(text);
    }
    // Inputs that make backtracking patterns quadratic: long runs of scheme characters, many prefixes, many separators.
    const adversarial = ['a.'.repeat(200_000), 'x://'.repeat(100_000), 'Bearer '.repeat(50_000), '-----BEGIN '.repeat(40_000), 'k='.repeat(200_000)];
    for (const text of adversarial) expect(scrubCredentials(text).length).toBeGreaterThan(0);
  });

  it('truncates long strings with a marker', () => {
    const out = redactArgs({ text: 'x'.repeat(5_000) }) as { text: string };
    expect(out.text.startsWith('x'.repeat(MAX_STRING_CHARS))).toBe(true);
    expect(out.text).toContain('[truncated 4000 chars]');
    expect(out.text.length).toBeLessThan(MAX_STRING_CHARS + 40);
  });

  it('bounds depth, array length, key count and total size', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i += 1) deep = { next: deep };
    expect(JSON.stringify(redactArgs(deep))).toContain('[truncated: too deep]');

    const list = redactArgs(Array.from({ length: 250 }, (_, i) => i)) as unknown[];
    expect(list).toHaveLength(101);
    expect(list.at(-1)).toBe('[truncated: 150 more items]');

    const wide = redactArgs(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]))) as Record<string, unknown>;
    expect(Object.keys(wide)).toHaveLength(101);
    expect(wide['[truncated]']).toBe('50 more keys');

    const files = redactArgs({ files: Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, content: 'c'.repeat(2_000) })) });
    const text = JSON.stringify(files);
    expect(text.length).toBeLessThan(25_000);
    expect(text).toContain('chars over the record size budget');

    const huge = Array.from({ length: 100 }, () => Array.from({ length: 100 }, () => 'v'));
    expect(JSON.stringify(redactArgs(huge))).toContain('[truncated: too many values]');
  });

  it('is safe against __proto__ / constructor keys and cycles', () => {
    const hostile = JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"x": 1}}, "ok": 1}');
    const out = redactArgs(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(JSON.parse(JSON.stringify(out))).toEqual(hostile);

    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    expect(redactArgs(cyclic)).toEqual({ name: 'a', self: '[circular]', list: ['[circular]'] });
    // A shared (non-cyclic) object appears twice.
    const shared = { v: 1 };
    expect(redactArgs({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it('turns non-JSON values into JSON-safe ones', () => {
    expect(
      redactArgs({ when: new Date(0), big: 10n, bytes: Buffer.from('abc'), fn: () => 1, nan: Number.NaN, none: undefined, tags: new Set(['a']) }),
    ).toEqual({ when: '1970-01-01T00:00:00.000Z', big: '10', bytes: '[binary 3 bytes]', fn: '[function]', nan: 'NaN', none: null, tags: ['a'] });
    expect(redactArgs('plain')).toBe('plain');
    expect(redactArgs(undefined)).toBeNull();
  });
});

describe('scrubCredentials: each credential shape on its own', () => {
  // One text per shape with nothing else that could trigger a scan (no ":" or "="): each must still be scanned.
  it.each([
    ['bearer', 'send Bearer abcdefghijklmnop now'],
    ['basic', 'send basic dXNlcjpwYXNzd29yZA now'],
    ['GitHub token', 'use ghp_abcdefghijklmnopqrstuvwxyz0123 now'],
    ['GitHub PAT', 'use github_pat_11ABCDEFG0123456789abcdef now'],
    ['GitLab PAT', 'use glpat-abcdefghijklmnopqrst now'],
    ['Google API key', 'use AIzaSyA-1234567890abcdefghijklmnopqrstu now'],
    ['Google access token', 'use ya29.a0AfH6SMBabcdefghijklmnop now'],
    ['OpenAI-style key', 'use sk-proj-abcdefghijklmnopqrstuv now'],
    ['Slack token', 'use xoxb-1234567890-abcdef now'],
    ['AWS key id', 'use AKIAABCDEFGHIJKLMNOP now'],
    ['PEM private key', 'key -----BEGIN PRIVATE KEY----- MIIEvQ -----END PRIVATE KEY----- done'],
  ])('%s', (_name, text) => {
    const out = scrubCredentials(text);
    expect(out).toContain(REDACTED);
    expect(out).not.toBe(text);
  });
});
