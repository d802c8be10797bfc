import { unsupportedNodeMessage } from './node-version.js';

/**
 * Imported first by every entry point: on an older Node the process stops here with one line, before any module that
 * needs a newer Node runs. Only modules loaded on first use (`node:sqlite`) could fail earlier, and they are not
 * imported statically.
 */
const message = unsupportedNodeMessage(process.version);
if (message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
