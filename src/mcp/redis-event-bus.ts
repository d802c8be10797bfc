import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import { silentLog, type StoreLog } from '../log.js';
import type { RedisConnection } from '../redis/connection.js';

const KINDS = new Set<ServerEvent['kind']>(['tools_list_changed', 'prompts_list_changed', 'resources_list_changed', 'resource_updated']);

/** An event read back from the channel, or null for anything else published there. */
function parseEvent(text: string): ServerEvent | null {
  try {
    const event = JSON.parse(text) as { kind?: unknown; uri?: unknown };
    if (typeof event.kind !== 'string' || !KINDS.has(event.kind as ServerEvent['kind'])) return null;
    if (event.kind === 'resource_updated' && typeof event.uri !== 'string') return null;
    return event as ServerEvent;
  } catch {
    return null;
  }
}

/**
 * The SDK's `ServerEventBus` seam over Redis pub/sub: a change published on any instance (a federated upstream's
 * tool list changed) reaches the `subscriptions/listen` streams every instance holds. Each event is published once
 * and comes back to every subscriber, this instance's included; with Redis unreachable it is delivered here only
 * (clients of other instances learn the new list when their cached list expires).
 */
export class RedisServerEventBus implements ServerEventBus {
  private readonly channel: string;
  private readonly listeners = new Set<(event: ServerEvent) => void>();
  private readonly subscriber: Redis;
  private readonly log: StoreLog;

  constructor(
    private readonly connection: RedisConnection,
    options: { prefix?: string; log?: StoreLog } = {},
  ) {
    this.channel = `${options.prefix ?? 'omni:mcp:'}changes`;
    this.log = options.log ?? silentLog;
    connection.acquire();
    // A subscribed connection can run nothing else: a second socket, subscribing again on every (re)connection.
    this.subscriber = connection.client.duplicate({ connectionName: 'omni-hub-mcp-events', autoResubscribe: false });
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).catch((err: unknown) => this.log.warn({ store: 'redis', err: String(err) }, 'MCP event channel subscribe failed'));
    });
    this.subscriber.on('error', () => undefined); // the shared connection already logs outages
    this.subscriber.on('message', (_channel: string, text: string) => {
      const event = parseEvent(text);
      if (event) this.deliver(event);
    });
  }

  publish(event: ServerEvent): void {
    this.connection.client.publish(this.channel, JSON.stringify(event)).catch((err: unknown) => {
      this.log.warn({ store: 'redis', err: String(err) }, 'MCP event not published: delivered on this instance only');
      this.deliver(event);
    });
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber.disconnect();
    await this.connection.release();
  }

  private deliver(event: ServerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'MCP event listener failed');
      }
    }
  }
}
