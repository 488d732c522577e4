import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeUws } from './uws.js';
import { readEventSeq } from './ws/room-hub.js';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('gateway internals', () => {
  afterEach(() => {
    delete process.env.UWS_USE_FALLBACK;
  });

  it('reads the event seq, not the message seq, from an encoded event', () => {
    const event = { type: 'message.updated', room_id: 'r', seq: 42, message: { seq: 7, body: '"seq":1' } };
    expect(readEventSeq(encode(event))).toBe(42);
    expect(readEventSeq(encode({ type: 'typing', room_id: 'r' }))).toBeUndefined();
  });

  it('loads the native uWebSockets.js binary and refuses the JavaScript fallback', () => {
    const uws = loadNativeUws();
    expect(typeof uws.App).toBe('function');
    process.env.UWS_USE_FALLBACK = 'true';
    expect(() => loadNativeUws()).toThrow(/native/);
  });
});

describe('window throttle', () => {
  it('admits a key once per window', async () => {
    const { WindowThrottle } = await import('./ws/throttle.js');
    const throttle = new WindowThrottle(1000);
    expect(throttle.admit('a', 0)).toBe(true);
    expect(throttle.admit('a', 999)).toBe(false);
    expect(throttle.admit('b', 999)).toBe(true);
    expect(throttle.admit('a', 1000)).toBe(true);
  });
});
