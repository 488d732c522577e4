import type { Actor } from '@chat/shared/auth';
import { createLogger } from '@chat/shared/logging';
import { describe, expect, it } from 'vitest';
import { NameBook } from './name-book.js';

const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
const actor = (id: string, name: string | null): Actor => ({ user_id: id, name, roles: [] });
/** The book flushes on the next turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('NameBook', () => {
  it('sends a name once per change, batched per turn', async () => {
    const sent: string[][] = [];
    const book = new NameBook(async (actors) => sent.push(actors.map((a) => `${a.user_id}=${a.name}`)), logger);
    book.remember(actor('a', 'Ann'));
    book.remember(actor('b', null));
    book.remember(actor('a', 'Ann'));
    await nextTurn();
    book.remember(actor('b', null));
    book.remember(actor('a', 'Anna'));
    await nextTurn();
    expect(sent).toEqual([['a=Ann', 'b=null'], ['a=Anna']]);
  });

  it('forgets its coldest user when full, so only that one is sent again', async () => {
    const sent: string[] = [];
    const book = new NameBook(async (actors) => sent.push(...actors.map((a) => a.user_id)), logger, 500, 2);
    book.remember(actor('a', 'A'));
    book.remember(actor('b', 'B'));
    book.remember(actor('a', 'A'));
    book.remember(actor('c', 'C'));
    await nextTurn();
    book.remember(actor('a', 'A'));
    book.remember(actor('c', 'C'));
    book.remember(actor('b', 'B'));
    await nextTurn();
    expect(sent).toEqual(['a', 'b', 'c', 'b']);
  });
});
