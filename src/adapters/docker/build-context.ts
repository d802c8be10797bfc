import type { Stats } from 'node:fs';
import { constants as fsConstants, existsSync } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HubError } from '../../tools/errors.js';
import { tarEnd, tarHeader, tarPadding, type TarHeaderInput } from './tar.js';

export const MAX_CONTEXT_BYTES = 1024 * 1024 * 1024;
export const MAX_CONTEXT_ENTRIES = 50_000;
const MAX_DOCKERIGNORE_BYTES = 1024 * 1024;

/** A tar header's fields (`name`: path inside the archive, '/'-separated, relative to the context root) plus its identity. */
export interface ContextEntry extends TarHeaderInput {
  /** Identity seen by the walk: the archive gets this entry only if what is opened later is the same object. */
  dev: number;
  ino: number;
}

export interface BuildContext {
  /** Real path of the context directory. */
  root: string;
  rootId: { dev: number; ino: number };
  entries: ContextEntry[];
  bytes: number;
}

const bad = (message: string, details: Record<string, unknown> = {}) => new HubError('invalid_arguments', message, details);

/** Segment-wise: "..foo" is a legal name inside the parent, only a first segment of exactly ".." leaves it. */
function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

/*
 * Race-free reading, the Linux way: every directory is opened with O_NOFOLLOW|O_DIRECTORY relative to its already
 * checked parent through /proc/self/fd/<parent fd>/<name> (the kernel resolves the fd link to the opened directory,
 * whatever its path has become, as openat() would), and each opened object's real path is read back from
 * /proc/self/fd/<fd> and must lie inside the context. Files are opened with O_NOFOLLOW|O_NONBLOCK (a FIFO or device
 * never blocks the open), checked with fstat (regular, one link, same dev/inode as the walk saw) and only then read.
 * Without /proc (not Linux) the same opens go through real paths and the fstat identity checks still apply.
 */
const PROC_FD = existsSync('/proc/self/fd');
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fsConstants;
const OPEN_DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const OPEN_FILE = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

interface OpenDir {
  handle: FileHandle;
  /** Path that names exactly this open directory (its fd link on Linux). */
  ref: string;
  /** Its real path. */
  real: string;
}

const fdRef = (handle: FileHandle, fallback: string) => (PROC_FD ? `/proc/self/fd/${handle.fd}` : fallback);
const sameObject = (st: Stats, id: { dev: number; ino: number }) => st.dev === id.dev && st.ino === id.ino;

/** Opens `name` inside an open directory without following a symlink anywhere, and proves where it landed. */
async function openChecked(parent: OpenDir, name: string, kind: 'dir' | 'file', contextReal: string, shown: string): Promise<{ handle: FileHandle; st: Stats; real: string }> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path.join(parent.ref, name), kind === 'dir' ? OPEN_DIR : OPEN_FILE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw bad(`${shown} in the build context was replaced by a symlink or another type while it was read; refusing to send it`);
    if (code === 'ENOENT') throw bad(`${shown} disappeared from the build context while it was read`);
    throw err;
  }
  try {
    const st = await handle.stat();
    const real = PROC_FD ? await fs.readlink(`/proc/self/fd/${handle.fd}`) : path.join(parent.real, name);
    if (!inside(contextReal, real)) throw bad(`${shown} resolved outside the build context while it was read (a directory swapped for a symlink?); refusing to send it`);
    return { handle, st, real };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The context directory itself, opened and proven to be the one that was checked (same real path). */
async function openRoot(contextReal: string, shown: string): Promise<OpenDir & { st: Stats }> {
  let handle: FileHandle;
  try {
    handle = await fs.open(contextReal, OPEN_DIR);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'ELOOP') throw bad(`context "${shown}" is not a directory`);
    throw bad(`context "${shown}" does not exist inside DOCKER_BUILD_ROOT`);
  }
  try {
    const st = await handle.stat();
    const real = PROC_FD ? await fs.readlink(`/proc/self/fd/${handle.fd}`) : contextReal;
    if (real !== contextReal) throw bad(`context "${shown}" changed while it was opened; refusing to send it`);
    return { handle, ref: fdRef(handle, contextReal), real, st };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new HubError('timeout', 'reading the build context did not finish before the call deadline'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // A late failure of the abandoned work has nobody to report to.
  work.catch(() => undefined);
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

/**
 * Resolves `context` (relative to DOCKER_BUILD_ROOT) to a real directory inside the build root and lists what
 * will be sent. Everything is checked before any byte reaches the daemon: `..` escapes, symlinks anywhere in
 * the path or inside the tree that lead out of the context, hard links, non-regular files named `.dockerignore`,
 * and size limits are refused with invalid_arguments. Runs under `signal` (the call's deadline).
 */
export async function resolveBuildContext(buildRoot: string, context: string, signal?: AbortSignal): Promise<BuildContext> {
  return abortable(resolve(buildRoot, context, signal), signal);
}

async function resolve(buildRoot: string, context: string, signal: AbortSignal | undefined): Promise<BuildContext> {
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

  const root = await openRoot(contextReal, context);
  const entries: ContextEntry[] = [];
  let bytes = 0;
  try {
    const ignored = await loadDockerignore(root, contextReal);

    const walk = async (dir: OpenDir, prefix: string): Promise<void> => {
      const names = (await fs.readdir(dir.ref)).sort();
      for (const n of names) {
        signal?.throwIfAborted();
        const name = prefix ? `${prefix}/${n}` : n;
        if (ignored(name)) continue;
        // lstat through the directory's fd link: the last part is not followed, the directory is the checked one.
        const st = await fs.lstat(path.join(dir.ref, n)).catch((err: NodeJS.ErrnoException) => {
          throw err.code === 'ENOENT' ? bad(`${name} disappeared from the build context while it was read`) : err;
        });
        if (entries.length >= MAX_CONTEXT_ENTRIES) throw bad(`context has more than ${MAX_CONTEXT_ENTRIES} entries; add a .dockerignore`);
        const base = { name, mode: st.mode & 0o7777, mtime: st.mtime, dev: st.dev, ino: st.ino };
        if (st.isSymbolicLink()) {
          let target: string;
          try {
            target = await fs.realpath(path.join(dir.ref, n));
          } catch {
            throw bad(`symlink ${name} in the build context is dangling`);
          }
          if (!inside(contextReal, target)) throw bad(`symlink ${name} in the build context points outside the context; refusing to send it`);
          // Rewritten relative so the daemon resolves it within the context, whatever the link's original form.
          const linkname = path.relative(dir.real, target) || '.';
          entries.push({ ...base, type: 'symlink', size: 0, linkname: linkname.split(path.sep).join('/') });
        } else if (st.isDirectory()) {
          const child = await openChecked(dir, n, 'dir', contextReal, name);
          try {
            if (!sameObject(child.st, st)) throw bad(`${name} in the build context was replaced while it was read; refusing to send it`);
            entries.push({ ...base, type: 'directory', size: 0 });
            await walk({ handle: child.handle, ref: fdRef(child.handle, child.real), real: child.real }, name);
          } finally {
            await child.handle.close();
          }
        } else if (st.isFile()) {
          if (st.nlink > 1) {
            throw bad(`${name} in the build context has ${st.nlink} hard links; files with more than one link are refused (a link can share an outside file's content)`);
          }
          bytes += st.size;
          if (bytes > MAX_CONTEXT_BYTES) throw bad(`context is larger than ${MAX_CONTEXT_BYTES / 1024 / 1024} MiB; add a .dockerignore`);
          entries.push({ ...base, type: 'file', size: st.size });
        }
        // Sockets, FIFOs and devices are skipped: they cannot be part of an image build context.
      }
    };
    await walk(root, '');
  } finally {
    await root.handle.close();
  }
  return { root: contextReal, rootId: { dev: root.st.dev, ino: root.st.ino }, entries, bytes };
}

async function loadDockerignore(root: OpenDir, contextReal: string): Promise<(name: string) => boolean> {
  let seen: Stats;
  try {
    seen = await fs.lstat(path.join(root.ref, '.dockerignore'));
  } catch {
    return () => false;
  }
  // The type is checked before any open or read: a FIFO or device here would block a file-system thread.
  if (!seen.isFile()) throw bad('.dockerignore in the build context is not a regular file (a symlink, FIFO, device or directory); refusing the context');
  const file = await openChecked(root, '.dockerignore', 'file', contextReal, '.dockerignore');
  let text: string;
  try {
    // Checked again on the open descriptor (opened non-blocking), in case it was swapped since the lstat.
    if (!file.st.isFile() || !sameObject(file.st, seen)) throw bad('.dockerignore in the build context changed while it was read; refusing the context');
    if (file.st.size > MAX_DOCKERIGNORE_BYTES) throw bad(`.dockerignore is larger than ${MAX_DOCKERIGNORE_BYTES / 1024} KiB`);
    text = await file.handle.readFile('utf8');
  } finally {
    await file.handle.close();
  }
  const mod = await import('@balena/dockerignore');
  // CommonJS `module.exports = factory`: at runtime the ESM default is the factory itself.
  const factory = mod.default as unknown as typeof mod.default.default;
  const rules = factory({ ignorecase: false }).add(text);
  // The daemon needs the Dockerfile and .dockerignore even when the file lists them.
  return (name) => name !== '.dockerignore' && name !== 'Dockerfile' && rules.ignores(name);
}

const changed = (name: string, why: string) => bad(`${name} in the build context changed after it was checked (${why}); refusing to send it`);

/**
 * The context as an uncompressed tar stream, read file by file (never the whole tree in memory). Exactly the
 * checked entries are sent: each directory and file is reopened relative to its open parent and must be the same
 * object (dev/inode) the walk checked, a regular file with one link for files; otherwise the stream fails.
 */
export function packBuildContext(ctx: BuildContext): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const root = await openRoot(ctx.root, ctx.root);
    const open: { prefix: string; dir: OpenDir }[] = [{ prefix: '', dir: root }];
    try {
      if (!sameObject(root.st, ctx.rootId)) throw changed('the context directory', 'it was replaced');
      for (const e of ctx.entries) {
        const slash = e.name.lastIndexOf('/');
        const parent = slash < 0 ? '' : e.name.slice(0, slash);
        const base = e.name.slice(slash + 1);
        // Pre-order walk: the parent is on the stack of open directories; leave the ones this entry is not under.
        while (open.length > 1 && open.at(-1)!.prefix !== parent) await open.pop()!.dir.handle.close();
        if (open.at(-1)!.prefix !== parent) throw changed(e.name, 'its directory is not open');
        const dir = open.at(-1)!.dir;
        if (e.type === 'directory') {
          const child = await openChecked(dir, base, 'dir', ctx.root, e.name);
          open.push({ prefix: e.name, dir: { handle: child.handle, ref: fdRef(child.handle, child.real), real: child.real } });
          if (!sameObject(child.st, e)) throw changed(e.name, 'another directory is in its place');
          yield tarHeader({ name: e.name, type: 'directory', size: 0, mode: e.mode, mtime: e.mtime });
        } else if (e.type === 'file') {
          const file = await openChecked(dir, base, 'file', ctx.root, e.name);
          try {
            if (!file.st.isFile()) throw changed(e.name, 'it is no longer a regular file');
            if (file.st.nlink !== 1) throw changed(e.name, `it now has ${file.st.nlink} hard links`);
            if (!sameObject(file.st, e)) throw changed(e.name, 'another file is in its place');
            yield tarHeader({ name: e.name, type: 'file', size: e.size, mode: e.mode, mtime: e.mtime });
            let remaining = e.size;
            const chunk = Buffer.alloc(64 * 1024);
            while (remaining > 0) {
              const { bytesRead } = await file.handle.read(chunk, 0, Math.min(chunk.length, remaining));
              if (bytesRead === 0) throw changed(e.name, 'it shrank');
              remaining -= bytesRead;
              yield Buffer.from(chunk.subarray(0, bytesRead));
            }
            yield tarPadding(e.size);
          } finally {
            await file.handle.close();
          }
        } else {
          // The link text was computed and checked by the walk; nothing is read from the tree again.
          yield tarHeader({ name: e.name, type: 'symlink', size: 0, mode: e.mode, mtime: e.mtime, linkname: e.linkname });
        }
      }
    } finally {
      for (const o of open.reverse()) await o.dir.handle.close();
    }
    yield tarEnd();
  }
  return Readable.from(generate(), { objectMode: false });
}
