import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const text = readFileSync(path.join(ROOT, 'cloudbuild.yaml'), 'utf8');

interface Step {
  id: string;
  name: string;
  entrypoint?: string;
  args: string[];
}
const build = parse(text) as { substitutions: Record<string, string>; steps: Step[]; images: string[]; options?: Record<string, unknown> };

// Cloud Build's built-in substitutions (https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values).
const BUILT_INS = ['PROJECT_ID', 'PROJECT_NUMBER', 'BUILD_ID', 'LOCATION', 'COMMIT_SHA', 'SHORT_SHA', 'REVISION_ID', 'REPO_NAME', 'BRANCH_NAME', 'TAG_NAME'];
const IMAGE = '${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_SERVICE}:$SHORT_SHA';

/** What Cloud Build does to the file before running it: replace $VAR / ${VAR}, turn $$ into $. */
function substitute(value: string, values: Record<string, string>): string {
  return value.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    if (!(name in values)) throw new Error(`unknown substitution ${name}`);
    return values[name]!;
  });
}

const deployStep = build.steps.find((s) => s.id === 'deploy')!;
const deployScript = deployStep.args.at(-1)!;
/** The `gcloud run deploy` command's flags (joined continuation lines of the script). */
const deployFlags = (() => {
  const command = deployScript.replace(/\\\n\s*/g, ' ').split('\n').find((l) => l.trim().startsWith('gcloud run deploy'))!;
  const flags: Record<string, string> = {};
  for (const m of command.matchAll(/--([a-z-]+)(?:=("[^"]*"|\S+))?/g)) flags[m[1]!] = (m[2] ?? 'true').replace(/^"|"$/g, '');
  return flags;
})();

describe('cloudbuild.yaml', () => {
  it('defines the project-specific substitutions', () => {
    for (const key of ['_REGION', '_SERVICE', '_REPOSITORY', '_SERVICE_ACCOUNT', '_NETWORK', '_SUBNET', '_REDIS_HOST', '_SECRETS', '_MIN_INSTANCES']) {
      expect(build.substitutions).toHaveProperty(key);
    }
  });

  it('uses only defined or built-in substitutions, and uses every one it defines', () => {
    // Cloud Build rejects a build that references an unknown $NAME or defines an unused substitution.
    const known = new Set([...BUILT_INS, ...Object.keys(build.substitutions)]);
    const used = new Set<string>();
    for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{(\w+)\}|\$(\w+)/g)) used.add((m[1] ?? m[2])!);
    for (const name of used) expect(known.has(name), `$${name}`).toBe(true);
    for (const name of Object.keys(build.substitutions)) expect(used.has(name), name).toBe(true);
  });

  it('builds, pushes to Artifact Registry, deploys and verifies, in that order', () => {
    expect(build.steps.map((s) => s.id)).toEqual(['build', 'push', 'deploy', 'verify']);
    const [b, p] = build.steps;
    expect(b!.name).toBe('gcr.io/cloud-builders/docker');
    expect(b!.args).toContain(`--tag=${IMAGE}`);
    expect(b!.args.at(-1)).toBe('.');
    expect(p!.args.join(' ')).toContain('${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_SERVICE}');
    expect(build.images).toContain(IMAGE);
    expect(build.steps.find((s) => s.id === 'verify')!.args.at(-1)).toMatch(/\/healthz/);
  });

  it('deploys the pushed image with its own service account', () => {
    expect(deployFlags.image).toBe(IMAGE);
    expect(deployFlags.region).toBe('${_REGION}');
    expect(deployFlags['service-account']).toBe('${_SERVICE_ACCOUNT}@$PROJECT_ID.iam.gserviceaccount.com');
    expect(deployFlags.port).toBe('8080');
  });

  it('reaches Memorystore through Direct VPC egress on private ranges only', () => {
    expect(deployFlags.network).toBe('${_NETWORK}');
    expect(deployFlags.subnet).toBe('${_SUBNET}');
    expect(deployFlags['vpc-egress']).toBe('private-ranges-only');
    expect(deployFlags['set-env-vars']).toContain('REDIS_URL=redis://${_REDIS_HOST}:${_REDIS_PORT}/0');
  });

  it('explains its min-instances choice', () => {
    expect(deployFlags['min-instances']).toBe('${_MIN_INSTANCES}');
    const comment = text.split('\n').findIndex((l) => l.includes('_MIN_INSTANCES:'));
    expect(text.split('\n').slice(comment - 3, comment).join(' ')).toMatch(/#.*min-instances/);
  });

  it('mounts the credentials from Secret Manager, never as literals', () => {
    expect(deployFlags['set-secrets']).toBe('${_SECRETS}');
    const secrets = Object.fromEntries(build.substitutions._SECRETS!.split(',').map((pair) => pair.split('=') as [string, string]));
    expect(Object.keys(secrets).sort()).toEqual(['DATABASE_URL', 'GITHUB_TOKEN', 'GOOGLE_API_KEY', 'MCP_API_KEY']);
    for (const ref of Object.values(secrets)) expect(ref).toMatch(/^[a-z0-9-]+:(latest|\d+)$/);
    expect(deployFlags['set-env-vars']).not.toMatch(/KEY|TOKEN|PASSWORD|DATABASE_URL/);
  });

  it('gives the service an environment the hub accepts', () => {
    const values = {
      ...build.substitutions,
      _REDIS_HOST: '10.0.0.3',
      PROJECT_ID: 'my-project',
      PROJECT_NUMBER: '123456789',
      SHORT_SHA: 'abc1234',
    };
    const envVars = substitute(deployFlags['set-env-vars']!, values).replace('${public_url}', 'https://omni-hub-123456789.us-central1.run.app');
    const env: Record<string, string> = Object.fromEntries(envVars.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    // Secret values as Secret Manager would inject them.
    env.MCP_API_KEY = 'cloud-run-key-0123456789abcdef';
    env.GITHUB_TOKEN = 'ghp_example';
    env.GOOGLE_API_KEY = 'AIza-example';
    env.DATABASE_URL = 'postgres://hub:pw@10.0.0.5:5432/omnihub';
    env.PORT = '8080'; // set by Cloud Run
    const config = loadConfig(env);
    expect(config.redisUrl).toBe('redis://10.0.0.3:6379/0');
    expect(config.publicUrl).toBe('https://omni-hub-123456789.us-central1.run.app');
    expect(config.allowedHosts).toContain('omni-hub-123456789.us-central1.run.app');
    expect(config.google.project).toBe('my-project');
    expect(config.host).toBe('0.0.0.0');
    // One proxy hop (Cloud Run's front end): the client address is the right-most X-Forwarded-For entry.
    expect(config.trustProxy).toBe(1);
  });

  it('defaults PUBLIC_URL to the deterministic run.app URL so the host guard admits it', () => {
    expect(deployScript).toContain('https://${_SERVICE}-$PROJECT_NUMBER.${_REGION}.run.app');
    expect(deployFlags['set-env-vars']).toContain('PUBLIC_URL=$${public_url}');
  });
});
