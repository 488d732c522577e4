import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DESKTOP, messageItem, openRoom, PHONE } from '../support/chatbox.js';
import { ChatboxWorld } from '../support/chatbox-world.js';
import { pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { mintToken } from '../support/test-stack.js';

/**
 * `pnpm screenshots`: refreshes docs/screenshots/*.png from a real stack and a staged
 * conversation. Not part of `pnpm test` (vitest.config.ts adds this project only when
 * CHAT_SCREENSHOTS=1), so a test run never rewrites the committed images. Times are the real
 * clock of the run, in the machine's time zone.
 */
const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const world = new ChatboxWorld();
const alice = mintToken('s-alice', { name: 'Alice Martin' });
const bob = mintToken('s-bob', { name: 'Bob Keller' });
const carol = mintToken('s-carol', { name: 'Carol Diaz' });
let frontDesk: string;
let direct: string;

async function send(token: string, roomId: string, body: string, extra: Record<string, unknown> = {}) {
  const response = await api(world.url, 'POST', `/v1/rooms/${roomId}/messages`, {
    token,
    body: { body, client_msg_id: crypto.randomUUID(), ...extra },
  });
  return response.body as { id: string; seq: number };
}

beforeAll(async () => {
  await world.start({ tokens: [alice, bob, carol] });
  frontDesk = (
    await api(world.url, 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'Front desk', member_ids: ['s-bob', 's-carol'] },
    })
  ).body.id as string;
  direct = (await api(world.url, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 's-bob' } })).body.id as string;
  await api(world.url, 'POST', '/v1/rooms', { token: carol, body: { kind: 'direct', user_id: 's-alice' } });

  const arrival = await send(bob, frontDesk, 'The Keller family in **room 12** arrives at 3pm; they asked for a late checkout.');
  await send(alice, frontDesk, 'Approved until 1pm. Policy: https://intranet.example.com/policies/late-checkout', {
    reply_to: arrival.id,
  });
  await send(carol, frontDesk, 'Housekeeping will do *12* first. Door code is `4471`.');
  const upload = await fetch(`${world.url}/v1/rooms/${frontDesk}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${carol}` },
    body: (() => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(pngImage(320, 200))], { type: 'image/png' }), 'room-12.png');
      return form;
    })(),
  });
  const attachment = (await upload.json()) as { id: string };
  await send(carol, frontDesk, 'Room 12 is ready', { attachment_ids: [attachment.id] });
  const last = await send(alice, frontDesk, 'Thanks both! Checklist:\n```\n- keys at the desk\n- welcome card\n```');
  await api(world.url, 'POST', `/v1/rooms/${frontDesk}/read`, { token: bob, body: { seq: last.seq } });
  await api(world.url, 'PUT', `/v1/rooms/${frontDesk}/messages/${arrival.id}/reactions/${encodeURIComponent('👍')}`, {
    token: carol,
  });
  await send(carol, frontDesk, 'Extra towels for the kids?', { thread_root_id: arrival.id });
  await send(bob, frontDesk, 'Yes please, two sets. They also asked for a cot.', { thread_root_id: arrival.id });
  await send(bob, direct, 'Can you cover the desk at 6?');
  await send(bob, direct, 'Only for an hour.');
}, 120_000);

afterAll(() => world.stop());

async function settle(page: Page): Promise<void> {
  const image = page.locator('img[alt="room-12.png"]');
  await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(320);
  await page.evaluate(() => document.fonts.ready);
}

it('saves desktop and phone screenshots', async () => {
  const desktop = await world.open(alice, { viewport: DESKTOP });
  await openRoom(desktop, frontDesk);
  await messageItem(desktop, 'Checklist').waitFor();
  await desktop.locator('[data-testid="seen-by"]').waitFor();
  await settle(desktop);
  await desktop.screenshot({ path: join(out, 'desktop.png') });

  await desktop.fill('#search', 'checkout');
  await desktop.locator('button.result').nth(1).waitFor();
  await desktop.locator('button.result').last().click();
  await desktop.locator('li.message.target').waitFor();
  await desktop.screenshot({ path: join(out, 'desktop-search.png') });

  await desktop.locator('button.close-search, button[aria-label="Clear search"]').first().click();
  await desktop.locator('section.conversation [data-testid="thread-summary"]').first().click();
  await desktop.locator('aside.thread-panel li.message', { hasText: 'a cot' }).waitFor();
  await desktop.screenshot({ path: join(out, 'desktop-thread.png') });

  const phone = await world.open(alice, { viewport: PHONE });
  await phone.locator(`button.room[data-room-id="${direct}"] .badge`).waitFor();
  await phone.screenshot({ path: join(out, 'phone-rooms.png') });
  await openRoom(phone, frontDesk);
  await messageItem(phone, 'Checklist').waitFor();
  await phone.locator('[data-testid="seen-by"]').waitFor();
  await settle(phone);
  await phone.screenshot({ path: join(out, 'phone-conversation.png') });
  await phone.locator('section.conversation [data-testid="thread-summary"]').first().click();
  await phone.locator('aside.thread-panel li.message', { hasText: 'a cot' }).waitFor();
  await phone.screenshot({ path: join(out, 'phone-thread.png') });
  await phone.click('button[aria-label="Close thread"]');
  await phone.click('button[aria-label="Members and settings"]');
  await phone.locator('dialog.group-dialog li.member').nth(2).waitFor();
  await phone.screenshot({ path: join(out, 'phone-members.png') });
}, 120_000);
