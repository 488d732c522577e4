import { Readable } from 'node:stream';
import { createLogger } from '@chat/shared/logging';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';
import { BlobSweeper, type UnreachableBlobsSource } from './blob-sweeper.js';

class MemoryBlobs implements BlobStore {
  readonly keys = new Set<string>();
  readonly broken = new Set<string>();
  async putFile(key: string): Promise<void> {
    this.keys.add(key);
  }
  async get(key: string): Promise<Readable | undefined> {
    return this.keys.has(key) ? Readable.from([]) : undefined;
  }
  async delete(key: string): Promise<void> {
    if (this.broken.has(key)) throw new Error('store unavailable');
    this.keys.delete(key);
  }
}

/** Leases rows page by page, like the messages service: leased rows are not handed out again. */
class FakeSource implements UnreachableBlobsSource {
  readonly marked: string[] = [];
  private readonly due: Array<{ id: string; storage_key: string }>;
  constructor(count: number) {
    this.due = Array.from({ length: count }, (_, i) => ({ id: `a${i}`, storage_key: `room/a${i}` }));
  }
  async leaseUnreachableBlobs(limit: number) {
    return this.due.splice(0, limit);
  }
  async markBlobsDeleted(ids: string[]) {
    this.marked.push(...ids);
  }
}

const silent = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });

describe('BlobSweeper', () => {
  it('pages through every unreachable blob, deletes it, and reports it deleted', async () => {
    const source = new FakeSource(25);
    const blobs = new MemoryBlobs();
    for (let i = 0; i < 25; i++) blobs.keys.add(`room/a${i}`);
    const outcomes: Record<string, number> = { deleted: 0, failed: 0 };
    const sweeper = new BlobSweeper(source, blobs, silent, {
      intervalMs: 60_000,
      pageSize: 10,
      onDeleted: (outcome, count) => {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
      },
    });
    expect(await sweeper.sweep()).toBe(25);
    expect(blobs.keys.size).toBe(0);
    expect(source.marked).toHaveLength(25);
    expect(outcomes).toEqual({ deleted: 25, failed: 0 });
  });

  it('leaves a blob it could not delete unmarked, for a later sweep once its lease ends', async () => {
    const source = new FakeSource(3);
    const blobs = new MemoryBlobs();
    blobs.broken.add('room/a1');
    const failed: number[] = [];
    const sweeper = new BlobSweeper(source, blobs, silent, {
      intervalMs: 60_000,
      onDeleted: (outcome, count) => {
        if (outcome === 'failed') failed.push(count);
      },
    });
    expect(await sweeper.sweep()).toBe(2);
    expect(source.marked).toEqual(['a0', 'a2']);
    expect(failed).toEqual([1]);
  });
});
