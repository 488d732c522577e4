import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, messageItem, openRoom, PHONE, say } from '../support/chatbox.js';
import { ChatboxWorld } from '../support/chatbox-world.js';
import { api } from '../support/http.js';
import { mintToken } from '../support/test-stack.js';

/**
 * The chatbox and DESIGN 10.3: Report and Block in a message's menu, the moderators' report list,
 * and the banner of a closed room; axe-core on the new dialogs.
 */
const world = new ChatboxWorld();
const tokens = {
  guest: mintToken('cm-guest', { name: 'Gina Guest' }),
  pest: mintToken('cm-pest', { name: 'Pete Pest' }),
  moderator: mintToken('cm-mod', { name: 'Mona Moderator', roles: ['moderator'] }),
  host: mintToken('cm-host', { name: 'Trips', roles: ['service'] }),
};
let roomId: string;

const rest = () => world.url;
const send = async (token: string, body: string) =>
  (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: crypto.randomUUID(), body } })).body;

/** Shows a message's actions as a tap would, then clicks one of them. */
async function messageAction(page: Page, text: string, action: string): Promise<void> {
  const item = messageItem(page, text);
  await item.locator('article').click();
  await item.locator('.actions button', { hasText: action }).click();
}

beforeAll(async () => {
  await world.start({ tokens: Object.values(tokens) });
  roomId = (
    await api(world.url, 'POST', '/v1/rooms', {
      token: tokens.guest,
      body: { kind: 'group', title: 'Pool area', member_ids: ['cm-pest'] },
    })
  ).body.id as string;
}, 120_000);

afterAll(() => world.stop());

describe('moderation in the chatbox', { timeout: 120_000 }, () => {
  it('reports a message from its menu, and a moderator resolves it from the report list', async () => {
    const sent = await send(tokens.pest, 'Cheap watches at www.example.test');
    const guest = await world.open(tokens.guest);
    await openRoom(guest, roomId);
    // No Report or Block on one's own messages, nor a Reports button for a plain member.
    await say(guest, 'Pool closes at 8');
    const own = messageItem(guest, 'Pool closes at 8');
    await own.locator('article').click();
    expect(await own.locator('.actions button', { hasText: 'Report' }).count()).toBe(0);
    expect(await guest.locator('button.reports-button').count()).toBe(0);

    await messageAction(guest, 'Cheap watches', 'Report');
    const dialog = guest.locator('dialog.report-dialog');
    await dialog.waitFor();
    expect(await axeViolations(guest)).toEqual([]);
    await dialog.locator('#report-reason').selectOption('spam');
    await dialog.locator('#report-note').fill('Third time this week');
    await dialog.locator('button[type="submit"]').click();
    await guest.locator('[data-testid="flash"]', { hasText: 'Reported' }).waitFor();
    await guest.locator('dialog.report-dialog').waitFor({ state: 'detached' });

    const moderator = await world.open(tokens.moderator);
    await moderator.locator('button.reports-button').click();
    const list = moderator.locator('dialog.reports-dialog');
    const item = list.locator('li.report', { hasText: 'Cheap watches' });
    await item.waitFor();
    expect(await item.textContent()).toContain('Third time this week');
    expect(await axeViolations(moderator)).toEqual([]);
    await item.locator('button', { hasText: 'Resolve' }).click();
    await moderator.locator('[data-testid="flash"]', { hasText: 'Report resolved' }).waitFor();
    expect(await list.locator('li.report', { hasText: 'Cheap watches' }).count()).toBe(0);

    const resolved = await api<{ items: Array<{ message_id: string; reason: string; note: string }> }>(
      rest(),
      'GET',
      '/v1/reports?status=resolved',
      { token: tokens.moderator },
    );
    expect(resolved.body.items.find((r) => r.message_id === sent.id)).toMatchObject({ reason: 'spam', note: 'Third time this week' });
  });

  it('blocks a sender from a message: their messages are hidden until shown or unblocked', async () => {
    await send(tokens.pest, 'Are you there?');
    const guest = await world.open(tokens.guest);
    await openRoom(guest, roomId);
    await messageAction(guest, 'Are you there?', 'Block');
    await guest.locator('[data-testid="flash"]', { hasText: 'Pete Pest is blocked' }).waitFor();
    const hidden = guest.locator('li.message [data-testid="blocked"]');
    await hidden.first().waitFor();
    expect(await guest.locator('li.message .body', { hasText: 'Are you there?' }).count()).toBe(0);

    // A new message of theirs arrives hidden too; the block is kept by the server.
    await send(tokens.pest, 'Hello???');
    await expect.poll(() => hidden.count()).toBeGreaterThanOrEqual(3);
    expect((await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', '/v1/me/blocks', { token: tokens.guest })).body.items).toEqual([
      expect.objectContaining({ user_id: 'cm-pest' }),
    ]);

    // "Show" reveals one message; Unblock from it shows them all again.
    await hidden.last().locator('button', { hasText: 'Show' }).click();
    await messageItem(guest, 'Hello???').waitFor();
    await messageAction(guest, 'Hello???', 'Unblock');
    await guest.locator('[data-testid="flash"]', { hasText: 'Pete Pest is unblocked' }).waitFor();
    await messageItem(guest, 'Are you there?').waitFor();
    expect(await hidden.count()).toBe(0);
  });

  it('turns a room read-only with a banner when its host object closes, on a phone too', async () => {
    const context = await api(rest(), 'PUT', '/v1/contexts/trip/CM-1/room', {
      token: tokens.host,
      body: { title: 'Trip to Porto', member_ids: ['cm-guest'] },
    });
    const tripRoom = context.body.id as string;
    const guest = await world.open(tokens.guest, { viewport: PHONE });
    await openRoom(guest, tripRoom);
    expect(await guest.locator('[data-testid="closed-banner"]').isVisible()).toBe(false);

    expect((await api(rest(), 'POST', '/v1/contexts/trip/CM-1/close', { token: tokens.host })).status).toBe(200);
    const banner = guest.locator('[data-testid="closed-banner"]');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.textContent()).toContain('closed');
    expect(await guest.locator('#composer').isVisible()).toBe(false);
    expect(await axeViolations(guest)).toEqual([]);

    expect((await api(rest(), 'POST', '/v1/contexts/trip/CM-1/reopen', { token: tokens.host })).status).toBe(200);
    await banner.waitFor({ state: 'hidden' });
    await guest.locator('#composer').waitFor({ state: 'visible' });
  });
});
