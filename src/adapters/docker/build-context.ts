import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HubError } from '../../tools/errors.js';
import { tarEnd, tarHeader, tarPadding } from './tar.js';

export const MAX_CONTEXT_BYTES = 1024 * 1024 * 1024;
export const MAX_CONTEXT_ENTRIES = 50_000;

export interface ContextEntry {
  /** Path inside the archive, '/'-separated, relative to the context root. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  absolute: string;
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

export interface BuildContext {
  /** Real path of the context directory. */
  root: string;
  entries: ContextEntry[];
  bytes: number;
}

const bad = (message: string, details: Record<string, unknown> = {}) => new HubError('invalid_arguments', message, details);

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolves `context` (relative to DOCKER_BUILD_ROOT) to a real directory inside the build root and lists what
 * will be sent. Everything is checked before any byte reaches the daemon: `..` escapes, symlinks anywhere in
 * the path or inside the tree that lead out of the context, and size limits are refused with invalid_arguments.
 */
export async function resolveBuildContext(buildRoot: string, context: string): Promise<BuildContext> {
  let rootReal: string;
  try {
    rootReal = await fs.realpath(buildRoot);
  } catch {
    throw bad(`the build root ${buildRoot} (DOCKER_BUILD_ROOT) does not exist; create it and put build contexts inside`, { variable: 'DOCKER_BUILD_ROOT' });
  }
  const requested = path.resolve(rootReal, context);
  if (!inside(rootReal, requested)) throw bad(`context "${context}" is outside DOCKER_BUILD_ROOT`);
  let contextReal: string;
  try {
    contextReal = await fs.realpath(requested);
  } catch {
    throw bad(`context "${context}" does not exist inside DOCKER_BUILD_ROOT`);
  }
  if (!inside(rootReal, contextReal)) throw bad(`context "${context}" resolves (through a symlink) outside DOCKER_BUILD_ROOT`);
  if (!(await fs.stat(contextReal)).isDirectory()) throw bad(`context "${context}" is not a directory`);

  const ignored = await loadDockerignore(contextReal);
  const entries: ContextEntry[] = [];
  let bytes = 0;

  async function walk(dir: string, prefix: string): Promise<void> {
    const names = (await fs.readdir(dir)).sort();
    for (const n of names) {
      const absolute = path.join(dir, n);
      const name = prefix ? `${prefix}/${n}` : n;
      if (ignored(name)) continue;
      const st = await fs.lstat(absolute);
      if (entries.length >= MAX_CONTEXT_ENTRIES) throw bad(`context has more than ${MAX_CONTEXT_ENTRIES} entries; add a .dockerignore`);
      const base = { name, absolute, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = await fs.realpath(absolute);
        } catch {
          throw bad(`symlink ${name} in the build context is dangling`);
        }
        if (!inside(contextReal, target)) throw bad(`symlink ${name} in the build context points outside the context; refusing to send it`);
        // Rewritten relative so the daemon resolves it within the context, whatever the link's original form.
        const linkname = path.relative(path.dirname(absolute), target) || '.';
        entries.push({ ...base, type: 'symlink', size: 0, linkname: linkname.split(path.sep).join('/') });
      } else if (st.isDirectory()) {
        entries.push({ ...base, type: 'directory', size: 0 });
        await walk(absolute, name);
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > MAX_CONTEXT_BYTES) throw bad(`context is larger than ${MAX_CONTEXT_BYTES / 1024 / 1024} MiB; add a .dockerignore`);
        entries.push({ ...base, type: 'file', size: st.size });
      }
      // Sockets, FIFOs and devices are skipped: they cannot be part of an image build context.
    }
  }
  await walk(contextReal, '');
  return { root: contextReal, entries, bytes };
}

async function loadDockerignore(contextReal: string): Promise<(name: string) => boolean> {
  let text: string;
  try {
    text = await fs.readFile(path.join(contextReal, '.dockerignore'), 'utf8');
  } catch {
    return () => false;
  }
  const mod = await import('@balena/dockerignore');
  // CommonJS `module.exports = factory`: at runtime the ESM default is the factory itself.
  const factory = mod.default as unknown as typeof mod.default.default;
  const rules = factory({ ignorecase: false }).add(text);
  // The daemon needs the Dockerfile and .dockerignore even when the file lists them.
  return (name) => name !== '.dockerignore' && name !== 'Dockerfile' && rules.ignores(name);
}

/** The context as an uncompressed tar stream, read file by file (never the whole tree in memory). */
export function packBuildContext(ctx: BuildContext): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for (const e of ctx.entries) {
      if (e.type === 'file') {
        const handle = await fs.open(e.absolute, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
        try {
          yield tarHeader({ name: e.name, type: 'file', size: e.size, mode: e.mode, mtime: e.mtime });
          let remaining = e.size;
          const chunk = Buffer.alloc(64 * 1024);
          while (remaining > 0) {
            const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, remaining));
            if (bytesRead === 0) throw new Error(`${e.name} shrank while being sent`);
            remaining -= bytesRead;
            yield Buffer.from(chunk.subarray(0, bytesRead));
          }
          yield tarPadding(e.size);
        } finally {
          await handle.close();
        }
      } else {
        yield tarHeader({ name: e.name, type: e.type, size: 0, mode: e.mode, mtime: e.mtime, linkname: e.linkname });
      }
    }
    yield tarEnd();
  }
  return Readable.from(generate(), { objectMode: false });
}
