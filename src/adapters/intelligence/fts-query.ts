/**
 * PostgreSQL's `websearch_to_tsquery('english', …)` syntax for the SQLite FTS5 store, so both backends accept the
 * same queries: words are ANDed, `"a quoted phrase"` matches in sequence, `or` between two terms matches either,
 * `-term` excludes. Tokens are what FTS5's unicode61 tokenizer sees (runs of letters and digits); English stop words
 * are dropped as PostgreSQL's `english` configuration drops them. Every token is quoted, so no input is FTS5 syntax.
 */

/** PostgreSQL's english.stop (the Snowball English stop-word list). */
const STOP_WORDS = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself ' +
    'they them their theirs themselves what which who whom this that these those am is are was were be been being have has had ' +
    'having do does did doing a an the and but if or because as until while of at by for with about against between into through ' +
    'during before after above below to from up down in out on off over under again further then once here there when where why how ' +
    'all any both each few more most other some such no nor not only own same so than too very s t can will just don should now'
  ).split(' '),
);

const TOKEN = /[\p{L}\p{N}]+/gu;

interface Term {
  /** FTS5 text of the term: one quoted token or a quoted phrase. */
  fts: string;
  negated: boolean;
}

function toTerm(text: string, negated: boolean): Term | null {
  const tokens = (text.toLowerCase().match(TOKEN) ?? []).filter((t) => !STOP_WORDS.has(t));
  if (!tokens.length) return null;
  return { fts: `"${tokens.join(' ')}"`, negated };
}

/** The FTS5 MATCH expression for a web-search query, or null when nothing searchable is left (no results). */
export function toFtsQuery(query: string): string | null {
  // Items: a quoted phrase, or a run of non-space characters; a leading '-' negates either.
  const items = query.match(/-?"[^"]*"?|[^\s"]+/g) ?? [];
  const groups: Term[][] = [];
  const excluded: Term[] = [];
  let joinWithOr = false;
  for (const raw of items) {
    if (raw.toLowerCase() === 'or') {
      joinWithOr = groups.length > 0;
      continue;
    }
    const negated = raw.startsWith('-');
    const term = toTerm(negated ? raw.slice(1) : raw, negated);
    if (!term) continue;
    if (negated) {
      excluded.push(term);
      continue;
    }
    if (joinWithOr) groups.at(-1)!.push(term);
    else groups.push([term]);
    joinWithOr = false;
  }
  // FTS5 has no "everything except": a query of exclusions only matches nothing here.
  if (!groups.length) return null;
  const positive = groups.map((g) => (g.length === 1 ? g[0]!.fts : `(${g.map((t) => t.fts).join(' OR ')})`)).join(' AND ');
  return excluded.reduce((expr, t) => `(${expr}) NOT ${t.fts}`, positive);
}
