/** An attachment whose bytes can go: nothing refers to it any more. */
export interface UnreachableBlob {
  id: string;
  storage_key: string;
}

/** What the blob sweep needs from storage. */
export interface UnreachableBlobsPort {
  lease(options: { limit: number; leaseMs: number; unusedAfterMs: number }): Promise<UnreachableBlob[]>;
  markDeleted(ids: string[]): Promise<number>;
}

/**
 * Which bytes the gateways' sweep may delete. The messages service decides (it owns the rows);
 * the gateways, which own the blob store, delete and report back.
 */
export class AttachmentBlobs {
  constructor(
    private readonly store: UnreachableBlobsPort,
    /** An upload not attached to a message within this long is treated as abandoned. */
    private readonly unusedAfterMs: number,
  ) {}

  leaseUnreachable(limit: number, leaseMs: number): Promise<UnreachableBlob[]> {
    return this.store.lease({ limit, leaseMs, unusedAfterMs: this.unusedAfterMs });
  }

  markDeleted(ids: string[]): Promise<number> {
    return this.store.markDeleted(ids);
  }
}
