import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, unsupportedNodeMessage } from '../src/node-version.js';

describe('the Node.js version the hub requires', () => {
  it('accepts Node 24 and newer, including the Node running this test', () => {
    expect(MIN_NODE_MAJOR).toBe(24);
    expect(unsupportedNodeMessage('v24.0.0')).toBeNull();
    expect(unsupportedNodeMessage('v25.1.2')).toBeNull();
    expect(unsupportedNodeMessage(process.version)).toBeNull();
  });

  it('refuses an older Node with one line naming both versions', () => {
    const message = unsupportedNodeMessage('v20.20.2');
    expect(message).toBe('omni-hub: Node.js 24 or newer is required, this is Node.js v20.20.2 (install Node 24 LTS)');
    expect(unsupportedNodeMessage('v22.13.0')).toMatch(/this is Node.js v22.13.0/);
    expect(unsupportedNodeMessage('garbage')).toMatch(/required/);
  });
});
