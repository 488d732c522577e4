import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { freePort, signIn } from './chatbox.js';
import { api } from './http.js';
import { type Gateway, TestStack } from './test-stack.js';

/**
 * What every chatbox browser test stands on: a stack with one gateway on free ports, Debian's
 * Chromium, and the browser contexts the test opened (closed at the end, before the stack stops).
 */
export class ChatboxWorld {
  readonly stack = new TestStack({ gateways: 0 });
  readonly contexts: BrowserContext[] = [];
  private gatewayHandle: Gateway | undefined;
  private browserHandle: Browser | undefined;

  get gateway(): Gateway {
    if (!this.gatewayHandle) throw new Error('ChatboxWorld: start() first');
    return this.gatewayHandle;
  }

  get browser(): Browser {
    if (!this.browserHandle) throw new Error('ChatboxWorld: start() first');
    return this.browserHandle;
  }

  /** The gateway's REST (and chatbox) address. */
  get url(): string {
    return this.gateway.httpUrl;
  }

  /** Starts it all; each token's user is known to the rooms service afterwards (one REST call). */
  async start(options: { gatewayEnv?: Record<string, string>; tokens?: readonly string[] } = {}): Promise<this> {
    await this.stack.start();
    const ports = { GATEWAY_HTTP_PORT: String(await freePort()), GATEWAY_WS_PORT: String(await freePort()) };
    this.gatewayHandle = await this.stack.startGateway({ ...ports, ...options.gatewayEnv });
    for (const token of options.tokens ?? []) await api(this.url, 'GET', '/v1/rooms', { token });
    this.browserHandle = await launchChromium();
    return this;
  }

  /** Signs in with `token` in a new browser context. */
  open(token: string, options: Omit<NonNullable<Parameters<typeof signIn>[3]>, 'contexts'> = {}): Promise<Page> {
    return signIn(this.browser, this.url, token, { ...options, contexts: this.contexts });
  }

  async stop(): Promise<void> {
    for (const context of this.contexts) await context.close();
    await this.browserHandle?.close();
    await this.stack.stop();
  }
}
