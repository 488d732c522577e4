import { createServer } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 0 });
const alice = mintToken('w-alice', { name: 'Alice Martin' });
const bob = mintToken('w-bob', { name: 'Bob Keller' });
let gateway: Gateway;
let ports: Record<string, string>;
let browser: Browser;
const contexts: BrowserContext[] = [];
let a: Page;
let b: Page;
let directRoom: string;
let groupRoom: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function signIn(token: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  contexts.push(context);
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(gateway.httpUrl);
  await page.fill('#token', token);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('.room-list');
  return page;
}

const openRoom = async (page: Page, roomId: string) => {
  await page.click(`button.room[data-room-id="${roomId}"]`);
  await page.waitForSelector('#composer');
};
/** The natural width of an image once it has loaded (0 before). */
const loadedWidth = (image: Locator) =>
  image.evaluate((img) => {
    const element = img as unknown as { complete: boolean; naturalWidth: number };
    return element.complete ? element.naturalWidth : 0;
  });

/** A message by its own text (not a reply quoting it). */
const message = (page: Page, text: string) => page.locator('li.message', { has: page.locator('.body', { hasText: text }) }).last();
async function say(page: Page, text: string): Promise<void> {
  await page.fill('#composer', text);
  await page.press('#composer', 'Enter');
}

beforeAll(async () => {
  await stack.start();
  ports = { GATEWAY_HTTP_PORT: String(await freePort()), GATEWAY_WS_PORT: String(await freePort()) };
  gateway = await stack.startGateway({ ...ports, ATTACHMENT_MAX_BYTES: '300000', TYPING_THROTTLE_MS: '500' });
  // Names are remembered when users present them; the rooms exist before anyone opens the page.
  await api(gateway.httpUrl, 'GET', '/v1/rooms', { token: bob });
  directRoom = (await api(gateway.httpUrl, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'w-bob' } })).body
    .id as string;
  groupRoom = (
    await api(gateway.httpUrl, 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'Front desk', member_ids: ['w-bob', 'w-carol'] },
    })
  ).body.id as string;
  browser = await launchChromium();
  [a, b] = await Promise.all([signIn(alice), signIn(bob)]);
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack.stop();
});

describe('web chatbox, two users', () => {
  it('shows typing, then sends and receives live', async () => {
    await openRoom(a, directRoom);
    await openRoom(b, directRoom);
    await a.fill('#composer', 'Hello Bob, the guest in 12 arrives at 3pm');
    await b.waitForSelector('#typing:has-text("Alice Martin is typing")');
    await a.press('#composer', 'Enter');
    await message(b, 'the guest in 12 arrives').waitFor();
    expect(await message(b, 'the guest in 12 arrives').locator('.sender').textContent()).toBe('Alice Martin');
    await b.waitForSelector('#typing:text-is("")');
  });

  it('replies with a quote, reacts, edits and deletes', async () => {
    await message(b, 'the guest in 12 arrives').hover();
    await message(b, 'the guest in 12 arrives').locator('button:has-text("Reply")').click();
    await say(b, 'Got it, I will prepare the keys');
    const reply = message(a, 'prepare the keys');
    await reply.waitFor();
    expect(await reply.locator('blockquote').textContent()).toContain('the guest in 12 arrives');

    await reply.hover();
    await reply.locator('button:has-text("React")').click();
    await reply.locator('button[aria-label="React 👍"]').click();
    await message(b, 'prepare the keys').locator('.chip:has-text("👍 1")').waitFor();

    await message(a, 'the guest in 12 arrives').hover();
    await message(a, 'the guest in 12 arrives').locator('button:has-text("Edit")').click();
    await a.fill('textarea[aria-label="Edit message"]', 'Hello Bob, the guest in 12 arrives at 4pm');
    await a.press('textarea[aria-label="Edit message"]', 'Enter');
    await message(b, 'arrives at 4pm').locator('.meta:has-text("edited")').waitFor();

    await say(a, 'Oops, wrong room');
    await message(b, 'Oops, wrong room').waitFor();
    await message(a, 'Oops, wrong room').hover();
    await message(a, 'Oops, wrong room').locator('button:has-text("Delete")').click();
    await b.locator('li.message .body.deleted', { hasText: 'Message deleted' }).waitFor();
    expect(await b.locator('li.message', { hasText: 'Oops, wrong room' }).count()).toBe(0);
  });

  it('uploads an image that the other side sees, and refuses an oversize file before uploading', async () => {
    await a.setInputFiles('#attach', { name: 'room-12.png', mimeType: 'image/png', buffer: pngImage(120, 80) });
    await a.waitForSelector('.file-preview img');
    await a.fill('#composer', 'Room 12 is ready');
    await a.click('button.send');
    const image = b.locator('li.message', { hasText: 'Room 12 is ready' }).locator('img[alt="room-12.png"]');
    await image.waitFor();
    await expect.poll(() => loadedWidth(image)).toBe(120);
    await a.setInputFiles('#attach', { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(400_000) });
    await a.waitForSelector('.composer .form-error:has-text("at most")');
    expect(await a.locator('.file-preview').count()).toBe(0);
  });

  it('renders <script> and markup as text', async () => {
    await say(a, '<script>window.pwned = 1</script><b>bold?</b> <img src=x onerror="window.pwned=2">');
    const body = message(b, 'window.pwned = 1').locator('.body');
    await body.waitFor();
    expect(await body.textContent()).toBe('<script>window.pwned = 1</script><b>bold?</b> <img src=x onerror="window.pwned=2">');
    expect(await body.locator('b, script, img').count()).toBe(0);
    expect(await b.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  it('shows an unread badge that clears when the room is opened, and "seen by" for the sender', async () => {
    await openRoom(b, groupRoom);
    await say(a, 'Are you there?');
    const badge = b.locator(`button.room[data-room-id="${directRoom}"] .badge`);
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');
    await openRoom(b, directRoom);
    await badge.waitFor({ state: 'detached' });
    await a.locator('[data-testid="seen-by"]', { hasText: 'Seen by Bob Keller' }).waitFor();
  });

  it('keeps a message written while the server restarts and delivers it afterwards', async () => {
    await gateway.process.stop('SIGTERM');
    await a.waitForSelector('.connection:has-text("Reconnecting")');
    await say(a, 'Sent while the server restarts');
    await a.locator('li.pending', { hasText: 'Sent while the server restarts' }).locator('.meta:has-text("Sending")').waitFor();
    gateway = await stack.startGateway({ ...ports, ATTACHMENT_MAX_BYTES: '300000', TYPING_THROTTLE_MS: '500' });
    await message(b, 'Sent while the server restarts').waitFor({ timeout: 20_000 });
    await a.locator('li.pending').waitFor({ state: 'detached', timeout: 20_000 });
    expect(await b.locator('li.message', { hasText: 'Sent while the server restarts' }).count()).toBe(1);
  });

  // Screenshots are made by `pnpm screenshots` (tests/screenshots), not by the test run.
  it('shows the list and the conversation as two screens on a phone', async () => {
    const phone = await signIn(alice, { width: 360, height: 740 });
    await openRoom(phone, directRoom);
    await message(phone, 'Sent while the server restarts').waitFor();
    const image = phone.locator('img[alt="room-12.png"]');
    await expect.poll(() => loadedWidth(image)).toBe(120);
    expect(await phone.locator('.sidebar').isVisible()).toBe(false);
    await phone.click('button[aria-label="Back to conversations"]');
    expect(await phone.locator('.sidebar').isVisible()).toBe(true);
  });
});
