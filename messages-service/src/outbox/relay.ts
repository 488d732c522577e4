import { planOptions } from '@chat/shared/db';
import type { Logger } from '@chat/shared/logging';
import { WakeSignal } from '@chat/shared/ops';
import type { JetStreamClient } from 'nats';
import pg from 'pg';
import {
  clearOutbox,
  listenForOutbox,
  nextDueInMs,
  readDueOutbox,
  relaxCommitDurability,
  tryTakeRelayLock,
} from '../db/outbox-repository.js';
import { publishEvent } from './publisher.js';

export interface OutboxRelayOptions {
  databaseUrl: string;
  namespace: string;
  batchSize: number;
  /** Longest sleep between reads when nothing wakes the relay (a lost notification). */
  pollMs: number;
  logger: Logger;
  onPublished?: (count: number, oldestAgeMs: number) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The safety net behind publish-after-commit (CommitPublisher): publishes the outbox rows that are
 * its own (`relay_after` passed: their writer died or failed to publish, or the write left
 * publishing to the relay and notified it) to JetStream, in id order, with `<room>:<seq>` as the
 * de-duplication id, and clears them. Every replica runs one; the one holding the advisory lock
 * works, the others wait to take over. A crash between publish and clear only causes a
 * re-publish, which JetStream drops as a duplicate and gateways ignore by seq.
 */
export class OutboxRelay {
  private stopping = false;
  /** Rung by commits (local, or NOTIFY from other replicas): pending = look again before idling. */
  private readonly commits = new WakeSignal();
  private loop: Promise<void> | undefined;
  private client: pg.Client | undefined;
  private leader = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Called after a local commit: saves the leader a round trip through LISTEN/NOTIFY. */
  nudge(): void {
    this.commits.ring();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.commits.ring();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.leadWhileLockHeld();
      } catch (error) {
        if (!this.stopping) this.options.logger.error({ err: error }, 'outbox relay failed; retrying');
      } finally {
        this.leader = false;
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
      }
      if (!this.stopping) await this.commits.wait(1000);
    }
  }

  private async leadWhileLockHeld(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'messages-outbox-relay',
      // Its read is prepared by name; plan it for the outbox as it is now (see openPool).
      options: planOptions('per-execution'),
    });
    this.client = client;
    client.on('error', (error) => this.options.logger.warn({ err: error }, 'outbox relay connection error'));
    await client.connect();
    while (!this.stopping) {
      if (await tryTakeRelayLock(client)) break;
      await this.commits.wait(2000);
    }
    if (this.stopping) return;
    this.leader = true;
    this.options.logger.info('outbox relay is the leader');
    client.on('notification', () => this.nudge());
    await listenForOutbox(client);
    await relaxCommitDurability(client);
    let toClear: string[] = [];
    while (!this.stopping) {
      // A nudge during a batch must not wait: commits made meanwhile go out next.
      this.commits.clear();
      const published = await this.publishBatch(client, toClear);
      toClear = published;
      if (published.length < this.options.batchSize && !this.commits.pending) {
        // Cleared before waiting: a subscribe takes a listed event as not yet published.
        await clearOutbox(client, toClear);
        toClear = [];
        // Rows their writers publish become the relay's only after the grace period: sleep until
        // the first of them would, or until a commit that leaves publishing to the relay.
        const dueIn = await nextDueInMs(client);
        await this.commits.wait(Math.min(this.options.pollMs, dueIn ?? this.options.pollMs));
      }
    }
    // Hand over what is due before stopping, so a rolling restart adds no delivery delay.
    await clearOutbox(client, await this.publishBatch(client, toClear));
  }

  /**
   * Clears `toClear` (published, acknowledged by JetStream) from the outbox and reads the next
   * due batch in one statement, then publishes it. Returns the ids JetStream acknowledged, to be
   * cleared by the next call.
   */
  private async publishBatch(client: pg.Client, toClear: string[]): Promise<string[]> {
    const rows = await readDueOutbox(client, toClear, this.options.batchSize);
    if (rows.length === 0) return [];
    // Publishes are written to the connection in call order, so each room's events reach NATS in seq order.
    const results = await Promise.allSettled(rows.map((row) => publishEvent(this.js, this.options.namespace, row)));
    // Clear only the unbroken prefix that JetStream acknowledged; the rest is retried in order.
    const firstFailure = results.findIndex((r) => r.status === 'rejected');
    const done = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
    if (done.length > 0) this.options.onPublished?.(done.length, rows[0]?.age_ms ?? 0);
    if (firstFailure !== -1) {
      const failure = results[firstFailure] as PromiseRejectedResult;
      this.options.logger.warn({ err: failure.reason, pending: rows.length - done.length }, 'JetStream publish failed; will retry');
      await sleep(500);
    }
    return done.map((r) => r.id);
  }
}
