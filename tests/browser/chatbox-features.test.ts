import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { axeViolations, DESKTOP, freePort, messageItem, openRoom, PHONE, say, signIn } from '../support/chatbox.js';
import { pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

/**
 * The chatbox's features beyond the basics (chatbox.test.ts): phone layout and sign-out, real
 * times, search, group management, "new messages" divider, markdown and links, title badge and
 * notifications, drag-and-drop and paste uploads with progress, the live region, the keyboard
 * path, and axe-core on the main screens at desktop and phone sizes.
 */
const stack = new TestStack({ gateways: 0 });
const tokens = {
  alice: mintToken('f-alice', { name: 'Alice Martin' }),
  bob: mintToken('f-bob', { name: 'Bob Keller' }),
  carol: mintToken('f-carol', { name: 'Carol Diaz' }),
  dave: mintToken('f-dave', { name: 'Dave Osei' }),
};
let gateway: Gateway;
let browser: Browser;
const contexts: BrowserContext[] = [];
let directRoom: string;
let groupRoom: string;

const send = async (token: string, roomId: string, body: string) =>
  (await api(gateway.httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { body, client_msg_id: crypto.randomUUID() } }))
    .body as { id: string; seq: number };
const open = (token: string, options: Parameters<typeof signIn>[3] = {}) =>
  signIn(browser, gateway.httpUrl, token, { ...options, contexts });

/** Records browser notifications and lets the test hide the tab (headless pages are always visible). */
function fakeTabAndNotifications(): void {
  const state = globalThis as unknown as { __hidden: boolean; __notes: Array<{ title: string; body: string }> };
  state.__hidden = false;
  state.__notes = [];
  Object.defineProperty(document, 'visibilityState', { get: () => (state.__hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { get: () => state.__hidden });
  class FakeNotification extends EventTarget {
    static permission = 'granted';
    static requestPermission = async () => 'granted';
    constructor(title: string, options: { body?: string } = {}) {
      super();
      state.__notes.push({ title, body: options.body ?? '' });
    }
    close(): void {}
  }
  Object.defineProperty(globalThis, 'Notification', { value: FakeNotification, configurable: true });
}
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((value) => {
    (globalThis as unknown as { __hidden: boolean }).__hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);

beforeAll(async () => {
  await stack.start();
  const ports = { GATEWAY_HTTP_PORT: String(await freePort()), GATEWAY_WS_PORT: String(await freePort()) };
  gateway = await stack.startGateway({ ...ports, ATTACHMENT_MAX_BYTES: '2000000' });
  for (const token of Object.values(tokens)) await api(gateway.httpUrl, 'GET', '/v1/rooms', { token });
  directRoom = (await api(gateway.httpUrl, 'POST', '/v1/rooms', { token: tokens.alice, body: { kind: 'direct', user_id: 'f-bob' } })).body
    .id as string;
  groupRoom = (
    await api(gateway.httpUrl, 'POST', '/v1/rooms', {
      token: tokens.alice,
      body: { kind: 'group', title: 'Ops team', member_ids: ['f-bob', 'f-carol'] },
    })
  ).body.id as string;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack.stop();
});

describe('chatbox on a phone', () => {
  it('keeps the last "Seen by" line above the composer, shows real times, and signs out', async () => {
    await send(tokens.bob, directRoom, 'The late checkout for room 12 is approved');
    for (let i = 1; i <= 60; i++) await send(tokens.bob, directRoom, `Shift note ${i}`);
    const last = await send(tokens.alice, directRoom, 'Thanks, see you at the desk');
    await api(gateway.httpUrl, 'POST', `/v1/rooms/${directRoom}/read`, { token: tokens.bob, body: { seq: last.seq } });

    const phone = await open(tokens.alice, { viewport: PHONE });
    await openRoom(phone, directRoom);
    const seen = phone.locator('[data-testid="seen-by"]', { hasText: 'Seen by Bob Keller' });
    await seen.waitFor();
    // Wait for the list to settle at the end, then compare boxes: the line is inside the visible
    // part of the list, above the composer.
    await expect
      .poll(async () => {
        const [line, list, composer] = await Promise.all([
          seen.boundingBox(),
          phone.locator('ol.messages').boundingBox(),
          phone.locator('form.composer').boundingBox(),
        ]);
        const fits = line && list && composer && line.y + line.height <= list.y + list.height && line.y + line.height <= composer.y;
        if (!fits) console.log('seen-by box', line, 'list', list, 'composer', composer);
        return fits;
      })
      .toBe(true);

    // Times are the messages' own, in the reader's locale and zone.
    const time = messageItem(phone, 'Thanks, see you at the desk').locator('time');
    const shown = await time.evaluate((element) => ({
      text: element.textContent,
      expected: new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(
        new Date(element.getAttribute('datetime') ?? ''),
      ),
      age: Date.now() - Date.parse(element.getAttribute('datetime') ?? ''),
    }));
    expect(shown.text).toBe(shown.expected);
    expect(shown.age).toBeLessThan(10 * 60_000);

    await phone.click('button[aria-label="Back to conversations"]');
    await phone.click('button[aria-label="Sign out"]');
    await phone.waitForSelector('#token');
    expect(await phone.evaluate(() => sessionStorage.getItem('chat.token'))).toBeNull();
  });
});

describe('chatbox features', () => {
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    [a, b] = await Promise.all([open(tokens.alice, { init: fakeTabAndNotifications }), open(tokens.bob)]);
  }, 60_000);

  it('finds messages, highlights the words and jumps to an old message', async () => {
    await a.fill('#search', 'checkout');
    const result = a.locator('button.result', { hasText: 'late checkout for room 12' });
    await result.waitFor();
    expect(await result.locator('mark.hit').first().textContent()).toBe('checkout');
    await a.waitForSelector('#search-status:has-text("1 message matches")');
    await result.click();
    // More than one page back: the chatbox loads older pages until the message is there.
    const target = a.locator('li.message.target', { hasText: 'late checkout for room 12' });
    await target.waitFor();
    await expect
      .poll(() =>
        target.evaluate((li) => {
          const list = li.closest('ol') as HTMLElement;
          const box = li.getBoundingClientRect();
          const view = list.getBoundingClientRect();
          return box.top >= view.top && box.bottom <= view.bottom;
        }),
      )
      .toBe(true);
    expect(await target.locator('mark.hit').textContent()).toBe('checkout');
    await a.press('#search', 'Escape');
    await a.locator('.room-list').waitFor({ state: 'visible' });
  });

  it('manages a group by role: add, roles, rename, remove, leave', async () => {
    await openRoom(a, groupRoom);
    await a.click('button[aria-label="Members and settings"]');
    const dialog = a.locator('dialog.group-dialog');
    await dialog.locator('li.member[data-user-id="f-carol"]').waitFor();
    await dialog.locator('#add-members').fill('f-dave');
    await dialog.locator('button:has-text("Add")').click();
    await dialog.locator('li.member[data-user-id="f-dave"]').waitFor();
    await dialog.locator('select[aria-label="Role of Bob Keller"]').selectOption('admin');
    await a.waitForSelector('dialog.group-dialog [role="status"]:has-text("Bob Keller is now admin")');
    await dialog.locator('#group-name').fill('Ops and front desk');
    await dialog.locator('button:has-text("Rename")').click();
    await a.locator('#room-title:has-text("Ops and front desk")').waitFor();

    // Bob, now an admin, removes a plain member but changes no roles.
    await b.locator(`button.room[data-room-id="${groupRoom}"]:has-text("Ops and front desk")`).waitFor({ timeout: 30_000 });
    await openRoom(b, groupRoom);
    await b.click('button[aria-label="Members and settings"]');
    const bobDialog = b.locator('dialog.group-dialog');
    await bobDialog.locator('li.member[data-user-id="f-carol"] button:has-text("Remove")').click();
    await bobDialog.locator('li.member[data-user-id="f-carol"]').waitFor({ state: 'detached' });
    expect(await bobDialog.locator('select').count()).toBe(0);
    expect(await bobDialog.locator('li.member[data-user-id="f-alice"] button:has-text("Remove")').count()).toBe(0);
    await dialog.locator('li.member[data-user-id="f-carol"]').waitFor({ state: 'detached' });

    await bobDialog.locator('button:has-text("Leave group")').click();
    await b.locator(`button.room[data-room-id="${groupRoom}"]`).waitFor({ state: 'detached' });
    await dialog.locator('li.member[data-user-id="f-bob"]').waitFor({ state: 'detached' });
    await a.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('shows a "New messages" divider, markdown and links, never HTML', async () => {
    await openRoom(b, directRoom);
    await openRoom(a, groupRoom);
    await say(b, 'First unread, with **bold**, *italic*, `code` and https://example.com/rooms?floor=2.');
    await say(b, '```\nconst keys = ["12", "14"];\n<b>not bold</b>\n```');
    await say(b, 'javascript:alert(1) is not a link');
    await a.locator(`button.room[data-room-id="${directRoom}"] .badge:text-is("3")`).waitFor();
    await openRoom(a, directRoom);
    const divider = a.locator('li.new-divider');
    await divider.waitFor();
    const next = divider.locator('xpath=following-sibling::li[contains(@class,"message")][1]');
    expect(await next.locator('.body').textContent()).toContain('First unread');

    const rich = messageItem(a, 'First unread');
    expect(await rich.locator('strong').textContent()).toBe('bold');
    expect(await rich.locator('em').textContent()).toBe('italic');
    expect(await rich.locator('code').textContent()).toBe('code');
    const link = rich.locator('a');
    expect(await link.getAttribute('href')).toBe('https://example.com/rooms?floor=2');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    const block = a.locator('li.message pre.code-block code', { hasText: 'const keys' });
    expect(await block.textContent()).toBe('const keys = ["12", "14"];\n<b>not bold</b>');
    expect(await a.locator('li.message .body b').count()).toBe(0);
    expect(await messageItem(a, 'is not a link').locator('a').count()).toBe(0);
  });

  it('announces new messages in a live region, badges the title and notifies while the tab is hidden', async () => {
    await say(b, 'Are the keys ready?');
    await a.locator('#announcer p', { hasText: 'Bob Keller: Are the keys ready?' }).waitFor();
    expect(await a.locator('#announcer').getAttribute('aria-live')).toBe('polite');

    await setHidden(a, true);
    await say(b, 'Guest is at the desk now');
    await expect.poll(() => a.title()).toBe('(1) Chat');
    await expect
      .poll(() => a.evaluate(() => (globalThis as unknown as { __notes: Array<{ title: string; body: string }> }).__notes))
      .toContainEqual({ title: 'Bob Keller', body: 'Guest is at the desk now' });
    await setHidden(a, false);
    await expect.poll(() => a.title()).toBe('Chat');
  });

  it('uploads dropped and pasted files with progress', async () => {
    const image = [...pngImage(900, 700)];
    // A drop on the conversation, as from the file manager.
    await a.locator('section.conversation').evaluate((target, bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'lobby.png', { type: 'image/png' }));
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, image);
    const dropped = a.locator('.file-preview[data-state="uploaded"]', { has: a.locator('img[alt="Preview of lobby.png"]') });
    await dropped.waitFor();
    expect(await dropped.getAttribute('data-progress')).toBe('100');
    expect(await dropped.locator('progress').getAttribute('aria-label')).toBe('lobby.png uploaded');
    await say(a, 'The lobby this morning');
    await messageItem(b, 'The lobby this morning').locator('img[alt="lobby.png"]').waitFor();

    // A paste into the composer, as a screenshot from the clipboard.
    await a.locator('#composer').evaluate((target, bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }));
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }, image);
    await a.locator('.file-preview[data-state="uploaded"]', { has: a.locator('img[alt="Preview of screenshot.png"]') }).waitFor();
    await say(a, 'Pasted');
    await messageItem(b, 'Pasted').locator('img[alt="screenshot.png"]').waitFor();
  });

  /** Bob says `text`; Ann goes from her empty composer to that message (ArrowUp) and to its first action, Reply (Tab). */
  async function bobSaysAndAnnReachesReply(text: string, seen: string): Promise<void> {
    await say(b, text);
    await messageItem(a, text).waitFor();
    await a.focus('#composer');
    await a.keyboard.press('ArrowUp');
    await expect.poll(() => a.evaluate(() => document.activeElement?.closest('li.message')?.textContent ?? '')).toContain(seen);
    await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.textContent)).toBe('Reply');
  }

  it('keeps focus on the same action when a reaction drawn meanwhile shifts the controls', async () => {
    await bobSaysAndAnnReachesReply('Shift check', 'Shift check');
    // Bob reacts: Ann's copy is re-drawn with a reaction chip before Reply.
    const messageId = await messageItem(a, 'Shift check').getAttribute('data-message-id');
    const reacted = await api(
      gateway.httpUrl,
      'PUT',
      `/v1/rooms/${directRoom}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`,
      {
        token: tokens.bob,
      },
    );
    expect(reacted.status).toBe(200);
    await messageItem(a, 'Shift check').locator('.chip:has-text("👍 1")').waitFor();
    expect(await a.evaluate(() => document.activeElement?.textContent)).toBe('Reply');
    await a.keyboard.press('Escape');
  });

  it('offers a keyboard path through the actions', async () => {
    await bobSaysAndAnnReachesReply('Can you check room 14?', 'room 14');
    await a.keyboard.press('Enter');
    await a.locator('.reply-bar:has-text("Replying to Bob Keller")').waitFor();
    expect(await a.evaluate(() => document.activeElement?.id)).toBe('composer');
    await a.keyboard.type('On my way');
    await a.keyboard.press('Enter');
    const reply = messageItem(b, 'On my way');
    await reply.locator('blockquote:has-text("room 14")').waitFor();

    // React and edit my own message, by keyboard only.
    await messageItem(a, 'On my way').waitFor();
    await a.focus('#composer');
    await a.keyboard.press('ArrowUp');
    await a.keyboard.press('Tab');
    await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.textContent)).toBe('React');
    // Opening the picker moves focus into it.
    await a.keyboard.press('Enter');
    expect(await a.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('React 👍');
    await a.keyboard.press('Enter');
    await messageItem(b, 'On my way').locator('.chip:has-text("👍 1")').waitFor();
    await a.focus('#composer');
    await a.keyboard.press('ArrowUp');
    // The reaction chip, Reply, React, Thread, then Edit.
    for (let i = 0; i < 4; i++) await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.textContent)).toBe('Thread');
    await a.keyboard.press('Tab');
    expect(await a.evaluate(() => document.activeElement?.textContent)).toBe('Edit');
    await a.keyboard.press('Enter');
    await a.waitForSelector('textarea[aria-label="Edit message"]:focus');
    await a.keyboard.press('End');
    await a.keyboard.type(' (5 minutes)');
    await a.keyboard.press('Enter');
    await messageItem(b, 'On my way (5 minutes)').waitFor();

    // Ctrl+K searches; arrows and Enter open a result.
    await a.keyboard.press('Control+k');
    expect(await a.evaluate(() => document.activeElement?.id)).toBe('search');
    await a.keyboard.type('lobby');
    await a.locator('button.result', { hasText: 'lobby' }).waitFor();
    await a.keyboard.press('ArrowDown');
    await a.keyboard.press('Enter');
    await a.locator('li.message.target', { hasText: 'The lobby this morning' }).waitFor();
    await a.press('#search', 'Escape');

    // The attach control is a real button in the tab order.
    await a.focus('#composer');
    await a.keyboard.press('Shift+Tab');
    expect(await a.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Attach a file');
  });
});

describe('chatbox accessibility (axe-core)', () => {
  for (const [name, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`has no serious or critical violation on the main screens (${name})`, async () => {
      const page = await open(tokens.alice, { viewport });
      const found: Record<string, unknown> = {};
      found.rooms = await axeViolations(page);
      await openRoom(page, directRoom);
      await messageItem(page, 'On my way').waitFor();
      found.conversation = await axeViolations(page);
      const back = () => (viewport === PHONE ? page.click('button[aria-label="Back to conversations"]') : Promise.resolve());
      await back();
      await page.fill('#search', 'room');
      await page.locator('button.result').first().waitFor();
      found.search = await axeViolations(page);
      await page.locator('button.result').first().click();
      await page.waitForSelector('li.message.target');
      await back();
      await page.click('button[aria-label="Clear search"]');
      await openRoom(page, groupRoom);
      await page.click('button[aria-label="Members and settings"]');
      await page.locator('dialog.group-dialog li.member').first().waitFor();
      found['members dialog'] = await axeViolations(page);
      expect(found).toEqual({ rooms: [], conversation: [], search: [], 'members dialog': [] });
    });
  }
});

describe('chatbox while a room loads', () => {
  it('keeps what was typed, and the focus, while the opened room is still loading its history', async () => {
    await send(tokens.alice, directRoom, 'Shift change at 6');
    const page = await open(tokens.bob);
    // The room's history answers only once the reader has typed (a slow network, made certain).
    let release: () => void = () => undefined;
    const typed = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`**/v1/rooms/${directRoom}/messages?**`, async (route) => {
      await typed;
      await route.continue();
    });
    await page.click(`button.room[data-room-id="${directRoom}"]`);
    await page.locator('#composer').click();
    await page.keyboard.type('Typed before the history came');
    release();
    await messageItem(page, 'Shift change at 6').waitFor();
    expect(await page.inputValue('#composer')).toBe('Typed before the history came');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer');
    await page.unroute(`**/v1/rooms/${directRoom}/messages?**`);
  });
});
