/**
 * A load-generator process (forked by the bench at lower priority). It holds its share of the
 * sockets, sends at a fixed rate, and reports latencies and delivery accounting over IPC.
 */
import { type BenchClient, openClient, type Protocol } from './protocol.js';
import { maxOf, now, Samples } from './stats.js';

interface ClientSpec {
  user: string;
  token?: string;
  rooms: string[];
}

/** What a `send` command answers: the sends made, acknowledged and failed (by error), and the rate_limited answers waited out. */
export interface SendOutcome {
  sent: number;
  acked: number;
  failed: number;
  failures: Record<string, number>;
  refusalsWaitedOut: number;
}

type Command =
  | { id: number; cmd: 'connect'; protocol: Protocol; urls: string[]; clients: ClientSpec[]; addresses: string[]; concurrency: number }
  | { id: number; cmd: 'send'; senders: Array<{ client: number; room: string }>; perSenderRate: number; durationMs: number; tag: string }
  | { id: number; cmd: 'collect'; seqs?: boolean }
  | { id: number; cmd: 'resume-on-close'; jitterMs: number }
  | { id: number; cmd: 'close' };

interface Tracked {
  client: BenchClient | undefined;
  spec: ClientSpec;
  url: string;
  address: string;
  /** Per room: the seqs seen (chat), for duplicate and gap accounting. */
  seqs: Map<string, Set<number>>;
  /** Per room: where the client stands (a subscribe ack's last_seq, or a later event's seq). */
  positions: Map<string, number>;
  duplicates: number;
}

const clients: Tracked[] = [];
const e2e = new Samples();
const acks = new Samples();
let received = 0;
let protocol: Protocol = 'chat';
let resume: { jitterMs: number; resumedAt: number[]; failed: number } | undefined;

function reply(id: number, body: Record<string, unknown>): void {
  process.send?.({ id, ...body });
}

function track(entry: Tracked, client: BenchClient): void {
  entry.client = client;
  client.onMessage = (message) => {
    received++;
    const ts = Number(message.body.slice(3));
    if (message.body.startsWith('ts:') && Number.isFinite(ts)) e2e.add(now() - ts);
    if (message.seq !== undefined) {
      const seen = entry.seqs.get(message.room) ?? new Set<number>();
      if (seen.has(message.seq)) entry.duplicates++;
      seen.add(message.seq);
      entry.seqs.set(message.room, seen);
      advance(entry, message.room, message.seq);
    }
  };
  client.onPosition = (room, seq) => advance(entry, room, seq);
  client.onClose = (code) => {
    entry.client = undefined;
    if (resume && code !== 1000) void reconnect(entry);
  };
}

function advance(entry: Tracked, room: string, seq: number): void {
  if (seq > (entry.positions.get(room) ?? -1)) entry.positions.set(room, seq);
}

/** Reconnect with jitter and resume every room from where the client stands (the storm scenario). */
async function reconnect(entry: Tracked): Promise<void> {
  const settings = resume;
  if (!settings) return;
  for (let attempt = 0; attempt < 60; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * settings.jitterMs + attempt * 200));
    try {
      const client = await openClient(protocol, entry.url, entry.spec.token, entry.address);
      track(entry, client);
      // As a real client does: from the subscribe ack's last_seq even when no event came since.
      await client.subscribe(entry.spec.rooms, entry.positions);
      settings.resumedAt.push(Date.now());
      return;
    } catch {
      // the gateway is not back yet
    }
  }
  settings.failed++;
}

async function connect(command: Extract<Command, { cmd: 'connect' }>): Promise<void> {
  protocol = command.protocol;
  const started = now();
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < command.clients.length) {
      const index = next++;
      const spec = command.clients[index] as ClientSpec;
      const entry: Tracked = {
        client: undefined,
        spec,
        url: command.urls[index % command.urls.length] as string,
        address: command.addresses[index % command.addresses.length] as string,
        seqs: new Map(),
        positions: new Map(),
        duplicates: 0,
      };
      clients.push(entry);
      try {
        const client = await openClient(protocol, entry.url, spec.token, entry.address);
        track(entry, client);
        await client.subscribe(spec.rooms);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  reply(command.id, { connected: command.clients.length - failures, failures, ms: now() - started });
}

async function send(command: Extract<Command, { cmd: 'send' }>): Promise<void> {
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const interval = 1000 / command.perSenderRate;
  const deadline = now() + command.durationMs;
  const inFlight: Array<Promise<void>> = [];
  const sendingClients = [...new Set(command.senders.map((sender) => clients[sender.client]?.client))];
  const refusalsSoFar = () => sendingClients.reduce((sum, client) => sum + (client?.refusalsWaitedOut ?? 0), 0);
  const refusalsBefore = refusalsSoFar();
  await Promise.all(
    command.senders.map(async (sender, s) => {
      // Spread senders over the first interval so the offered load is smooth, not in waves.
      let due = now() + (interval * s) / Math.max(1, command.senders.length);
      while (due < deadline) {
        const wait = due - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        due += interval;
        const client = clients[sender.client]?.client;
        if (!client) continue;
        const started = now();
        sent++;
        inFlight.push(
          client.send(sender.room, `ts:${started}`, `${command.tag}-${sender.client}-${sent}`).then(
            () => {
              acked++;
              acks.add(now() - started);
            },
            (error: unknown) => {
              failed++;
              const reason = error instanceof Error ? error.message : String(error);
              failures[reason] = (failures[reason] ?? 0) + 1;
            },
          ),
        );
      }
    }),
  );
  await Promise.all(inFlight);
  const outcome: SendOutcome = { sent, acked, failed, failures, refusalsWaitedOut: refusalsSoFar() - refusalsBefore };
  reply(command.id, { ...outcome });
}

process.on('message', (raw) => {
  const command = raw as Command;
  switch (command.cmd) {
    case 'connect':
      void connect(command);
      return;
    case 'send':
      void send(command);
      return;
    case 'collect': {
      // Every seq of every client is a large message: only when asked (the storm's final count),
      // not on the polls a scenario makes while it waits, which would load the generators for
      // the chat target alone (the baselines carry no seqs).
      const seqs: Record<string, Record<string, number[]>> = {};
      for (const entry of command.seqs ? clients : []) {
        if (entry.seqs.size === 0) continue;
        seqs[entry.spec.user] = Object.fromEntries([...entry.seqs].map(([room, seen]) => [room, [...seen]]));
      }
      reply(command.id, {
        received,
        e2e: e2e.take(),
        acks: acks.take(),
        duplicates: clients.reduce((n, c) => n + c.duplicates, 0),
        seqs,
        resumed: resume?.resumedAt.length ?? 0,
        resumeFailed: resume?.failed ?? 0,
        lastResumeAt: resume?.resumedAt.length ? maxOf(resume.resumedAt) : 0,
        open: clients.filter((c) => c.client).length,
      });
      received = 0;
      return;
    }
    case 'resume-on-close':
      resume = { jitterMs: command.jitterMs, resumedAt: [], failed: 0 };
      reply(command.id, {});
      return;
    case 'close':
      for (const entry of clients) entry.client?.close();
      reply(command.id, {});
      setTimeout(() => process.exit(0), 200);
      return;
  }
});
process.send?.({ ready: true });
// A generator never outlives the bench that forked it.
process.on('disconnect', () => process.exit(0));
