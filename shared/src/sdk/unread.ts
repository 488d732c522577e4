import type { UnreadSummary } from '../contracts/room.js';

/**
 * Absolute unread counts, fetched rather than counted locally (the server's numbers are the truth
 * across devices); bursts of triggers within a delay become one fetch.
 */
export class UnreadRefresher {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly load: () => Promise<UnreadSummary>,
    private readonly announce: (summary: UnreadSummary) => void,
  ) {}

  async refresh(): Promise<UnreadSummary> {
    const summary = await this.load();
    this.announce(summary);
    return summary;
  }

  /** Refreshes after `delayMs`, replacing any refresh already scheduled. */
  schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => undefined);
    }, delayMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
