import type { Readable } from 'node:stream';

/** Where attachment bytes live. The gateway streams uploads in and downloads out; services never see bytes. */
export interface BlobStore {
  /** Stores a finished, size-checked file from a local path under `key`. */
  putFile(key: string, path: string, size: number, contentType: string): Promise<void>;
  /** The bytes under `key`, or undefined when there are none. */
  get(key: string): Promise<Readable | undefined>;
  delete(key: string): Promise<void>;
}
