import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envPairs, parseDockerfile, type Stage } from './dockerfile-parser.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const runtime = dockerfile.stages.at(-1)!;
const build = dockerfile.stages[0]!;

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const stageEnv = (stage: Stage) => Object.assign({}, ...of(stage, 'ENV').map((i) => envPairs(i.args))) as Record<string, string>;
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('is multi-stage on node:24-slim', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(stage.image).toBe('node:24-slim');
    expect(build.name).toBeTruthy();
  });

  it('compiles in the build stage from the lockfile', () => {
    const runs = of(build, 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(of(build, 'COPY').some((i) => /package-lock\.json/.test(i.args))).toBe(true);
  });

  it('installs only production dependencies in the runtime stage and copies dist from the build stage', () => {
    const installs = of(runtime, 'RUN').filter((i) => /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.length).toBe(1);
    expect(installs[0]!.args).toMatch(/npm ci\b[^&]*--omit=dev/);
    const copies = of(runtime, 'COPY').map((i) => i.args);
    expect(copies).toContainEqual(`--from=${build.name} /app/dist ./dist`);
    expect(copies).toContainEqual('console ./console');
    // The runtime image never receives the sources, tests or a local node_modules.
    for (const c of copies) expect(c).not.toMatch(/^\.\s|\bsrc\b|\btest\b|node_modules/);
  });

  it('runs as a non-root user with NODE_ENV=production, listening on 0.0.0.0:$PORT', () => {
    const users = of(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // USER comes after the last RUN (installs need root) and before CMD.
    const lastRun = Math.max(...of(runtime, 'RUN').map((i) => i.line));
    expect(users.at(-1)!.line).toBeGreaterThan(lastRun);
    const env = stageEnv(runtime);
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080' });
    expect(of(runtime, 'EXPOSE').map((i) => i.args)).toContain(env.PORT);
  });

  it('checks health with node against /healthz (slim images have no curl)', () => {
    const [hc] = of(runtime, 'HEALTHCHECK');
    expect(hc).toBeDefined();
    const cmd = execForm(hc!.args.slice(hc!.args.indexOf('CMD') + 3).trim());
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('/healthz');
    expect(cmd.join(' ')).toContain('process.env.PORT');
    expect(hc!.args).not.toMatch(/\b(curl|wget)\b/);
  });

  it('starts node directly (signals reach the hub) with dist/main.js', () => {
    const cmds = of(runtime, 'CMD');
    expect(execForm(cmds.at(-1)!.args)).toEqual(['node', 'dist/main.js']);
    expect(of(runtime, 'ENTRYPOINT')).toEqual([]);
  });

  it('bakes no secret into the image', () => {
    const secretish = /(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS|DATABASE_URL|REDIS_URL|SERVICE_ACCOUNT)/i;
    for (const inst of dockerfile.instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      const keys = inst.keyword === 'ENV' ? Object.keys(envPairs(inst.args)) : [inst.args.split('=')[0]!];
      for (const k of keys) expect(k, `line ${inst.line}`).not.toMatch(secretish);
    }
    for (const inst of dockerfile.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
      expect(inst.args).not.toMatch(/\.env\b|\.pem\b|service-account|credentials/);
    }
  });

  it('has a .dockerignore that keeps local state, build output and secrets out of the context', () => {
    for (const entry of ['node_modules', 'dist', 'data', '.git', '.env', 'test', 'coverage']) expect(dockerignore).toContain(entry);
    // Everything the build stage copies must survive the ignore file.
    for (const needed of ['src', 'console', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(dockerignore).not.toContain(needed);
    }
  });
});
