import type { AuthInfo } from '@modelcontextprotocol/server';

/** The profile a request's route asked for (`/mcp/p/<profile>`), carried with its caller's identity. */
export function profileOf(auth: AuthInfo | undefined): string | undefined {
  const profile = auth?.extra?.profile;
  return typeof profile === 'string' ? profile : undefined;
}
