import '../require-node.js';
import { importPgliteStore } from '../adapters/intelligence/pglite-import.js';
import { pgliteDir, sqliteFile } from '../adapters/intelligence/sqlite-open.js';
import { ConfigError, loadConfig } from '../config.js';
import { isEntryPoint } from './entry-point.js';

const USAGE = `usage: npm run import:pglite

Imports, once, the embedded Intelligence store of an earlier version (PGlite, in \${DATA_DIR}/pglite) into the
embedded SQLite store (\${DATA_DIR}/intelligence.sqlite). Stop the hub first. Needs @electric-sql/pglite installed
(a checkout's \`npm ci\` installs it; elsewhere: npm install --no-save @electric-sql/pglite@0.5, in the hub's
directory or the current one).
The PGlite directory is only read; once the import succeeded it can be deleted.
`;

export interface ImportIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs the import the way `npm run import:pglite` does and returns the process exit code. */
export async function runImportPgliteCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: ImportIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    io.stderr(`omni-hub import:pglite: unknown argument "${argv[0]}" (try --help)\n`);
    return 1;
  }
  try {
    const config = loadConfig(env);
    if (config.databaseUrl) {
      io.stderr('omni-hub import:pglite: DATABASE_URL is set, so the hub uses PostgreSQL, not the embedded store; unset it to import into DATA_DIR\n');
      return 1;
    }
    const from = pgliteDir(config);
    const to = sqliteFile(config);
    const result = await importPgliteStore(to, from);
    io.stdout(
      result.alreadyImported
        ? `${from} was imported into ${to} before; nothing to do\n`
        : `imported ${result.imported} document(s) from ${from} into ${to}\n`,
    );
    return 0;
  } catch (err) {
    io.stderr(`omni-hub import:pglite: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (isEntryPoint(import.meta.url)) {
  runImportPgliteCommand(process.argv.slice(2), process.env, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then((code) => {
    process.exitCode = code;
  });
}
