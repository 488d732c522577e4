import type { Logger } from '@chat/shared/logging';
import type { ResponseOf } from '@chat/shared/nats';
import type { PresenceRegistry } from '@chat/shared/presence';
import type { messagesRpc, roomsRpc } from '@chat/shared/rpc';
import type { Kysely } from 'kysely';
import type { NotifyDatabase } from '../db/schema.js';
import type { PushFunnel } from './funnel.js';
import type { PushQueues } from './queues.js';

/** What the push pipeline needs from the other services (over NATS in production). */
export interface PushSources {
  pushFacts(roomId: string, userIds?: string[]): Promise<ResponseOf<typeof roomsRpc.pushFacts>>;
  messageStates(roomId: string, messageIds: string[]): Promise<ResponseOf<typeof messagesRpc.messageStates>['messages']>;
  unreadTotal(userId: string): Promise<number>;
  presence: Pick<PresenceRegistry, 'isOnline' | 'onlineAmong'>;
}

/** What both stages of the pipeline (deciding, coalescing) work with. */
export interface PushPipeline {
  db: Kysely<NotifyDatabase>;
  queues: PushQueues;
  sources: PushSources;
  funnel: PushFunnel;
  logger: Logger;
}
