import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { testConfig } from './config.js';
import { dockerOptions } from '../../src/adapters/docker/client.js';

/**
 * The real Docker Engine for tests: DOCKER_TEST_HOST (e.g. unix:///run/omni-docker/docker.sock, started by .ci/run),
 * never the default /var/run/docker.sock, so that a developer's own daemon is not touched by accident. Suites that
 * need it skip with the reason in their name when it is unset or does not answer.
 */
export interface RealEngine {
  host?: string;
  docker?: Docker;
  /** Why the real-engine suites skip; undefined when the engine answered. */
  skipReason?: string;
}

export const BUSYBOX = process.env.DOCKER_TEST_BUSYBOX ?? '/bin/busybox';

export async function realEngine(): Promise<RealEngine> {
  const host = process.env.DOCKER_TEST_HOST;
  if (!host) return { skipReason: 'DOCKER_TEST_HOST is unset (.ci/run starts an engine and sets it)' };
  const docker = new Docker(dockerOptions(testConfig({ DOCKER_HOST: host })));
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000)));
    await Promise.race([docker.ping(), timeout]).finally(() => clearTimeout(timer));
  } catch (err) {
    return { host, skipReason: `no Docker Engine answers at DOCKER_TEST_HOST=${host} (${(err as Error).message})` };
  }
  return { host, docker };
}

/** A statically linked busybox to build `FROM scratch` images (no image registry is reachable here). */
export function busyboxSkipReason(): string | undefined {
  return existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (apt-get install busybox-static, or set DOCKER_TEST_BUSYBOX)`;
}

/** The local registry (htpasswd auth) for push/pull: DOCKER_TEST_REGISTRY and DOCKER_TEST_REGISTRY_AUTH. */
export function testRegistry(): { address: string; auth: { username: string; password: string; serveraddress: string } } | { skipReason: string } {
  const address = process.env.DOCKER_TEST_REGISTRY;
  const raw = process.env.DOCKER_TEST_REGISTRY_AUTH;
  if (!address || !raw) return { skipReason: 'DOCKER_TEST_REGISTRY / DOCKER_TEST_REGISTRY_AUTH are unset (.ci/run starts a registry and sets them)' };
  return { address, auth: JSON.parse(raw) as { username: string; password: string; serveraddress: string } };
}

/** Prints the reason a real-engine suite skips, so the skip is visible in the run's output, not only in a count. */
export function announceSkip(suite: string, reason: string | undefined): void {
  if (reason) process.stderr.write(`[skip] ${suite}: ${reason}\n`);
}
