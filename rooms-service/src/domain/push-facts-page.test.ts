import { describe, expect, it } from 'vitest';
import { pushFactsPage } from './push-facts-page.js';

const member = (n: number, name = 'x') => ({ user_id: `user-${String(n).padStart(5, '0')}`, name });
const chars = (rows: ReadonlyArray<object>) => rows.reduce((sum, row) => sum + JSON.stringify(row).length + 1, 0);

describe('a page of push facts', () => {
  it('cuts where the next member would pass the budget, and starts the next page after the last one it kept', () => {
    const rows = Array.from({ length: 10 }, (_, i) => member(i));
    const budget = chars(rows.slice(0, 4)) + 5;
    const page = pushFactsPage(rows, 1000, budget);
    expect(page.members).toEqual(rows.slice(0, 4));
    expect(page.next_after).toBe('user-00003');
  });

  it('says more may follow when the read was full, and nothing when it was not', () => {
    const rows = Array.from({ length: 3 }, (_, i) => member(i));
    expect(pushFactsPage(rows, 3, 1_000_000)).toEqual({ members: rows, next_after: 'user-00002' });
    expect(pushFactsPage(rows, 4, 1_000_000)).toEqual({ members: rows, next_after: null });
    expect(pushFactsPage([], 3, 1_000_000)).toEqual({ members: [], next_after: null });
  });

  it('still moves on when one member alone is larger than the budget', () => {
    const rows = [member(1, 'y'.repeat(500)), member(2)];
    const page = pushFactsPage(rows, 1000, 100);
    expect(page.members).toEqual([rows[0]]);
    expect(page.next_after).toBe('user-00001');
    expect(pushFactsPage(rows.slice(1), 1000, 100).members).toEqual([rows[1]]);
  });

  it('pages through every member exactly once, in order', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => member(i, `Staff member ${i}`));
    const seen: string[] = [];
    let after = '';
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(100);
      const from = after;
      const read = rows.filter((r) => r.user_id > from).slice(0, 1000);
      const page = pushFactsPage(read, 1000, 20_000);
      expect(chars(page.members)).toBeLessThanOrEqual(20_000);
      for (const m of page.members) seen.push(m.user_id);
      if (page.next_after === null) break;
      after = page.next_after;
    }
    expect(seen).toEqual(rows.map((r) => r.user_id));
  });
});
