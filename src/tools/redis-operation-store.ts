import type { RedisConnection } from '../redis/connection.js';
import { bounded, type OperationRecord, type OperationStore } from './operations.js';

/**
 * Operation state in Redis (REDIS_URL set): one JSON string per operation with its TTL, written by the instance running
 * the work and read by whichever instance receives the follow-up.
 */
export class RedisOperationStore implements OperationStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix = 'omni:op:',
  ) {
    connection.acquire();
  }

  async save(record: OperationRecord, ttlMs: number): Promise<void> {
    await this.connection.client.set(this.prefix + record.id, JSON.stringify(bounded(record)), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async get(id: string): Promise<OperationRecord | null> {
    const json = await this.connection.client.get(this.prefix + id);
    return json === null ? null : (JSON.parse(json) as OperationRecord);
  }

  close(): Promise<void> {
    return this.connection.release();
  }
}
