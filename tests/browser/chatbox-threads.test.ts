import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, openRoom, PHONE } from '../support/chatbox.js';
import { ChatboxWorld } from '../support/chatbox-world.js';
import { api } from '../support/http.js';
import { mintToken } from '../support/test-stack.js';

/**
 * Threads in the chatbox (DESIGN 10.5): "Reply in thread" opens a panel beside the conversation
 * (a screen of its own on a phone); replies stay out of the conversation, the root's summary
 * counts them live on every screen, and a reply found by search opens in its thread.
 */
const world = new ChatboxWorld();
const tokens = {
  ana: mintToken('th-ana', { name: 'Ana Front Desk' }),
  ben: mintToken('th-ben', { name: 'Ben Maintenance' }),
};
let roomId: string;

const post = async (token: string, body: Record<string, unknown>) =>
  (await api(world.url, 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: crypto.randomUUID(), ...body } })).body as {
    id: string;
    seq: number;
  };

const panel = (page: Page) => page.locator('aside.thread-panel');
/** A message in the conversation (the thread panel shows its root too). */
const inConversation = (page: Page, text: string) =>
  page.locator('section.conversation li.message', { has: page.locator('.body', { hasText: text }) });

async function replyInThread(page: Page, rootText: string): Promise<void> {
  const item = inConversation(page, rootText);
  await item.locator('article').click();
  await item.locator('.actions button', { hasText: 'Thread' }).click();
  await panel(page).locator('#thread-composer').waitFor();
}

beforeAll(async () => {
  await world.start({ tokens: Object.values(tokens) });
  roomId = (
    await api(world.url, 'POST', '/v1/rooms', {
      token: tokens.ana,
      body: { kind: 'group', title: 'Room 12 repairs', member_ids: ['th-ben'] },
    })
  ).body.id as string;
}, 120_000);

afterAll(() => world.stop());

describe('threads in the chatbox', { timeout: 120_000 }, () => {
  it('replies in a thread beside the conversation; the root counts replies live on the other screen', async () => {
    const shower = await post(tokens.ben, { body: 'The shower in room 12 leaks' });
    const ana = await world.open(tokens.ana);
    const ben = await world.open(tokens.ben);
    await openRoom(ana, roomId);
    await openRoom(ben, roomId);

    await replyInThread(ana, 'The shower in room 12 leaks');
    // The panel sits beside the conversation on a desktop: both are shown.
    expect(await ana.locator('section.conversation').isVisible()).toBe(true);
    await panel(ana).locator('li.message', { hasText: 'The shower in room 12 leaks' }).waitFor();
    await panel(ana).locator('#thread-composer').fill('Plumber booked for 3 pm');
    await panel(ana).locator('#thread-composer').press('Enter');
    await panel(ana).locator('li.message:not(.pending) .body', { hasText: 'Plumber booked for 3 pm' }).waitFor();

    // The reply is in the thread, not in the conversation; the root says so, on both screens.
    const summaryOnBen = inConversation(ben, 'The shower in room 12 leaks').locator('[data-testid="thread-summary"]');
    await summaryOnBen.filter({ hasText: '1 reply' }).waitFor();
    expect(await ben.locator('section.conversation li.message', { hasText: 'Plumber booked' }).count()).toBe(0);
    await inConversation(ana, 'The shower in room 12 leaks').locator('[data-testid="thread-summary"]', { hasText: '1 reply' }).waitFor();

    // Ben opens the thread from the summary and answers; Ana's open panel shows it live.
    await summaryOnBen.click();
    await panel(ben).locator('.body', { hasText: 'Plumber booked for 3 pm' }).waitFor();
    expect(await axeViolations(ben)).toEqual([]);
    await panel(ben).locator('#thread-composer').fill('Thanks, I will let them in');
    await panel(ben).locator('#thread-composer').press('Enter');
    await panel(ana).locator('li.message:not(.pending) .body', { hasText: 'Thanks, I will let them in' }).waitFor();
    await inConversation(ana, 'The shower in room 12 leaks').locator('[data-testid="thread-summary"]', { hasText: '2 replies' }).waitFor();
    // An event about the root itself (a reaction) carries no summary: the count stays.
    await api(world.url, 'PUT', `/v1/rooms/${roomId}/messages/${shower.id}/reactions/${encodeURIComponent('👍')}`, { token: tokens.ben });
    await inConversation(ana, 'The shower in room 12 leaks').locator('.chip', { hasText: '👍 1' }).waitFor();
    expect(await inConversation(ana, 'The shower in room 12 leaks').locator('[data-testid="thread-summary"]').textContent()).toContain(
      '2 replies',
    );

    // What the server stored: two replies under the root, none in the top level.
    const root = (
      await api<{ items: Array<{ id: string; body: string; thread: { reply_count: number } | null }> }>(
        world.url,
        'GET',
        `/v1/rooms/${roomId}/messages?top_level=true`,
        { token: tokens.ana },
      )
    ).body.items;
    expect(root.map((m) => m.body)).toEqual(['The shower in room 12 leaks']);
    expect(root[0]?.thread?.reply_count).toBe(2);

    // Escape closes the panel and gives focus back to the root's summary.
    await panel(ana).locator('#thread-composer').press('Escape');
    await panel(ana).waitFor({ state: 'hidden' });
    expect(await ana.evaluate(() => document.activeElement?.classList.contains('thread-summary'))).toBe(true);
  });

  it('on a phone the thread is a screen of its own, with a way back', async () => {
    const root = await post(tokens.ana, { body: 'Pool towels are out' });
    await post(tokens.ben, { body: 'Bringing more from the laundry', thread_root_id: root.id });
    const ben = await world.open(tokens.ben, { viewport: PHONE });
    await openRoom(ben, roomId);
    await inConversation(ben, 'Pool towels are out').locator('[data-testid="thread-summary"]', { hasText: '1 reply' }).click();
    await panel(ben).locator('.body', { hasText: 'Bringing more from the laundry' }).waitFor();
    expect(await ben.locator('section.conversation').isVisible()).toBe(false);
    // Nothing of the panel is cut off at 360 px.
    const overflow = await panel(ben).evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await axeViolations(ben)).toEqual([]);
    await panel(ben).locator('button[aria-label="Close thread"]').click();
    await panel(ben).waitFor({ state: 'hidden' });
    expect(await ben.locator('section.conversation').isVisible()).toBe(true);
  });

  it('a reply found by search opens in its thread, highlighted', async () => {
    const root = await post(tokens.ben, { body: 'Minibar in 7 is empty' });
    await post(tokens.ana, { body: 'Refilled with sparkling water', thread_root_id: root.id });
    const ana = await world.open(tokens.ana);
    await ana.fill('#search', 'sparkling');
    await ana.locator('button.result', { hasText: 'Refilled with sparkling water' }).click();
    const found = panel(ana).locator('li.message.target', { hasText: 'Refilled with sparkling water' });
    await found.waitFor();
    await panel(ana).locator('li.message', { hasText: 'Minibar in 7 is empty' }).waitFor();
  });
});
