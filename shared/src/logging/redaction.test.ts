import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED_PATHS, redactDeviceTokens } from './index.js';

describe('device token redaction', () => {
  it('censors the token in device route paths and nothing else', () => {
    expect(redactDeviceTokens('/v1/devices/abc123DEF')).toBe('/v1/devices/[redacted]');
    expect(redactDeviceTokens('/v1/devices/abc%20x?x=1')).toBe('/v1/devices/[redacted]?x=1');
    expect(redactDeviceTokens('/v1/rooms/r1/messages')).toBe('/v1/rooms/r1/messages');
  });

  it('censors device tokens in log objects', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ device_token: 'secret-device', target: { token: 'secret-target', platform: 'apns' } }, 'x');
    expect(lines.join('')).not.toContain('secret-');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ device_token: '[redacted]', target: { token: '[redacted]', platform: 'apns' } });
  });
});
