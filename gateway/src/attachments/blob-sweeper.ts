import type { Logger } from '@chat/shared/logging';
import { thumbnailKeyOf } from '@chat/shared/rpc';
import type { BlobStore } from './blob-store.js';

/** The messages service's side of the sweep: it decides which bytes nobody can reach. */
export interface UnreachableBlobsSource {
  leaseUnreachableBlobs(limit: number, leaseMs: number): Promise<Array<{ id: string; storage_key: string }>>;
  markBlobsDeleted(ids: string[]): Promise<void>;
}

export interface BlobSweeperOptions {
  intervalMs: number;
  /** Blobs leased per round trip; a round continues while full pages come back. */
  pageSize?: number;
  /** Long enough to delete one page; a gateway that dies mid-page leaves it to the next sweep. */
  leaseMs?: number;
  onDeleted?: (outcome: 'deleted' | 'failed', count: number) => void;
}

/**
 * Deletes the bytes of uploads never attached and of deleted messages' attachments. Every gateway
 * runs one: leases keep two sweepers off the same rows, so no election is needed.
 */
export class BlobSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly source: UnreachableBlobsSource,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
    private readonly options: BlobSweeperOptions,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep: pages until a page comes back short. */
  async sweep(): Promise<number> {
    const pageSize = this.options.pageSize ?? 100;
    const leaseMs = this.options.leaseMs ?? 60_000;
    let deleted = 0;
    while (!this.stopped) {
      const page = await this.source.leaseUnreachableBlobs(pageSize, leaseMs);
      const done: string[] = [];
      for (const blob of page) {
        try {
          await this.blobs.delete(blob.storage_key);
          // An image's thumbnail lies beside it (deleting a key that holds nothing succeeds).
          await this.blobs.delete(thumbnailKeyOf(blob.storage_key));
          done.push(blob.id);
        } catch (error) {
          // Left leased: the next sweep after the lease tries again.
          this.logger.warn({ err: error, attachment_id: blob.id }, 'attachment blob could not be deleted; retried by a later sweep');
        }
      }
      if (done.length > 0) await this.source.markBlobsDeleted(done);
      deleted += done.length;
      this.options.onDeleted?.('deleted', done.length);
      if (page.length > done.length) this.options.onDeleted?.('failed', page.length - done.length);
      if (page.length < pageSize) break;
    }
    return deleted;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then((count) => {
          if (count > 0) this.logger.info({ count }, 'attachment blobs nobody can reach were deleted');
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, 'attachment blob sweep failed; retried at the next interval'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
