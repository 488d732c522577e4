import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnvShape, databaseEnvShape, parseEnv, portVar } from './index.js';

const schema = z.object({ ...commonEnvShape, ...databaseEnvShape, ROOMS_HTTP_PORT: portVar(8091) });

describe('parseEnv', () => {
  it('works with no environment at all, against the local services', () => {
    const config = parseEnv(schema, {});
    expect(config.CHAT_NAMESPACE).toBe('chat');
    expect(config.NATS_URL).toEqual(['nats://127.0.0.1:4222']);
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(config.ROOMS_HTTP_PORT).toBe(8091);
  });

  it('names every bad variable in one error', () => {
    const attempt = () => parseEnv(schema, { DATABASE_URL: 'mysql://x', ROOMS_HTTP_PORT: 'eighty', CHAT_NAMESPACE: 'has.dot' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('ROOMS_HTTP_PORT');
      expect(message).toContain('CHAT_NAMESPACE');
    }
  });

  it('treats empty variables as unset and splits NATS_URL lists', () => {
    const config = parseEnv(schema, { DATABASE_URL: '', NATS_URL: 'nats://a:4222, nats://b:4222' });
    expect(config.DATABASE_URL).toContain('127.0.0.1');
    expect(config.NATS_URL).toEqual(['nats://a:4222', 'nats://b:4222']);
  });
});
