import pino from 'pino';
import type { Config } from '../config.js';
import type { ToolContext, ToolServices } from './types.js';

const silent = pino({ level: 'silent' });

/**
 * A ToolContext for a system's check(): the adapters' request helpers take one, but a probe has no caller, no media
 * and no audit record.
 */
export function probeContext(config: Config, services: ToolServices, signal: AbortSignal): ToolContext {
  return {
    config,
    services,
    log: silent,
    signal,
    deadline: Date.now() + config.toolWaitMs,
    principal: 'system:check',
    callId: 'check',
    attach: () => {},
  };
}
