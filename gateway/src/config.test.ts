import { describe, expect, it } from 'vitest';
import { GatewayConfigSchema, rateLimitOf } from './config.js';

describe('gateway rate-limit settings', () => {
  it('each RATE_LIMIT_<NAME>_PER_S / _BURST pair is one token bucket, defaults where unset', () => {
    const config = GatewayConfigSchema.parse({ RATE_LIMIT_SENDS_PER_S: '0.5', RATE_LIMIT_CONNECTS_PER_ADDRESS_BURST: '7' });
    expect(rateLimitOf(config, 'SENDS')).toEqual({ perSecond: 0.5, burst: 20 });
    expect(rateLimitOf(config, 'CONNECTS_PER_ADDRESS')).toEqual({ perSecond: 100, burst: 7 });
    expect(rateLimitOf(config, 'CONNECTS')).toEqual({ perSecond: 10, burst: 30 });
  });

  it('refuses a burst that is not a positive whole number, and a rate that is not positive', () => {
    expect(GatewayConfigSchema.safeParse({ RATE_LIMIT_EDITS_BURST: '2.5' }).success).toBe(false);
    expect(GatewayConfigSchema.safeParse({ RATE_LIMIT_TYPING_PER_S: '0' }).success).toBe(false);
  });
});
