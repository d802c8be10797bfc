import { loadConfig, type Config } from '../../src/config.js';

/** A config for tests: the defaults plus the given environment, nothing from process.env. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ MCP_API_KEY: 'test-key-0123456789abcdef', LOG_LEVEL: 'silent', ...env });
}
