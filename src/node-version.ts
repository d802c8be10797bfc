/**
 * The oldest Node.js the hub runs on: 24, the LTS line the image ships. The embedded Intelligence store uses the
 * built-in `node:sqlite` module, and production dependencies (`content-type@3`, `cookie@2`) need Node 22 or newer.
 */
export const MIN_NODE_MAJOR = 24;

/** The one-line reason this Node cannot run the hub, or null when it can. */
export function unsupportedNodeMessage(version: string): string | null {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return null;
  return `omni-hub: Node.js ${MIN_NODE_MAJOR} or newer is required, this is Node.js ${version} (install Node ${MIN_NODE_MAJOR} LTS)`;
}
