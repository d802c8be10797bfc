import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYSTEMS } from '../../src/adapters/index.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BUILTIN_TOOL_PREFIXES, SYSTEM_IDS } from '../../src/adapters/names.js';
import { MAIN, ROOT } from '../helpers/spawn-hub.js';
import { upstreamLevel } from '../../src/upstreams/tools.js';

const load = (UPSTREAMS: string, extra: Record<string, string> = {}) => loadConfig({ MCP_API_KEY: 'test-key-0123456789abcdef', UPSTREAMS, ...extra });

function configError(UPSTREAMS: string, extra: Record<string, string> = {}): string {
  try {
    load(UPSTREAMS, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('UPSTREAMS configuration', () => {
  it('accepts inline JSON and a file path; TOOLSETS knows upstream names', () => {
    const entries = [
      { name: 'gh', url: 'https://api.githubcopilot.com/mcp/', headers: { Authorization: 'Bearer x' }, level: 'HIGH' },
      { name: 'fs', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], tools: { write_file: { level: 'CRITICAL' } }, timeout_ms: 5000 },
    ];
    expect(load(JSON.stringify(entries)).upstreams).toEqual(entries);
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-upstreams-'));
    try {
      const file = path.join(dir, 'upstreams.json');
      writeFileSync(file, JSON.stringify(entries));
      const config = load(file, { TOOLSETS: 'github,fs' });
      expect(config.upstreams.map((u) => u.name)).toEqual(['gh', 'fs']);
      expect(config.toolsets).toEqual(['github', 'fs']);
      expect(load(file).toolsets).toEqual(expect.arrayContaining(['docker', 'gh', 'fs']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(loadConfig({ MCP_API_KEY: 'test-key-0123456789abcdef' }).upstreams).toEqual([]);
  });

  it.each([
    ['[{"name": "gh"}]', 'invalid UPSTREAMS: 0 needs exactly one of "url" (HTTP) or "command" (stdio)'],
    ['[{"name": "Bad_Name", "command": "x"}]', 'invalid UPSTREAMS: 0.name must match ^[a-z][a-z0-9]{0,15}$ (it prefixes every tool name)'],
    ['[{"name": "a", "url": "ftp://x"}]', 'invalid UPSTREAMS: 0.url must be an http(s) URL'],
    ['[{"name": "a", "command": "x", "headers": {}}]', 'invalid UPSTREAMS: 0 "headers" and "oauth" only apply to a "url" upstream'],
    ['[{"name": "a", "command": "x", "level": "HUGE"}]', 'invalid UPSTREAMS: 0.level Invalid option: expected one of "LOW"|"MEDIUM"|"HIGH"|"CRITICAL"'],
    ['[{"name": "a", "command": "x", "extra": 1}]', 'invalid UPSTREAMS: 0 Unrecognized key: "extra"'],
    ['[{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]', 'invalid UPSTREAMS: name "a" appears twice'],
    ['[{"name": "docker", "command": "x"}]', 'invalid UPSTREAMS: name "docker" is a built-in system'],
    ['[{"name": "google", "command": "x"}]', 'invalid UPSTREAMS: name "google" is the prefix of built-in tool names (google_...); choose another name'],
    ['[not json', 'invalid UPSTREAMS: not valid JSON'],
    ['/nonexistent/upstreams.json', 'invalid UPSTREAMS: not a JSON array and not a readable file (ENOENT): /nonexistent/upstreams.json'],
  ])('%s → one clear line', (value, message) => {
    expect(configError(value)).toBe(message);
  });

  it('every built-in tool name is reserved: unprefixed, or prefixed by a system id or a refused upstream name', () => {
    const reserved = new Set<string>([...SYSTEM_IDS, ...BUILTIN_TOOL_PREFIXES]);
    const names = SYSTEMS.flatMap((s) => s.tools.map((t) => t.name));
    expect(names.length).toBeGreaterThan(40);
    const free = names.filter((n) => n.includes('_') && !reserved.has(n.slice(0, n.indexOf('_'))));
    expect(free).toEqual([]);
  });

  it('TOOLSETS naming an unknown upstream is refused', () => {
    expect(configError('[{"name": "a", "command": "x"}]', { TOOLSETS: 'b' })).toContain('invalid TOOLSETS: unknown toolset "b"');
  });

  it.skipIf(!existsSync(MAIN))('the built server stops at start with one line on stderr', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', UPSTREAMS: '[{"name": "x"}]', MCP_API_KEY: 'test-key-0123456789abcdef' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('omni-hub: invalid UPSTREAMS: 0 needs exactly one of "url" (HTTP) or "command" (stdio)\n');
  });
});

describe('levels of upstream tools (DESIGN.md §9)', () => {
  const base = { name: 'u', command: 'x' };
  it.each([
    [{}, { readOnlyHint: true }, 'LOW'],
    [{}, { destructiveHint: true }, 'CRITICAL'],
    [{}, { readOnlyHint: true, destructiveHint: true }, 'LOW'],
    [{}, undefined, 'MEDIUM'],
    [{}, { destructiveHint: false }, 'MEDIUM'],
    [{ level: 'HIGH' as const }, { readOnlyHint: true }, 'HIGH'],
    [{ level: 'HIGH' as const, tools: { t: { level: 'LOW' as const } } }, { destructiveHint: true }, 'LOW'],
  ])('entry %j, annotations %j → %s', (entry, annotations, level) => {
    expect(upstreamLevel({ ...base, ...entry }, { name: 't', annotations })).toBe(level);
  });
});
