import { openDatabase } from '@chat/shared/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagesDatabase } from '../../messages-service/src/db/schema.js';
import { indexMessages } from '../../messages-service/src/db/search-index.js';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/**
 * Search documents are written by the search indexer (a consumer of the room event stream), off
 * the send path. These tests make the indexer slow (a long batch linger) or failing (a trigger
 * that rejects one message's document) and check what a search sees meanwhile.
 */
const stack = new TestStack({
  gateways: 1,
  // Each indexer batch waits this long for more events: indexing trails every send.
  env: { SEARCH_INDEX_LINGER_MS: '300', SEARCH_INDEX_WAIT_MS: '2500' },
});
const rest = () => stack.gateway().httpUrl;
const alice = mintToken('si-alice');
type Page = { items: Array<{ id: string; body: string }>; next_cursor: string | null };
let db: pg.Client;

beforeAll(async () => {
  await stack.start();
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

async function room(): Promise<string> {
  return (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'SI', member_ids: [] } })).body.id as string;
}
async function say(roomId: string, body: string): Promise<string> {
  const response = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: alice,
    body: { client_msg_id: `${body}-${Math.random()}`, body },
  });
  expect(response.status).toBe(201);
  return response.body.id as string;
}
const search = async (roomId: string, q: string) =>
  (await api<Page>(rest(), 'GET', `/v1/search/messages?q=${encodeURIComponent(q)}&room_id=${roomId}`, { token: alice })).body;
const doc = async (messageId: string) =>
  (await db.query<{ body: string }>('select body from messages.search_docs where message_id = $1', [messageId])).rows[0];

describe('search indexing off the send path', () => {
  it('a search right after the send finds the message, though the indexer lags', async () => {
    const roomId = await room();
    const id = await say(roomId, 'the gazebo roof needs tar');
    // The search waits until the indexer has taken in everything sent before it.
    expect((await search(roomId, 'gazebo')).items.map((m) => m.id)).toEqual([id]);
    expect((await search(roomId, 'azeb')).items.map((m) => m.id)).toEqual([id]);
    expect(await doc(id)).toEqual({ body: 'the gazebo roof needs tar' });
  });

  it('an edit or delete is searchable at once, and a late or repeated indexer batch never brings old text back', async () => {
    const roomId = await room();
    const id = await say(roomId, 'meet at the old mill');
    const edited = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${id}`, {
      token: alice,
      body: { body: 'meet at the new bakery' },
    });
    expect(edited.status).toBe(200);
    expect((await search(roomId, 'bakery')).items.map((m) => m.id)).toEqual([id]);
    expect((await search(roomId, 'mill')).items).toEqual([]);
    // A redelivered batch indexes the message as it is now; a read older than the stored document changes nothing.
    const database = openDatabase<MessagesDatabase>(stack.databaseUrl, { poolMax: 1, applicationName: 'test', logger: console });
    try {
      await db.query(`update messages.search_docs set version = version - interval '1 hour', body = 'stale' where message_id = $1`, [id]);
      await indexMessages(database.db, [id]);
      expect(await doc(id)).toEqual({ body: 'meet at the new bakery' });
      await db.query(`update messages.search_docs set version = version + interval '1 hour', body = 'newer' where message_id = $1`, [id]);
      await indexMessages(database.db, [id]);
      expect(await doc(id)).toEqual({ body: 'newer' });
      await db.query(`update messages.search_docs set version = version - interval '1 hour' where message_id = $1`, [id]);
    } finally {
      await database.close();
    }
    const deleted = await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${id}`, { token: alice });
    expect(deleted.status).toBe(200);
    // The delete emptied the document in its own transaction.
    expect(await doc(id)).toEqual({ body: '' });
    expect((await search(roomId, 'bakery')).items).toEqual([]);
  });

  it('a failing indexer batch is retried: the message is found once indexing works again', async () => {
    const roomId = await room();
    // Documents holding "quarantined" are refused, so every batch with this message fails whole.
    await db.query(`
      create or replace function messages.refuse_quarantined() returns trigger language plpgsql as $$
      begin
        if new.body like '%quarantined%' then raise exception 'refused by test'; end if;
        return new;
      end $$`);
    await db.query(
      'create trigger refuse_quarantined before insert or update on messages.search_docs for each row execute function messages.refuse_quarantined()',
    );
    let id: string;
    try {
      id = await say(roomId, 'quarantined parcel at the gate');
      // The search waits for the indexer (up to SEARCH_INDEX_WAIT_MS), then answers from what is indexed.
      expect((await search(roomId, 'parcel')).items).toEqual([]);
      expect(stack.processes.some((p) => p.lines.some((l) => l.msg === 'event batch failed; will retry'))).toBe(true);
    } finally {
      await db.query('drop trigger refuse_quarantined on messages.search_docs');
    }
    await eventually(async () => expect((await search(roomId, 'parcel')).items.map((m) => m.id)).toEqual([id]), 30_000, 200);
  });
});
