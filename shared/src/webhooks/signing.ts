import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `{webhook-id}.{webhook-timestamp}.{raw body}`, so a captured request cannot be replayed under
 * another id or long after its timestamp. A secret starting with `whsec_` is base64 after the
 * prefix (as the Standard Webhooks libraries issue them); any other secret is used as UTF-8 bytes.
 */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function standardWebhookSignature(secret: string, id: string, timestampSeconds: number, raw: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${raw}`).digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one delivery attempt; `id` must stay the same on every retry. */
export function standardWebhookHeaders(secret: string, id: string, raw: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardWebhookSignature(secret, id, timestamp, raw),
  };
}

/**
 * What a receiver does: recompute the signature, compare in constant time against each
 * space-separated `v1,` entry, and refuse timestamps outside the tolerance (replays).
 */
export function verifyStandardWebhook(
  secret: string,
  headers: { 'webhook-id'?: string; 'webhook-timestamp'?: string; 'webhook-signature'?: string },
  raw: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (!id || !Number.isInteger(timestamp) || !signatures) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(standardWebhookSignature(secret, id, timestamp, raw));
  return signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
