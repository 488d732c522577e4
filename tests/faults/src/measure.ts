import type { Message } from '@chat/shared';
import type { ChatClient, Frame } from '@chat/shared/sdk';
import type { World } from './world.js';

export interface Outcome {
  /** Messages acknowledged to their sender. */
  sent: number;
  /** Acknowledged, but not in the room's history at the end. */
  lost: number;
  /** One send stored more than once. */
  duplicated: number;
  /** Seqs missing from a room's history, plus stored messages an online member never received. */
  gaps: number;
  /** Still unacknowledged when the run settled (the outbox gave up or is still retrying). */
  unacknowledged: number;
  /** (device, message) pairs due to the offline members' webhook devices. */
  pushesDue: number;
  /**
   * Due pairs not pushed within 20 s (PUSH_WINDOW_MS) of their message being stored, or of the
   * fault's end when that came later.
   */
  pushesMissing: number;
  /** Pairs pushed in more than one delivery (distinct delivery ids). */
  pushesDoubled: number;
  /** Of the missing pairs: those that did arrive, later, within the extra wait (late, not lost). */
  pushesLate: number;
  /** The slowest push: ms from its message being stored (or the fault's end, when later) to its delivery. */
  slowestPushMs: number;
}

/** How long a push may take after its message is stored, or after the fault is over when that is later. */
export const PUSH_WINDOW_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test() && Date.now() < deadline) await sleep(100);
}

type StoredMessage = Pick<Message, 'id' | 'seq' | 'body' | 'created_at'>;

async function fullHistory(client: ChatClient, roomId: string): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.history(roomId, before, 100);
    const items: StoredMessage[] = page.items;
    all.push(...items);
    if (!page.next_cursor || items.length === 0) break;
    before = Math.min(...items.map((m) => m.seq));
  }
  return all;
}

export async function measure(
  world: World,
  options: {
    rate: number;
    loadMs: number;
    faultAtMs: number;
    /** How long to wait on for pushes missing at the deadline, to count them as late. */
    lateWaitMs: number;
    inject: (world: World) => Promise<void>;
    log: (line: string) => void;
  },
): Promise<Outcome> {
  const received = new Map<string, Set<number>>();
  let resyncs = 0;
  for (const [i, receiver] of world.receivers.entries()) {
    const roomId = world.rooms[i]?.id as string;
    received.set(roomId, new Set());
    receiver.on('event', (frame: Frame) => {
      if (frame.type === 'message.created' && frame.room_id === roomId) received.get(roomId)?.add(Number(frame.seq));
    });
    // Too many events missed: a client reloads the history, as docs/clients.md says.
    receiver.on('resync', (room) => {
      if (room !== roomId) return;
      resyncs++;
      void fullHistory(receiver, roomId).then((items) => {
        for (const m of items) received.get(roomId)?.add(m.seq);
      });
    });
  }

  // Steady load: every sender sends at the same pace, through its outbox (retries keep the same client_msg_id).
  const senders = world.rooms.flatMap((room) => room.senders.map((sender) => ({ sender, roomId: room.id })));
  const intervalMs = (senders.length / options.rate) * 1000;
  let n = 0;
  const timers = senders.map(({ sender, roomId }, i) =>
    setInterval(() => {
      n++;
      sender.send(roomId, { body: `fault load ${i} ${n}` });
    }, intervalMs),
  );
  const started = Date.now();
  await sleep(options.faultAtMs);
  options.log(`fault after ${n} sends`);
  await options.inject(world);
  const faultOver = Date.now();
  options.log(`fault over after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await sleep(Math.max(0, options.loadMs - (Date.now() - started)));
  for (const timer of timers) clearInterval(timer);
  const loadEnd = Date.now();
  // Timers slip on a busy machine: say what rate was actually offered.
  options.log(
    `offered ${n} sends in ${((loadEnd - started) / 1000).toFixed(1)} s (${Math.round(n / ((loadEnd - started) / 1000))} msgs/s)`,
  );

  const entries = () => senders.flatMap(({ sender }) => sender.outbox());
  await until(() => entries().every((e) => e.state !== 'pending'), 30_000);
  const acked = entries().filter((e) => e.state === 'sent' && e.message);
  const unacknowledged = entries().length - acked.length;

  let lost = 0;
  let duplicated = 0;
  let gaps = 0;
  const stored = new Map<string, StoredMessage[]>();
  for (const room of world.rooms) {
    const history = await fullHistory(room.senders[0] as ChatClient, room.id);
    stored.set(room.id, history);
    const ids = new Set(history.map((m) => m.id));
    lost += acked.filter((e) => e.room_id === room.id && !ids.has(e.message?.id as string)).length;
    const bodies = new Map<string, number>();
    for (const m of history) bodies.set(m.body, (bodies.get(m.body) ?? 0) + 1);
    duplicated += [...bodies.values()].filter((c) => c > 1).reduce((sum, c) => sum + c - 1, 0);
    const seqs = new Set(history.map((m) => m.seq));
    const top = Math.max(0, ...seqs);
    for (let s = 1; s <= top; s++) if (!seqs.has(s)) gaps++;
  }
  // An online member gets every stored message (live or by resuming with since_seq).
  const missingAtReceivers = () =>
    world.rooms.reduce((sum, room) => {
      const got = received.get(room.id) ?? new Set<number>();
      return sum + (stored.get(room.id) ?? []).filter((m) => !got.has(m.seq)).length;
    }, 0);
  await until(() => missingAtReceivers() === 0, 20_000);
  gaps += missingAtReceivers();
  if (resyncs > 0) options.log(`${resyncs} resync(s): history reloaded`);

  // Pushes: every stored message is due to the offline member's device of its room, counted per
  // (device, message) by distinct webhook-id (a retry with the same id is not a second push). Each
  // is on time within PUSH_WINDOW_MS of its message being stored, or of the fault's end when that is
  // later: measured from the server's created_at, so the time this runner spent waiting on acks,
  // histories and receivers above neither shortens nor lengthens any push's window.
  const due = world.rooms.flatMap((room) =>
    (stored.get(room.id) ?? []).map((m) => ({
      device: room.device,
      messageId: m.id,
      windowEnd: Math.max(Date.parse(m.created_at), faultOver) + PUSH_WINDOW_MS,
    })),
  );
  const lastWindowEnd = Math.max(0, ...due.map((p) => p.windowEnd));
  await world.webhook
    .until(() => world.webhook.tally(due).missing.length === 0, Math.max(1, lastWindowEnd - Date.now()))
    .catch(() => undefined); // not all arrived in time: counted as missing below
  const onTime = (p: (typeof due)[number]) => (world.webhook.firstDeliveredAt(p) ?? Number.POSITIVE_INFINITY) <= p.windowEnd;
  const missing = due.filter((p) => !onTime(p));
  // Late or lost? Wait on for the ones not delivered at all, so a slow path is told from a lost one.
  if (missing.length > 0 && options.lateWaitMs > 0) {
    await world.webhook.until(() => world.webhook.tally(missing).missing.length === 0, options.lateWaitMs).catch(() => undefined);
  }
  const late = missing.length - world.webhook.tally(missing).missing.length;
  const { doubled } = world.webhook.tally(due);
  const delays = due
    .flatMap((p) => {
      const at = world.webhook.firstDeliveredAt(p);
      const from = p.windowEnd - PUSH_WINDOW_MS;
      return at === undefined ? [] : [{ ms: at - from, from }];
    })
    .sort((a, b) => a.ms - b.ms);
  const slowest = delays.at(-1);
  const slowestPushMs = slowest?.ms ?? 0;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  options.log(
    `push delay (from the message stored, or the fault over): p50 ${seconds(delays[Math.floor(delays.length / 2)]?.ms ?? 0)}, ` +
      `p99 ${seconds(delays[Math.floor(delays.length * 0.99)]?.ms ?? 0)}, slowest ${seconds(slowestPushMs)}` +
      (slowest ? ` (timed from ${seconds(slowest.from - started)} into the run)` : '') +
      `; ${world.webhook.requests} webhook requests for ${due.length} pushes due`,
  );

  return {
    sent: acked.length,
    lost,
    duplicated,
    gaps,
    unacknowledged,
    pushesDue: due.length,
    pushesMissing: missing.length,
    pushesDoubled: doubled.length,
    pushesLate: late,
    slowestPushMs,
  };
}
