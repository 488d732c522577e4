import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { type Frame, TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const REPLAY_MAX = 150;
const stack = new TestStack({ gateways: 2, env: { REPLAY_MAX_EVENTS: String(REPLAY_MAX) } });
const rest = (i: number) => stack.gateway(i % 2).httpUrl;
const senders = ['v-ann', 'v-ben', 'v-cat'].map((id) => ({ id, token: mintToken(id, { name: id }) }));
const reader = mintToken('v-reader');

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function room(): Promise<string> {
  const created = await api(rest(0), 'POST', '/v1/rooms', {
    token: senders[0]?.token,
    body: { kind: 'group', title: 'Burst', member_ids: [...senders.map((s) => s.id), 'v-reader'] },
  });
  return created.body.id as string;
}

/** Each sender posts, edits and reacts, through both gateways, concurrently with the others. */
async function burst(roomId: string, perSender: number, tag: string): Promise<void> {
  await Promise.all(
    senders.map(async (sender, s) => {
      for (let i = 0; i < perSender; i++) {
        const sent = await api(rest(i + s), 'POST', `/v1/rooms/${roomId}/messages`, {
          token: sender.token,
          body: { client_msg_id: `${tag}-${sender.id}-${i}`, body: `${sender.id} #${i}` },
        });
        const id = sent.body.id as string;
        if (i % 3 === 0)
          await api(rest(i + s + 1), 'PATCH', `/v1/rooms/${roomId}/messages/${id}`, {
            token: sender.token,
            body: { body: `${sender.id} #${i} (edited)` },
          });
        if (i % 4 === 0)
          await api(rest(i), 'PUT', `/v1/rooms/${roomId}/messages/${id}/reactions/${encodeURIComponent('👍')}`, {
            token: senders[(s + 1) % 3]?.token,
          });
        if (i % 7 === 6) await api(rest(i), 'DELETE', `/v1/rooms/${roomId}/messages/${id}`, { token: sender.token });
      }
    }),
  );
}

/** A client's view of the room: every message as its latest event left it, plus the seqs it applied. */
class RoomReplica {
  readonly messages = new Map<string, unknown>();
  readonly seqs: number[] = [];
  apply(frame: Frame): void {
    if (typeof frame.seq !== 'number' || !frame.message) return;
    this.seqs.push(frame.seq);
    const message = frame.message as { id: string };
    this.messages.set(message.id, message);
  }
  get lastSeq(): number {
    return this.seqs.at(-1) ?? 0;
  }
}

type EventMessage = { reactions: object[]; acknowledgements: object };

/**
 * The REST view of a message as an event carried it: events leave out the viewer's `me` flags and
 * thread summaries (DESIGN 10.2, 10.5), REST answers carry them; nothing in this room is
 * reacted to, acknowledged or threaded by the reader.
 */
function asSeenByReader(m: EventMessage): object {
  return {
    ...m,
    reactions: m.reactions.map((r) => ({ ...r, me: false })),
    acknowledgements: { ...m.acknowledgements, me: false },
    thread: null,
  };
}

function assertGapless(seqs: number[], from: number, to: number): void {
  expect(seqs).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

/** Sends one last message after a burst; its seq is the room's final seq (every write before it has committed). */
async function marker(roomId: string): Promise<number> {
  const sent = await api<{ seq: number }>(rest(0), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: senders[0]?.token,
    body: { client_msg_id: `marker-${roomId}`, body: 'end' },
  });
  return sent.body.seq;
}

describe('recovery with since_seq', () => {
  it('a client dropped mid-burst resumes on the other gateway and ends with exactly the state of one that stayed', async () => {
    const roomId = await room();
    const stayer = await TestSocket.connect(stack.gateway(1).wsUrl, reader);
    await stayer.ack({ type: 'subscribe', room_id: roomId });
    let flaky = await TestSocket.connect(stack.gateway(0).wsUrl, reader);
    await flaky.ack({ type: 'subscribe', room_id: roomId });
    const flakyReplica = new RoomReplica();
    const collect = (socket: TestSocket, from: number) => {
      for (const frame of socket.frames.slice(from)) if (frame.room_id === roomId && frame.type !== 'ack') flakyReplica.apply(frame);
    };

    const work = burst(roomId, 18, 'a');
    // Drop the client once it has seen part of the burst, while the rest keeps coming.
    await flaky.next((f) => f.type === 'message.created' && (f.seq as number) >= 10);
    await flaky.close();
    collect(flaky, 0);
    const resumeFrom = flakyReplica.lastSeq;
    flaky = await TestSocket.connect(stack.gateway(1).wsUrl, reader);
    const ack = await flaky.ack({ type: 'subscribe', room_id: roomId, since_seq: resumeFrom });
    expect(ack.last_seq).toBeGreaterThanOrEqual(resumeFrom);
    await work;

    const end = await marker(roomId);
    await stayer.next((f) => f.type === 'message.created' && f.seq === end);
    await flaky.next((f) => f.type === 'message.created' && f.seq === end);
    collect(flaky, 0);

    const stayerReplica = new RoomReplica();
    for (const frame of stayer.frames) if (frame.room_id === roomId && frame.type !== 'ack') stayerReplica.apply(frame);
    assertGapless(stayerReplica.seqs, 1, end);
    assertGapless(flakyReplica.seqs, 1, end); // exactly once, in order, across the drop
    expect(flakyReplica.messages).toEqual(stayerReplica.messages);
    // And both equal the server's history.
    const history = await api<{ items: Array<{ id: string }> }>(rest(1), 'GET', `/v1/rooms/${roomId}/messages?limit=100`, {
      token: reader,
    });
    expect(new Map(history.body.items.map((m) => [m.id, m]))).toEqual(
      new Map([...stayerReplica.messages].map(([id, m]) => [id, asSeenByReader(m as EventMessage)])),
    );
    await Promise.all([stayer.close(), flaky.close()]);
  });

  it('replays exactly once and in order when the replay races live events, on both gateways', async () => {
    const roomId = await room();
    await burst(roomId, 4, 'pre');
    const work = burst(roomId, 12, 'live');
    // Subscribe from seq 0 on each gateway while events keep being written and fanned out.
    const sockets = await Promise.all([0, 1].map((g) => TestSocket.connect(stack.gateway(g).wsUrl, reader)));
    await Promise.all(sockets.map((socket) => socket.ack({ type: 'subscribe', room_id: roomId, since_seq: 0 })));
    await work;
    const end = await marker(roomId);
    for (const socket of sockets) {
      await socket.next((f) => f.type === 'message.created' && f.seq === end);
      assertGapless(
        socket.events(roomId).map((f) => f.seq as number),
        1,
        end,
      );
    }
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('sends resync when more events were missed than the replay limit, and an error for a seq from the future', async () => {
    const roomId = await room();
    await Promise.all(
      Array.from({ length: REPLAY_MAX + 5 }, (_, i) =>
        api(rest(i), 'POST', `/v1/rooms/${roomId}/messages`, {
          token: senders[i % 3]?.token,
          body: { client_msg_id: `many-${i}`, body: `m${i}` },
        }),
      ),
    );
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, reader);
    const ack = await socket.ack({ type: 'subscribe', room_id: roomId, since_seq: 0 });
    expect(ack.last_seq).toBe(REPLAY_MAX + 5);
    expect(await socket.next((f) => f.type === 'resync')).toEqual({ type: 'resync', room_id: roomId });
    expect(socket.events(roomId)).toEqual([]);
    // Within the limit, it replays.
    const near = await TestSocket.connect(stack.gateway(1).wsUrl, reader);
    await near.ack({ type: 'subscribe', room_id: roomId, since_seq: 10 });
    await near.next((f) => f.seq === REPLAY_MAX + 5);
    assertGapless(
      near.events(roomId).map((f) => f.seq as number),
      11,
      REPLAY_MAX + 5,
    );
    await Promise.all([socket.close(), near.close()]);
  });
  it('answers subscribes that arrive together each on its own: two large replays, a seq from the future, a room not shared', async () => {
    // Two rooms whose replays together are larger than one batched answer carries (256 K characters).
    const [big, bigger, other, quiet] = await Promise.all([room(), room(), room(), room()]);
    const body = 'y'.repeat(3000);
    for (const roomId of [big, bigger]) {
      for (let i = 0; i < 70; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, k) =>
            api(rest(0), 'POST', `/v1/rooms/${roomId}/messages`, {
              token: senders[k % 3]?.token,
              body: { client_msg_id: `large-${roomId}-${i + k}`, body },
            }),
          ),
        );
      }
    }
    const stranger = await api(rest(0), 'POST', '/v1/rooms', {
      token: senders[1]?.token,
      body: { kind: 'group', title: 'Not for the reader', member_ids: [senders[2]?.id] },
    });
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, reader);
    // Sent without waiting, so the gateway reads them in one turn and asks the messages service together.
    const [first, second, future, hidden, plain] = await Promise.all([
      socket.request({ type: 'subscribe', room_id: big, since_seq: 0 }),
      socket.request({ type: 'subscribe', room_id: bigger, since_seq: 0 }),
      socket.request({ type: 'subscribe', room_id: other, since_seq: 99 }),
      socket.request({ type: 'subscribe', room_id: stranger.body.id }),
      socket.request({ type: 'subscribe', room_id: quiet }),
    ]);
    expect([first?.type, second?.type, plain?.type]).toEqual(['ack', 'ack', 'ack']);
    expect(future).toMatchObject({ type: 'error', code: 'invalid' });
    expect(hidden).toMatchObject({ type: 'error', code: 'not_found' });
    for (const roomId of [big, bigger]) {
      await socket.next((f) => f.room_id === roomId && f.seq === 70);
      assertGapless(
        socket.events(roomId).map((f) => f.seq as number),
        1,
        70,
      );
    }
    await socket.close();
  });
});
