import type Dockerode from 'dockerode';
import { z } from 'zod';
import type { ToolContext } from '../../tools/types.js';
import { dockerClient, dockerError } from './client.js';

/** Runs one Engine interaction, mapping every failure to a HubError that names DOCKER_HOST where it helps. */
export async function withDocker<T>(ctx: ToolContext, what: string, fn: (docker: Dockerode) => Promise<T>): Promise<T> {
  try {
    const docker = await dockerClient(ctx.config);
    return await fn(docker);
  } catch (err) {
    throw dockerError(err, ctx.config, what);
  }
}

/** Image references and container names/ids as the Engine accepts them; no whitespace or path tricks. */
export const imageRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, 'must be an image reference such as nginx:1.27 or ghcr.io/org/app:v1')
  // References go into Engine API paths: no empty or dot-dot segments.
  .refine((v) => !v.includes('..') && !v.includes('//') && !v.endsWith('/'), 'must be an image reference such as nginx:1.27 or ghcr.io/org/app:v1');

export const containerRef = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a container name or id');

/** Dials one Engine request with an abort signal (some dockerode helpers, e.g. image inspect, take none). */
export function dial<T>(d: Dockerode, options: { path: string; method: string; options?: Record<string, unknown>; isStream?: boolean; statusCodes: Record<number, string | boolean> }, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    d.modem.dial({ ...options, abortSignal: signal }, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

export function inspectImage(d: Dockerode, name: string, signal: AbortSignal): Promise<Dockerode.ImageInspectInfo> {
  return dial(d, { path: `/images/${name}/json`, method: 'GET', statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } }, signal);
}

export function ping(d: Dockerode, signal: AbortSignal): Promise<unknown> {
  return dial(d, { path: '/_ping', method: 'GET', statusCodes: { 200: true, 500: 'server error' } }, signal);
}

export function engineVersion(d: Dockerode, signal: AbortSignal): Promise<Dockerode.DockerVersion> {
  return dial(d, { path: '/version', method: 'GET', statusCodes: { 200: true, 500: 'server error' } }, signal);
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export const isoFromUnix = (s: number | undefined): string | null => (s ? new Date(s * 1000).toISOString() : null);

/** Splits "repo:tag" / "repo@digest" (a registry port's colon is not a tag separator). */
export function splitReference(ref: string): { repository: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repository: ref.slice(0, at), digest: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref };
}

/** Env values can hold secrets: results show variable names only. */
export const envNames = (env: string[] | null | undefined): string[] => (env ?? []).map((e) => e.split('=')[0]);

export function formatPorts(ports: Dockerode.Port[] | undefined): string[] {
  return (ports ?? []).map((p) =>
    p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`,
  );
}
