import type { Logger } from 'pino';

/**
 * Runs `task` now and then every `everyMs`, one run at a time (a slow run is not overlapped), for
 * background chores such as outbox sweeps. A failed run is logged and tried again next time.
 * `stop()` clears the timer and waits for a run in progress.
 */
export function runEvery(
  everyMs: number,
  task: () => Promise<void>,
  options: { logger: Pick<Logger, 'warn'>; what: string },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= task()
      .catch((error: unknown) => options.logger.warn({ err: error }, `${options.what} failed; trying again later`))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
