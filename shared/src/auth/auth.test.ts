import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/index.js';
import { DEV_JWT_SECRET, KNOWN_PLACEHOLDER_SECRETS, resolveAuthSettings } from './settings.js';
import { bearerToken, createTokenVerifier } from './verifier.js';

const secret = 'a-test-secret-that-is-long-enough-123456';
const hs = createTokenVerifier(resolveAuthSettings({ NODE_ENV: 'test', JWT_SECRET: secret }));
const sign = (payload: object, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { expiresIn: 60, ...options });

describe('token verification', () => {
  it('accepts a valid HS256 token and maps its claims', () => {
    expect(hs.verify(sign({ sub: 'alice', name: 'Alice', roles: ['service'] }))).toEqual({
      user_id: 'alice',
      name: 'Alice',
      roles: ['service'],
    });
  });

  it('requires exp', () => {
    expect(() => hs.verify(jwt.sign({ sub: 'alice' }, secret))).toThrow(/exp/);
  });

  it('refuses alg none, expired tokens, and bad subjects', () => {
    const none = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 }, '', { algorithm: 'none' });
    expect(() => hs.verify(none)).toThrow(/invalid token/);
    expect(() => hs.verify(sign({ sub: 'alice' }, { expiresIn: -1 }))).toThrow(/expired/);
    expect(() => hs.verify(sign({ sub: '' }))).toThrow(/sub/);
    expect(() => hs.verify(sign({ sub: 'x'.repeat(129) }))).toThrow(/sub/);
  });

  it('checks issuer and audience when configured', () => {
    const strict = createTokenVerifier(
      resolveAuthSettings({ NODE_ENV: 'test', JWT_SECRET: secret, JWT_ISSUER: 'host-app', JWT_AUDIENCE: 'chat' }),
    );
    expect(strict.verify(sign({ sub: 'a' }, { issuer: 'host-app', audience: 'chat' })).user_id).toBe('a');
    expect(() => strict.verify(sign({ sub: 'a' }, { issuer: 'someone-else', audience: 'chat' }))).toThrow(/issuer/);
    expect(() => strict.verify(sign({ sub: 'a' }))).toThrow();
  });

  it('refuses algorithm confusion: an HS256 token signed with the RSA public key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = createTokenVerifier(resolveAuthSettings({ NODE_ENV: 'test', JWT_PUBLIC_KEY: pem, JWT_ISSUER: 'idp', JWT_AUDIENCE: 'chat' }));
    const good = jwt.sign({ sub: 'bob' }, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
      algorithm: 'RS256',
      expiresIn: 60,
      issuer: 'idp',
      audience: 'chat',
    });
    expect(rs.verify(good).user_id).toBe('bob');
    // Forge an HS256 signature keyed with the public PEM text, the classic confusion attack.
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'bob', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    const forged = `${header}.${body}.${createHmac('sha256', pem).update(`${header}.${body}`).digest('base64url')}`;
    expect(() => rs.verify(forged)).toThrow(/invalid token/);
  });
});

describe('auth settings', () => {
  it('uses the development secret, flagged, only when CHAT_DEV_MODE asks for it outside production', () => {
    expect(resolveAuthSettings({ NODE_ENV: 'development', CHAT_DEV_MODE: true })).toMatchObject({
      key: DEV_JWT_SECRET,
      usingDevSecret: true,
    });
    expect(() => resolveAuthSettings({ NODE_ENV: 'development' })).toThrow(
      /JWT_SECRET or JWT_PUBLIC_KEY: one is required .*CHAT_DEV_MODE=1/,
    );
    expect(() => resolveAuthSettings({ NODE_ENV: 'test', CHAT_DEV_MODE: false })).toThrow(ConfigError);
    expect(() => resolveAuthSettings({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => resolveAuthSettings({ NODE_ENV: 'production', CHAT_DEV_MODE: true })).toThrow(/CHAT_DEV_MODE/);
  });

  it('refuses every published placeholder secret, even in development mode', () => {
    for (const placeholder of [...KNOWN_PLACEHOLDER_SECRETS, 'please-change-me-before-going-live-0123456789']) {
      expect(() => resolveAuthSettings({ NODE_ENV: 'development', CHAT_DEV_MODE: true, JWT_SECRET: placeholder })).toThrow(/placeholder/);
    }
    expect(KNOWN_PLACEHOLDER_SECRETS).toContain('change-me-to-a-random-secret-of-at-least-32-chars');
  });

  it('requires JWT_ISSUER and JWT_AUDIENCE with a public key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => resolveAuthSettings({ NODE_ENV: 'test', JWT_PUBLIC_KEY: pem })).toThrow(
      /JWT_ISSUER: required[\s\S]*JWT_AUDIENCE: required/,
    );
    expect(() => resolveAuthSettings({ NODE_ENV: 'test', JWT_PUBLIC_KEY: pem, JWT_ISSUER: 'idp' })).toThrow(/JWT_AUDIENCE: required/);
    expect(resolveAuthSettings({ NODE_ENV: 'test', JWT_PUBLIC_KEY: pem, JWT_ISSUER: 'idp', JWT_AUDIENCE: 'chat' })).toMatchObject({
      algorithms: ['ES256'],
      issuer: 'idp',
      audience: 'chat',
    });
  });

  it('refuses both a secret and a public key, and a key that is not PEM', () => {
    expect(() => resolveAuthSettings({ NODE_ENV: 'test', JWT_SECRET: secret, JWT_PUBLIC_KEY: 'x' })).toThrow(/not both/);
    expect(() => resolveAuthSettings({ NODE_ENV: 'test', JWT_PUBLIC_KEY: 'not a key', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' })).toThrow(/PEM/);
  });

  it('reads bearer tokens only from a well-formed header', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
