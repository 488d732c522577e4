import { randomUUID } from 'node:crypto';
import type { JetStreamManager, NatsConnection, StreamConfig } from 'nats';
import type { Logger } from 'pino';
import type { HostEventData, RoomActivity, RoomActivityType } from '../contracts/host-events.js';
import { injectTraceContext } from '../telemetry/context.js';
import { toNatsHeaders } from './client.js';
import { ensureStream, weekLongStream } from './streams.js';
import { streams, subjects } from './subjects.js';

/**
 * The room activity stream: host-facing events that are not in a room's seq log (membership,
 * room changes, reports). Its only reader today is the event webhook's durable consumer; a week
 * of it is kept, like the room event stream, so a notifier that was down catches up.
 */
export function roomActivityStreamConfig(namespace: string, replicas = 1): Partial<StreamConfig> & { name: string } {
  return weekLongStream(streams.roomActivity(namespace), subjects.allRoomActivity(namespace), replicas);
}

export function ensureRoomActivityStream(jsm: JetStreamManager, namespace: string, replicas = 1): Promise<void> {
  return ensureStream(jsm, roomActivityStreamConfig(namespace, replicas));
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records room activity in JetStream after the change was committed, in call order (so one
 * room's events keep their order), with the event id as JetStream's de-duplication id (a retry
 * after a lost ack is stored once). A publish that fails is retried with back-off until it
 * succeeds; `drain()` (graceful stop) waits for what is queued. A process killed outright loses
 * its queue, so each writer keeps its events in its own schema until `onRecorded` (the rooms
 * activity outbox, the report rows) and records them again from there.
 */
export class RoomActivityPublisher {
  private readonly queue: Array<{ event: RoomActivity; onRecorded?: () => void }> = [];
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly logger: Logger,
    private readonly options: { maxQueued?: number; retryMaxMs?: number; replicas?: number } = {},
  ) {}

  /**
   * `id` makes the event's identity stable for a writer that may record it again after a crash
   * (JetStream and webhook receivers de-duplicate by it); `onRecorded` runs once JetStream has it.
   * Answers false when the queue is full and the event was not taken (the writer's own record of
   * it must then be kept for a later attempt).
   */
  publish<T extends RoomActivityType>(
    roomId: string,
    type: T,
    data: HostEventData<T>,
    options: { id?: string; occurredAt?: string; onRecorded?: () => void } = {},
  ): boolean {
    if (this.queue.length >= (this.options.maxQueued ?? 100_000)) {
      this.logger.error({ room_id: roomId, type }, 'room activity queue full (JetStream unreachable for long); event not queued');
      return false;
    }
    const event = {
      id: options.id ?? `evt_${randomUUID()}`,
      type,
      room_id: roomId,
      occurred_at: options.occurredAt ?? new Date().toISOString(),
      data,
    } as RoomActivity;
    this.queue.push({ event, onRecorded: options.onRecorded });
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
    });
    return true;
  }

  /** Waits until everything queued is in JetStream, or `timeoutMs` has passed. */
  async drain(timeoutMs = 10_000): Promise<void> {
    if (!this.pumping) return;
    await Promise.race([this.pumping, sleep(timeoutMs)]);
    if (this.queue.length) this.logger.error({ pending: this.queue.length }, 'room activity not recorded before stop');
  }

  private async pump(): Promise<void> {
    const js = this.nc.jetstream();
    let failures = 0;
    while (this.queue.length > 0) {
      const { event, onRecorded } = this.queue[0] as { event: RoomActivity; onRecorded?: () => void };
      try {
        await js.publish(subjects.roomActivity(this.namespace, event.room_id, event.type), encoder.encode(JSON.stringify(event)), {
          msgID: event.id,
          headers: toNatsHeaders(injectTraceContext({})),
        });
        this.queue.shift();
        failures = 0;
        onRecorded?.();
      } catch (error) {
        failures++;
        const delay = Math.min(100 * 2 ** Math.min(failures, 8), this.options.retryMaxMs ?? 5000);
        this.logger.warn({ err: error, pending: this.queue.length, retry_in_ms: delay }, 'recording room activity failed; retrying');
        await sleep(delay);
        // A NATS server that lost its store comes back without the stream: make it again.
        await this.nc
          .jetstreamManager()
          .then((jsm) => ensureRoomActivityStream(jsm, this.namespace, this.options.replicas))
          .catch(() => undefined);
      }
    }
  }
}
