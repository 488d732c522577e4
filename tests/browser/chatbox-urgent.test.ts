import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageItem, openRoom } from '../support/chatbox.js';
import { ChatboxWorld } from '../support/chatbox-world.js';
import { api } from '../support/http.js';
import { mintToken } from '../support/test-stack.js';

/**
 * The chatbox and urgent messages (DESIGN 10.2): an urgent badge, and on a message that asks for
 * acknowledgement an "Acknowledge" button for everyone but its sender, with who has acknowledged,
 * kept current live on the sender's screen.
 */
const world = new ChatboxWorld();
const tokens = {
  boss: mintToken('ub-boss', { name: 'Berta Boss', roles: ['staff'] }),
  guard: mintToken('ub-guard', { name: 'Gus Guard' }),
  cook: mintToken('ub-cook', { name: 'Cora Cook' }),
};
let roomId: string;

beforeAll(async () => {
  await world.start({ tokens: Object.values(tokens) });
  roomId = (
    await api(world.url, 'POST', '/v1/rooms', {
      token: tokens.boss,
      body: { kind: 'group', title: 'Night shift', member_ids: ['ub-guard', 'ub-cook'] },
    })
  ).body.id as string;
}, 120_000);

afterAll(() => world.stop());

describe('urgent messages in the chatbox', { timeout: 90_000 }, () => {
  it('shows the urgent badge and an Acknowledge button; acknowledging names the member on every screen', async () => {
    const sent = await api(world.url, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.boss,
      body: { client_msg_id: crypto.randomUUID(), body: 'Fire door 3 is open, please check', priority: 'urgent', ack_requested: true },
    });
    expect(sent.status).toBe(201);
    const boss = await world.open(tokens.boss);
    const guard = await world.open(tokens.guard);
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
