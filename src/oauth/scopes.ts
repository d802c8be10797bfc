import { type Level, LEVELS } from '../governance/levels.js';

/** OAuth scopes are the governance levels: `tools:low` … `tools:critical`. Holding a level means "tools up to it". */
export const SCOPES = LEVELS.map((l) => `tools:${l.toLowerCase()}`);

const RANK: Readonly<Record<Level, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

export function levelRank(level: Level): number {
  return RANK[level];
}

/** The highest level among scopes, or null when none of them is a level scope. */
export function maxLevel(scopes: readonly string[]): Level | null {
  let best: Level | null = null;
  for (const s of scopes) {
    const i = SCOPES.indexOf(s);
    if (i >= 0 && (best === null || i > RANK[best])) best = LEVELS[i]!;
  }
  return best;
}

/** The scope list a grant up to `level` carries: every level from LOW to it. */
export function scopesUpTo(level: Level): string[] {
  return SCOPES.slice(0, RANK[level] + 1);
}

export function scopeForLevel(level: Level): string {
  return SCOPES[RANK[level]]!;
}

/** Accepted and ignored: refresh tokens are always issued, so a client asking for `offline_access` gets them anyway. */
const IGNORED = new Set(['offline_access']);

/** Parses a space-separated `scope` parameter; unknown scopes are returned so the caller can refuse them. */
export function parseScope(scope: string | undefined): { known: string[]; unknown: string[] } {
  const parts = (scope ?? '').split(' ').filter((p) => p && !IGNORED.has(p));
  return { known: parts.filter((p) => SCOPES.includes(p)), unknown: parts.filter((p) => !SCOPES.includes(p)) };
}

export function levelAllowed(held: Level, needed: Level): boolean {
  return RANK[needed] <= RANK[held];
}
