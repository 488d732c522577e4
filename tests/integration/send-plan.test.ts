import { randomUUID } from 'node:crypto';
import { migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messagesMigrations } from '../../messages-service/src/db/migrations/index.js';
import type { MessageRow, MessagesDatabase } from '../../messages-service/src/db/schema.js';
import { openSendPool, type QueuedSend, SEQ_PLACEHOLDER, STORE_BATCH, storeSendBatch } from '../../messages-service/src/db/send-batch.js';
import { encodeCreated, plainDraft } from '../support/message-drafts.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

/**
 * The send batch statement is planned once per connection (openSendPool), so its one plan must be
 * right for tables of any size, including the plan a fresh database makes while they are empty
 * and never analyzed: every lookup in messages.messages goes through a unique index.
 */
const infra = inject('infra');
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
let scratch: ScratchDatabase;
let sendPool: pg.Pool;
let planner: pg.PoolClient;

/** The plan lines that read messages.messages, from the cached plan of this connection. */
async function messageLookups(roomId: string, threadRootId: string): Promise<string[]> {
  const draft = { ...plainDraft(roomId, 'ann', randomUUID()), thread_root_id: threadRootId };
  const input = JSON.stringify([{ ...draft, ord: 0, root_after_seq: 0, created_at: new Date().toISOString(), event: '{}' }]);
  // EXPLAIN EXECUTE takes no bind parameters: the values go in as literals.
  const { rows } = await planner.query<{ 'QUERY PLAN': string }>(
    `explain execute send_plan_probe(${planner.escapeLiteral(input)}, ${planner.escapeLiteral(`"seq":${SEQ_PLACEHOLDER}`)}, 0)`,
  );
  // Each scan of messages.messages with the line after it (its Index Cond, when it has one).
  const lines = rows.map((row) => row['QUERY PLAN'].trim().replace(/\s+\(cost=.*$/, ''));
  return lines.flatMap((line, i) => (/\bScan\b.*\bon messages\b/.test(line) ? [`${line} / ${lines[i + 1]}`] : []));
}

beforeAll(async () => {
  scratch = await createScratchDatabase(infra.adminDatabaseUrl, 'chat_plan');
  const migrating = openDatabase<MessagesDatabase>(scratch.url, { poolMax: 1, applicationName: 'test', logger });
  await migrateSchema(migrating.db, 'messages', messagesMigrations, logger);
  // Only this test's own analyze may replace the cached plan, not one of autovacuum's.
  await migrating.pool.query('alter table messages.messages set (autovacuum_enabled = false)');
  await migrating.close();
  sendPool = openSendPool(scratch.url, { max: 2, logger });
  planner = await sendPool.connect();
  await planner.query(`prepare send_plan_probe(json, text, float8) as ${STORE_BATCH.text}`);
});

afterAll(async () => {
  // Unset when beforeAll failed early.
  planner?.release();
  await sendPool?.end();
  await scratch?.drop();
});

describe('the send batch statement, planned once per connection', () => {
  it('looks messages up by their unique indexes only, in a plan made on empty tables and kept as they grow', async () => {
    const roomId = randomUUID();
    const byUniqueIndexes = [
      expect.stringMatching(/^-> {2}Index Only Scan using messages_idempotency on messages m \/ Index Cond: \(\(sender_id = /),
      expect.stringMatching(/^-> {2}Index Scan using messages_pkey on messages r \/ Index Cond: \(id = /),
    ];
    expect(await messageLookups(roomId, randomUUID())).toEqual(byUniqueIndexes);
    // Statistics that say "empty" (an analyze before the first message) invalidate the plan; the
    // next one is made from them, and a plan made so is the one to fear: a table scan is free.
    await planner.query('analyze messages.messages');
    const onEmptyTables = await messageLookups(roomId, randomUUID());
    expect(onEmptyTables).toEqual(byUniqueIndexes);

    // 2,000 messages in 20 batches, without an analyze: the cached plan stays what it was.
    let rootId = '';
    for (let batch = 0; batch < 20; batch++) {
      const sends: QueuedSend[] = Array.from({ length: 100 }, (_, i) => ({
        draft: plainDraft(roomId, `u${i % 7}`, `k${batch}-${i}`),
        encodeEvent: encodeCreated,
        traceparent: null,
        resolve: (row: MessageRow | undefined) => {
          rootId ||= row?.id ?? '';
        },
        reject: (error: unknown) => {
          throw error;
        },
      }));
      await storeSendBatch(sendPool, sends);
    }
    expect(await messageLookups(roomId, rootId)).toEqual(onEmptyTables);
    const { rows } = await planner.query<{ plan_cache_mode: string }>('show plan_cache_mode');
    expect(rows[0]?.plan_cache_mode).toBe('force_generic_plan');
  });
});
