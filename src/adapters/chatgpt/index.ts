import type { SystemDefinition } from '../../tools/types.js';
import { probe } from './client.js';
import { autoBuilderExecute } from './tools.js';

export const system: SystemDefinition = {
  id: 'chatgpt',
  title: 'ChatGPT Auto Builder',
  tools: [autoBuilderExecute],
  missingConfig: (config) => (config.chatgpt.endpoint ? null : 'CHATGPT_MCP_ENDPOINT'),
  async check(config, _services, signal) {
    const { endpoint, token, timeoutMs } = config.chatgpt;
    if (!endpoint) return { state: 'needs', variable: 'CHATGPT_MCP_ENDPOINT' };
    try {
      // Any HTTP answer below 500 means the endpoint is up (a GET on the base may well be 404 or 405).
      const status = await probe({ endpoint, token, timeoutMs }, signal);
      if (status >= 500) return { state: 'failed', reason: `${endpoint} answered HTTP ${status}` };
      if ((status === 401 || status === 403) && token) return { state: 'failed', reason: `${endpoint} rejected CHATGPT_MCP_TOKEN (HTTP ${status})` };
      return { state: 'connected', detail: `${endpoint} answered HTTP ${status}` };
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.message) : String(err);
      return { state: 'failed', reason: `cannot reach ${endpoint}: ${cause}` };
    }
  },
};
