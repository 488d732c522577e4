import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { freePort, messageItem, openRoom, signIn } from '../support/chatbox.js';
import { api } from '../support/http.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

/**
 * The chatbox and urgent messages (DESIGN 10.2): an urgent badge, and on a message that asks for
 * acknowledgement an "Acknowledge" button for everyone but its sender, with who has acknowledged,
 * kept current live on the sender's screen.
 */
const stack = new TestStack({ gateways: 0 });
const tokens = {
  boss: mintToken('ub-boss', { name: 'Berta Boss', roles: ['staff'] }),
  guard: mintToken('ub-guard', { name: 'Gus Guard' }),
  cook: mintToken('ub-cook', { name: 'Cora Cook' }),
};
let gateway: Gateway;
let browser: Browser;
const contexts: BrowserContext[] = [];
let roomId: string;

beforeAll(async () => {
  await stack.start();
  gateway = await stack.startGateway({ GATEWAY_HTTP_PORT: String(await freePort()), GATEWAY_WS_PORT: String(await freePort()) });
  for (const token of Object.values(tokens)) await api(gateway.httpUrl, 'GET', '/v1/rooms', { token });
  roomId = (
    await api(gateway.httpUrl, 'POST', '/v1/rooms', {
      token: tokens.boss,
      body: { kind: 'group', title: 'Night shift', member_ids: ['ub-guard', 'ub-cook'] },
    })
  ).body.id as string;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack.stop();
});

describe('urgent messages in the chatbox', { timeout: 90_000 }, () => {
  it('shows the urgent badge and an Acknowledge button; acknowledging names the member on every screen', async () => {
    const sent = await api(gateway.httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.boss,
      body: { client_msg_id: crypto.randomUUID(), body: 'Fire door 3 is open, please check', priority: 'urgent', ack_requested: true },
    });
    expect(sent.status).toBe(201);
    const boss = await signIn(browser, gateway.httpUrl, tokens.boss, { contexts });
    const guard = await signIn(browser, gateway.httpUrl, tokens.guard, { contexts });
    await openRoom(boss, roomId);
    await openRoom(guard, roomId);

    const onGuard = messageItem(guard, 'Fire door 3 is open');
    await onGuard.locator('[data-testid="urgent"]', { hasText: 'Urgent' }).waitFor();
    await onGuard.locator('[data-testid="acknowledgements"]', { hasText: 'Nobody has acknowledged yet · 2 pending' }).waitFor();
    const onBoss = messageItem(boss, 'Fire door 3 is open');
    await onBoss.locator('[data-testid="acknowledgements"]', { hasText: 'Nobody has acknowledged yet' }).waitFor();
    // The sender has no button: one does not acknowledge one's own message.
    expect(await onBoss.locator('button', { hasText: 'Acknowledge' }).count()).toBe(0);

    await onGuard.locator('button', { hasText: 'Acknowledge' }).click();
    await onGuard.locator('[data-testid="acknowledgements"]', { hasText: 'Acknowledged by Gus Guard · 1 pending' }).waitFor();
    expect(await onGuard.locator('button', { hasText: 'Acknowledge' }).count()).toBe(0);
    // Live on the sender's screen, from the message.acknowledged event.
    await onBoss.locator('[data-testid="acknowledgements"]', { hasText: 'Acknowledged by Gus Guard · 1 pending' }).waitFor();

    // After a reload the state comes from the server: still acknowledged, no button.
    await guard.reload();
    await guard.waitForSelector('.room-list');
    await openRoom(guard, roomId);
    const again = messageItem(guard, 'Fire door 3 is open');
    await again.locator('[data-testid="acknowledgements"]', { hasText: 'Acknowledged by Gus Guard' }).waitFor();
    expect(await again.locator('button', { hasText: 'Acknowledge' }).count()).toBe(0);
  });
});
