import { describe, expect, it } from 'vitest';
import { standardWebhookHeaders, standardWebhookSignature, verifyStandardWebhook } from './signing.js';

describe('Standard Webhooks signing', () => {
  // The example of the Standard Webhooks specification's reference libraries.
  it('matches the reference signature for a whsec_ secret', () => {
    expect(
      standardWebhookSignature(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own headers and refuses a changed body, id or an old timestamp', () => {
    const secret = 'plain-secret-0123456789';
    const now = 1_700_000_000_000;
    const headers = standardWebhookHeaders(secret, 'd-1', '{"a":1}', now);
    expect(verifyStandardWebhook(secret, headers, '{"a":1}', { now })).toBe(true);
    expect(verifyStandardWebhook(secret, headers, '{"a":2}', { now })).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-id': 'd-2' }, '{"a":1}', { now })).toBe(false);
    expect(verifyStandardWebhook(secret, headers, '{"a":1}', { now: now + 600_000 })).toBe(false);
    expect(verifyStandardWebhook('another-secret-0123456789', headers, '{"a":1}', { now })).toBe(false);
  });
});
