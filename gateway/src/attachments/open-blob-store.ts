import type { GatewayConfig } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The blob store `ATTACHMENT_STORE` names: a directory (one gateway, development) or an S3 bucket. */
export function openBlobStore(
  config: Pick<
    GatewayConfig,
    | 'ATTACHMENT_STORE'
    | 'ATTACHMENT_DIR'
    | 'S3_BUCKET'
    | 'S3_REGION'
    | 'S3_ENDPOINT'
    | 'S3_ACCESS_KEY_ID'
    | 'S3_SECRET_ACCESS_KEY'
    | 'S3_PREFIX'
  >,
): BlobStore {
  if (config.ATTACHMENT_STORE === 'local') return new LocalBlobStore(config.ATTACHMENT_DIR);
  return new S3BlobStore({
    // Required by the config check when ATTACHMENT_STORE=s3.
    bucket: config.S3_BUCKET ?? '',
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    prefix: config.S3_PREFIX,
  });
}
