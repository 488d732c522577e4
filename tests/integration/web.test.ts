import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 1 });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

describe('web chatbox serving', () => {
  it('serves the app at / with a strict content security policy and its configuration', async () => {
    const page = await fetch(`${stack.gateway().httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    const script = await fetch(`${stack.gateway().httpUrl}/app.js`);
    expect(script.status).toBe(200);
    const config = await api(stack.gateway().httpUrl, 'GET', '/config.json');
    expect(config.body).toMatchObject({ ws_url: stack.gateway().wsUrl, dev_tokens: false, attachment_max_bytes: 10 * 1024 * 1024 });
  });

  it('mints development tokens only when the server runs on the development secret', async () => {
    expect((await api(stack.gateway().httpUrl, 'POST', '/dev/token', { body: { user_id: 'x' } })).status).toBe(404);
    const dev = await stack.startGateway({ JWT_SECRET: '', NODE_ENV: 'development', CHAT_DEV_MODE: '1' });
    expect((await api(dev.httpUrl, 'GET', '/config.json')).body).toMatchObject({ dev_tokens: true });
    const minted = await api<{ token: string }>(dev.httpUrl, 'POST', '/dev/token', { body: { user_id: 'dev-user', name: 'Dev User' } });
    expect(minted.status).toBe(200);
    const socket = await TestSocket.connect(dev.wsUrl, minted.body.token);
    expect(socket.frames[0]).toMatchObject({ type: 'hello', user_id: 'dev-user' });
    await socket.close();
    const bad = await api(dev.httpUrl, 'POST', '/dev/token', { body: { user_id: '' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const production = stack.spawn('gateway', { JWT_SECRET: '', NODE_ENV: 'production', CHAT_DEV_MODE: '1' });
    expect(await production.waitForExit()).toBe(78);
    expect(production.tail(5)).toContain('CHAT_DEV_MODE: the development mode is refused when NODE_ENV=production');
  });

  it('refuses to start without a key unless the development mode is asked for, and on a published placeholder', async () => {
    const keyless = stack.spawn('gateway', { JWT_SECRET: '', NODE_ENV: 'development' });
    expect(await keyless.waitForExit()).toBe(78);
    expect(keyless.tail(5)).toContain('JWT_SECRET or JWT_PUBLIC_KEY: one is required');
    const placeholder = stack.spawn('gateway', { JWT_SECRET: 'change-me-to-a-random-secret-of-at-least-32-chars' });
    expect(await placeholder.waitForExit()).toBe(78);
    expect(placeholder.tail(5)).toContain('JWT_SECRET: a published placeholder');
  });
});
