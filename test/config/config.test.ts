import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('applies the defaults of DESIGN.md §1', () => {
    const c = loadConfig({ MCP_API_KEY: 'k'.repeat(20) });
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.sessionMode).toBe('stateful');
    expect(c.sessions).toEqual({ idleMs: 1_800_000, cacheMs: 1_000, maxPerProcess: 5_000, maxPerPrincipal: 1_000 });
    expect(c.governance.limits).toEqual({ LOW: 1000, MEDIUM: 100, HIGH: 30, CRITICAL: 10 });
    expect(c.governance.failurePolicy).toBe('closed-for-high');
    expect(c.google.region).toBe('us-central1');
    expect(c.chatgpt.timeoutMs).toBe(30_000);
    expect(c.toolWaitMs).toBe(40_000);
  });

  it.each([
    [{ PORT: 'abc' }, /invalid PORT/],
    [{ PORT: '70000' }, /invalid PORT/],
    [{ MCP_AUTH: 'none', HOST: '0.0.0.0' }, /MCP_AUTH.*loopback/],
    [{ GOVERNANCE_MODE: 'soft' }, /invalid GOVERNANCE_MODE/],
    [{ MCP_MAX_SESSIONS_PER_PRINCIPAL: '0' }, /invalid MCP_MAX_SESSIONS_PER_PRINCIPAL/],
    [{ MCP_SESSION_IDLE_MS: 'soon' }, /invalid MCP_SESSION_IDLE_MS/],
    [{ MCP_SESSION_CACHE_MS: '-1' }, /invalid MCP_SESSION_CACHE_MS/],
    [{ GOVERNANCE_OVERRIDES: '{not json' }, /GOVERNANCE_OVERRIDES is not valid JSON/],
    [{ GOVERNANCE_OVERRIDES: '{"x":{"level":"EXTREME"}}' }, /GOVERNANCE_OVERRIDES: x.level/],
    [{ REDIS_URL: 'localhost:6379' }, /invalid REDIS_URL/],
    [{ MCP_API_KEY: 'short' }, /invalid MCP_API_KEY/],
    [{ TOOLSETS: 'cloud_run,nope' }, /unknown toolset "nope"/],
    [{ TRUST_PROXY: 'true' }, /invalid TRUST_PROXY:.*use TRUST_PROXY=1 behind Cloud Run/],
    [{ TRUST_PROXY: 'yes' }, /invalid TRUST_PROXY: "yes" is not false, a hop count/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /invalid TRUST_PROXY: "10.0.0.0\/33"/],
    [{ TRUST_PROXY: '99' }, /invalid TRUST_PROXY: 99 proxy hops/],
    [{ MCP_API_KEY: `${'a'.repeat(16)},short` }, /^invalid MCP_API_KEY: each key must be at least 16 characters without spaces$/],
    [{ OAUTH_OIDC_CLIENT_ID: 'c' }, /^invalid OAUTH_OIDC_ISSUER: .* must be set together$/],
    [{ APPROVAL: 'human' }, /^invalid APPROVAL: must be person, model, off or a JSON object/],
    [{ APPROVAL: '{"URGENT":"person"}' }, /^invalid APPROVAL: APPROVAL: value Unrecognized key/],
    [{ UPSTREAMS: '[{"name":"gh","url":"https://example.com/mcp","auth":"user"}]' }, /^missing VAULT_KEY: upstream "gh" uses "auth": "user"/],
    [{ VAULT_KEY: 'c2hvcnQ=' }, /^invalid VAULT_KEY: each comma-separated key must be base64 of exactly 32 bytes/],
    [{ MCP_API_KEY_PROFILES: '{"key:0123abcd":"nobody"}' }, /^invalid MCP_API_KEY_PROFILES: key:0123abcd names unknown profile "nobody"$/],
  ])('rejects %o with one clear line', (env, message) => {
    let err: unknown;
    try {
      loadConfig({ MCP_API_KEY: 'k'.repeat(20), ...env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('reads TRUST_PROXY as false, a hop count or an address/CIDR list', () => {
    const trust = (v?: string) => loadConfig({ MCP_API_KEY: 'k'.repeat(20), ...(v === undefined ? {} : { TRUST_PROXY: v }) }).trustProxy;
    expect(trust()).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('0')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('10.0.0.0/8, 192.0.2.1,2001:db8::/32')).toEqual(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
  });

  it('allows MCP_AUTH=none on loopback only', () => {
    expect(loadConfig({ MCP_AUTH: 'none', HOST: '127.0.0.1' }).apiKeys).toEqual([]);
  });

  it('generates a key when MCP_API_KEY is unset and accepts several for rotation', () => {
    const generated = loadConfig({});
    expect(generated.apiKeyGenerated).toBe(true);
    expect(generated.apiKeys[0]!.length).toBeGreaterThanOrEqual(32);
    const rotated = loadConfig({ MCP_API_KEY: ` ${'a'.repeat(16)} , ${'b'.repeat(16)} ` });
    expect(rotated.apiKeys).toEqual(['a'.repeat(16), 'b'.repeat(16)]);
  });

  it('allows PUBLIC_URL host and origin automatically', () => {
    const c = loadConfig({ MCP_API_KEY: 'k'.repeat(20), PUBLIC_URL: 'https://hub.example.run.app/', ALLOWED_HOSTS: 'Other.Example' });
    expect(c.allowedHosts).toEqual(expect.arrayContaining(['localhost', 'hub.example.run.app', 'other.example']));
    expect(c.allowedOrigins).toContain('https://hub.example.run.app');
    expect(c.publicUrl).toBe('https://hub.example.run.app');
  });

  it('maps the variables of each area to typed values', () => {
    const c = loadConfig({
      MCP_API_KEY: 'k'.repeat(20),
      DATA_DIR: '/srv/hub',
      AUDIT_CAP: '500',
      MCP_EVENT_STREAM_MAX_BYTES: '8192',
      MCP_EVENT_STORE_MAX_BYTES: '4096',
      METRICS_PUBLIC: '1',
      DOCKER_BUILD_REMOTE_HOSTS: 'GitHub.com.,gitlab.com',
      GITHUB_API_URL: 'https://ghe.example/api/v3/',
      APPROVAL: 'off',
      APPROVAL_TTL_S: '120',
      K_SERVICE: 'omni-hub',
    });
    expect(c.docker.buildRoot).toBe('/srv/hub/build');
    expect(c.docker.remoteHosts).toEqual(['github.com', 'gitlab.com']);
    expect(c.audit).toMatchObject({ queueMax: 500, spillDir: '/srv/hub/audit-spill', log: true });
    expect(c.eventStore).toEqual({ streamMaxBytes: 8192, totalMaxBytes: 8192 });
    expect(c.metricsPublic).toBe(true);
    expect(c.github.apiUrl).toBe('https://ghe.example/api/v3');
    expect(c.governance.approval).toEqual({ LOW: 'model', MEDIUM: 'model', HIGH: 'model', CRITICAL: 'off' });
    expect(c.governance.approvalTtlMs).toBe(120_000);
    expect(c.google.onGoogleCloud).toBe(true);
    expect(loadConfig({ MCP_API_KEY: 'k'.repeat(20), MCP_SESSION_CACHE_MS: '0' }).sessions.cacheMs).toBe(0);
    expect(loadConfig({ MCP_API_KEY: 'k'.repeat(20), DOCKER_BUILD_ROOT: '', K_SERVICE: '' }).google.onGoogleCloud).toBe(false);
  });

  it('moves a tool to the default limit of an overridden level', () => {
    const c = loadConfig({ MCP_API_KEY: 'k'.repeat(20), GOVERNANCE_OVERRIDES: '{"t":{"level":"HIGH"}}', GOVERNANCE_LIMITS: '{"LOW":5}' });
    expect(c.governance.overrides.t).toEqual({ level: 'HIGH' });
    expect(c.governance.limits.LOW).toBe(5);
    expect(c.governance.limits.HIGH).toBe(30);
  });
});
