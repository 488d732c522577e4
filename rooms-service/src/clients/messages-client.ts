import type { RpcClient } from '@chat/shared/nats';
import { messagesRpc } from '@chat/shared/rpc';
import type { SequenceSource } from '../domain/ports.js';

/** Asks the messages service, which assigns seqs, for a room's last seq over NATS. */
export function messagesClient(rpc: RpcClient): SequenceSource {
  return {
    lastSeq: async (roomId) => (await rpc.call(messagesRpc.roomState, { room_id: roomId })).last_seq,
  };
}
