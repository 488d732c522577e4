import type { Message } from '@chat/shared';
import { formatDateTime, formatDay, formatTime, h } from './dom.js';
import { icon } from './icons.js';
import { queryTerms } from './markdown.js';
import { highlight } from './rich-text.js';
import type { ChatStore } from './store.js';

/** Typing pauses this long before a search is sent (the REST search is rate-limited per user). */
const DEBOUNCE_MS = 350;

/**
 * Message search in the sidebar: a search box; while it holds a query, the results (newest
 * first, the query's words highlighted) replace the room list. Choosing a result opens its room
 * at that message. Escape or the clear button returns to the rooms.
 */
export class SearchPanel {
  readonly input = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Search messages',
    'aria-label': 'Search messages',
    autocomplete: 'off',
    maxlength: 200,
    enterkeyhint: 'search',
  });
  readonly form = h('form', { class: 'search', role: 'search' });
  private readonly status = h('p', { class: 'search-status', role: 'status', id: 'search-status' });
  private readonly list = h('ul', { class: 'search-results', 'aria-label': 'Search results' });
  readonly results = h('section', { class: 'results', 'aria-label': 'Search results', hidden: true }, this.status, this.list);
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Answers can arrive out of order: only the latest query's answer is shown. */
  private generation = 0;

  constructor(
    private readonly store: ChatStore,
    private readonly onOpen: (message: Message, terms: readonly string[]) => void,
    private readonly onActive: (active: boolean) => void,
  ) {
    this.form.append(
      h('span', { class: 'search-icon', 'aria-hidden': 'true' }, icon('search')),
      this.input,
      h(
        'button',
        { type: 'button', class: 'icon clear-search', 'aria-label': 'Clear search', onclick: () => this.clear(true) },
        icon('close'),
      ),
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearTimeout(this.timer);
      void this.run();
    });
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      if (!this.input.value.trim()) this.clear(false);
      else this.timer = setTimeout(() => void this.run(), DEBOUNCE_MS);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.input.value) {
        event.preventDefault();
        this.clear(true);
      }
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        this.list.querySelector<HTMLElement>('button.result')?.focus();
      }
    });
    // Arrow keys move between results; Escape goes back to the search box.
    this.list.addEventListener('keydown', (event) => {
      const buttons = [...this.list.querySelectorAll<HTMLElement>('button.result')];
      const index = buttons.indexOf(event.target as HTMLElement);
      if (index < 0) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const next = index + (event.key === 'ArrowDown' ? 1 : -1);
        (next < 0 ? this.input : buttons[Math.min(next, buttons.length - 1)])?.focus();
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        this.input.focus();
      }
    });
  }

  get active(): boolean {
    return !this.results.hidden;
  }

  focus(): void {
    this.input.focus();
    this.input.select();
  }

  clear(focus: boolean): void {
    this.generation++;
    this.input.value = '';
    this.list.replaceChildren();
    this.status.textContent = '';
    this.results.hidden = true;
    this.onActive(false);
    if (focus) this.input.focus();
  }

  private async run(): Promise<void> {
    const query = this.input.value.trim();
    if (!query) return;
    const generation = ++this.generation;
    this.results.hidden = false;
    this.onActive(true);
    this.status.textContent = 'Searching…';
    try {
      const page = await this.store.search(query);
      if (generation !== this.generation) return;
      this.render(query, page.items);
    } catch (failure) {
      if (generation !== this.generation) return;
      this.list.replaceChildren();
      this.status.textContent = `Search failed: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  }

  private render(query: string, messages: Message[]): void {
    const terms = queryTerms(query);
    this.status.textContent =
      messages.length === 0
        ? `No messages match “${query}”.`
        : `${messages.length}${messages.length >= 30 ? '+' : ''} ${messages.length === 1 ? 'message matches' : 'messages match'} “${query}”.`;
    this.list.replaceChildren(
      ...messages.map((message) => {
        const room = this.store.rooms.find((r) => r.id === message.room_id);
        const sender = message.sender_id === this.store.me ? 'You' : (message.sender_name ?? message.sender_id);
        const when = `${formatDay(message.created_at)} ${formatTime(message.created_at)}`;
        return h(
          'li',
          {},
          h(
            'button',
            { class: 'result', 'data-message-id': message.id, onclick: () => this.onOpen(message, terms) },
            h(
              'span',
              { class: 'result-head' },
              h('span', { class: 'result-room' }, room?.title ?? 'Conversation'),
              h('time', { datetime: message.created_at, title: formatDateTime(message.created_at) }, when),
            ),
            h('span', { class: 'result-sender' }, sender),
            h('span', { class: 'result-body' }, ...highlight(snippet(message.body, terms), terms)),
          ),
        );
      }),
    );
  }
}

/** The part of a long body around its first match, so the highlighted words are visible. */
export function snippet(body: string, terms: readonly string[], width = 160): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (text.length <= width) return text;
  const lower = text.toLowerCase();
  const at = Math.min(...terms.map((t) => lower.indexOf(t.toLowerCase())).filter((i) => i >= 0), text.length);
  const start = Math.max(0, Math.min(at - 40, text.length - width));
  return `${start > 0 ? '…' : ''}${text.slice(start, start + width)}${start + width < text.length ? '…' : ''}`;
}
