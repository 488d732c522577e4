import type { Message } from '@chat/shared';
import { Composer } from './composer.js';
import { h } from './dom.js';
import { icon } from './icons.js';
import { MessageItems } from './message-item.js';
import type { ChatStore } from './store.js';

const STICK_PX = 60;

/**
 * One thread (DESIGN 10.5): its root, its replies (older pages on demand) and a composer whose
 * messages reply in it. A panel beside the conversation on a desktop, a screen of its own on a
 * phone (styles.css); main.ts opens and closes it.
 */
export class ThreadPanel {
  readonly element = h('aside', { class: 'thread-panel', 'aria-labelledby': 'thread-title', hidden: true });
  private readonly header = h('header', { class: 'conversation-header thread-header' });
  private readonly list = h('ol', { class: 'messages', 'aria-label': 'Thread replies', tabindex: 0 });
  private readonly composer = new Composer(this, {
    id: 'thread-composer',
    attachId: 'thread-attach',
    label: 'Reply in thread',
    placeholder: 'Reply in the thread…',
  });
  private readonly items: MessageItems;
  private roomId: string | null = null;
  private rootId: string | null = null;
  /** A reply found by search: highlighted while the thread stays open. */
  private targetId: string | null = null;
  private stuck = true;
  replyTo: Message | null = null;

  constructor(
    readonly store: ChatStore,
    private readonly onClose: () => void,
  ) {
    this.items = new MessageItems(
      {
        store,
        startReply: (message) => {
          this.replyTo = message;
          this.composer.renderReply();
          this.composer.focus();
        },
        rerender: () => this.render(),
        searchTerms: () => [],
      },
      this.list,
    );
    this.list.addEventListener('scroll', () => {
      this.stuck = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < STICK_PX;
    });
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !(event.target as HTMLElement).closest('.picker, .editor')) {
        event.preventDefault();
        this.onClose();
      }
    });
    this.element.append(this.header, this.list, this.composer.element);
  }

  get room(): string | null {
    return this.roomId;
  }

  get threadRootId(): string | null {
    return this.rootId;
  }

  get isOpen(): boolean {
    return this.rootId !== null;
  }

  /** Shows the thread of `rootId`, loading its root when the room's loaded pages do not hold it. */
  async open(roomId: string, rootId: string, targetId: string | null = null): Promise<void> {
    const same = this.rootId === rootId;
    this.roomId = roomId;
    this.rootId = rootId;
    this.targetId = targetId;
    this.stuck = targetId === null;
    this.element.hidden = false;
    if (!same) {
      this.replyTo = null;
      this.items.editing = null;
      this.composer.reset();
    }
    this.render();
    await Promise.all([
      this.store.loadThread(roomId, rootId),
      this.store.findMessage(roomId, rootId) ? undefined : this.store.loadUntilMessage(roomId, rootId),
    ]);
    this.render();
    if (targetId) {
      const item = this.list.querySelector<HTMLElement>(`li[data-message-id="${targetId}"]`);
      item?.scrollIntoView({ block: 'center' });
      item?.querySelector<HTMLElement>('article')?.focus({ preventScroll: true });
    }
  }

  close(): void {
    this.roomId = null;
    this.rootId = null;
    this.targetId = null;
    this.element.hidden = true;
    this.list.replaceChildren();
  }

  focusComposer(): void {
    this.composer.focus();
  }

  update(change: string): void {
    if (!this.rootId) return;
    if (change === 'thread' || change === 'messages') this.render();
    if (change === 'status') this.composer.renderStatus();
  }

  private render(): void {
    const roomId = this.roomId;
    const rootId = this.rootId;
    if (!roomId || !rootId) return;
    const root = this.store.findMessage(roomId, rootId);
    const replies = this.store.threads.get(rootId) ?? [];
    const room = this.store.rooms.find((r) => r.id === roomId);
    this.composer.element.hidden = room?.closed_at != null;
    this.header.replaceChildren(
      h('button', { class: 'icon', 'aria-label': 'Close thread', title: 'Close thread', onclick: () => this.onClose() }, icon('back')),
      h('div', { class: 'header-text' }, h('h2', { id: 'thread-title' }, 'Thread'), h('p', { class: 'subtitle' }, room?.title ?? '')),
    );
    const byId = new Map([...(root ? [root] : []), ...replies].map((m) => [m.id, m]));
    const items: HTMLElement[] = [];
    items.push(
      root ? this.items.message(roomId, root, byId, false) : h('li', { class: 'day' }, h('span', {}, 'Loading the first message…')),
    );
    const count = root?.thread?.reply_count ?? replies.filter((m) => !m.deleted_at).length;
    items.push(h('li', { class: 'thread-count' }, h('span', {}, `${count} ${count === 1 ? 'reply' : 'replies'}`)));
    if (this.store.threadHasOlder.get(rootId))
      items.push(
        h(
          'li',
          { class: 'older' },
          h('button', { onclick: () => void this.store.loadOlderReplies(roomId, rootId) }, 'Load earlier replies'),
        ),
      );
    for (const reply of replies) {
      const item = this.items.message(roomId, reply, byId, false);
      if (reply.id === this.targetId) item.classList.add('target');
      items.push(item);
    }
    for (const entry of this.store.pendingFor(roomId, rootId)) items.push(this.items.pending(entry));
    const focused = document.activeElement;
    const keep =
      focused && this.list.contains(focused) ? focused.closest<HTMLElement>('li[data-message-id]')?.dataset.messageId : undefined;
    this.list.replaceChildren(...items);
    if (this.stuck) this.list.scrollTop = this.list.scrollHeight;
    if (keep) this.list.querySelector<HTMLElement>(`li[data-message-id="${keep}"] > article`)?.focus({ preventScroll: true });
  }
}
