import type { Logger } from 'pino';
import { ConfigError } from '../config/index.js';

/**
 * Exit code of a process that cannot start with its configuration (EX_CONFIG of sysexits.h).
 * Restarting it cannot help: `pnpm start`'s supervisor stops the stack on it instead of retrying.
 */
export const EXIT_CONFIG = 78;

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal, or a stop that outlives
 * `timeoutMs`, exits at once with a non-zero code so an orchestrator is never left waiting.
 */
export function onShutdownSignal(logger: Logger, timeoutMs: number, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown timed out: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop(signal).then(
      () => {
        logger.info('stopped');
        logger.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * Reports a fatal start-up error plainly (a config error names the bad variables) and exits: with
 * EXIT_CONFIG for a configuration error, 1 for anything else (a server that may come back).
 */
export function exitOnStartupError(error: unknown): never {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? EXIT_CONFIG : 1);
}

/** Waits after readiness went false, so load balancers stop routing before anything closes. */
export function readinessGrace(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Runs the steps of a shutdown one after another, logging how long each took, so an operator can
 * see what a slow stop (or one that hit its timeout) was waiting for.
 */
export function shutdownSteps(logger: Logger): (step: string, run: () => Promise<unknown> | undefined) => Promise<void> {
  return async (step, run) => {
    const started = performance.now();
    await run();
    logger.info({ step, ms: Math.round(performance.now() - started) }, 'shutdown step done');
  };
}
