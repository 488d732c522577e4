import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Helpers shared by the chatbox's browser tests and the screenshot command. */

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Opens the chatbox in a new context and signs in with a token by the form, as a person would. */
export async function signIn(
  browser: Browser,
  url: string,
  token: string,
  options: { viewport?: { width: number; height: number }; init?: () => void; contexts?: BrowserContext[] } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, deviceScaleFactor: 1 });
  options.contexts?.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('dialog', (dialog) => void dialog.accept());
  // A script error in the page explains most browser-test failures: print it.
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[page console] ${message.text()}`);
  });
  if (options.init) await page.addInitScript(options.init);
  await page.goto(url);
  await page.fill('#token', token);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('.room-list');
  return page;
}

export async function openRoom(page: Page, roomId: string): Promise<void> {
  await page.click(`button.room[data-room-id="${roomId}"]`);
  await page.waitForSelector('#composer');
}

/** A message by its own text (not a reply quoting it). */
export const messageItem = (page: Page, text: string) =>
  page.locator('li.message', { has: page.locator('.body', { hasText: text }) }).last();

export async function say(page: Page, text: string): Promise<void> {
  await page.fill('#composer', text);
  await page.press('#composer', 'Enter');
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (from node_modules) on the page as it is and returns the serious and critical
 * violations. The source is evaluated through the DevTools protocol rather than added as a
 * <script>: the page's Content-Security-Policy (script-src 'self') rightly refuses inline
 * scripts, and the test should not have to switch it off.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    interface AxeResult {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }>;
    }
    const axe = (globalThis as unknown as { axe: { run: (context: Document, options: unknown) => Promise<AxeResult> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
}
