import type { Message } from '@chat/shared';
import { Composer } from './composer.js';
import { formatDay, h } from './dom.js';
import { icon } from './icons.js';
import { MessageItems } from './message-item.js';
import type { ChatStore } from './store.js';

/** How close to the end (px) still counts as "reading the newest": new content keeps it in view. */
const STICK_PX = 60;

/**
 * One open room: header, messages (infinite scroll upward), typing line and composer. Each
 * message is drawn by `MessageItems` (message-item.ts); the composer lives in composer.ts.
 */
export class ConversationView {
  private roomId: string | null = null;
  private readonly header = h('header', { class: 'conversation-header' });
  private readonly list = h('ol', { class: 'messages', 'aria-label': 'Messages', tabindex: 0 });
  private readonly typingLine = h('p', { class: 'typing', role: 'status', 'aria-live': 'polite', id: 'typing' });
  private readonly composer = new Composer(this);
  /** Instead of the composer in a closed room (its host object ended: read-only, DESIGN 10.3). */
  private readonly closedBanner = h(
    'p',
    { class: 'closed-banner', role: 'status', 'data-testid': 'closed-banner', hidden: true },
    'This conversation is closed: you can read it, but no longer write in it.',
  );
  readonly element = h('section', { class: 'conversation', 'aria-label': 'Conversation' });
  private readonly items: MessageItems;
  replyTo: Message | null = null;
  private loadingOlder = false;
  /** True while the reader is at the end: content that grows (images, receipts, fonts) keeps it there. */
  private stuck = true;
  /** A search result being shown: highlighted until another room is opened. */
  private target: { id: string; terms: readonly string[] } | null = null;
  private readonly resize = new ResizeObserver(() => {
    if (this.stuck) this.list.scrollTop = this.list.scrollHeight;
  });
  /** Opens the members dialog of the current room (group-dialog.ts, wired by main.ts). */
  onShowMembers: (roomId: string) => void = () => undefined;
  /** Opens a message's thread beside the conversation (thread-panel.ts, wired by main.ts). */
  onOpenThread: (message: Message) => void = () => undefined;

  constructor(
    readonly store: ChatStore,
    private readonly onBack: () => void,
  ) {
    this.items = new MessageItems(
      {
        store,
        startReply: (message) => this.startReply(message),
        rerender: () => this.renderMessages(false),
        searchTerms: (message) => (this.target?.id === message.id ? this.target.terms : []),
        openThread: (message) => this.onOpenThread(message),
      },
      this.list,
    );
    this.list.addEventListener('scroll', () => {
      this.stuck = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < STICK_PX;
      void this.maybeLoadOlder();
    });
    this.list.addEventListener('keydown', (event) => this.onListKey(event));
    this.composer.onArrowUpEmpty = () => this.focusMessage(-1);
    this.acceptDrops();
  }

  get room() {
    return this.roomId;
  }

  /**
   * Shows `roomId`. Mounting the room already shown (again once its history has loaded) only
   * re-renders: what the reader began typing meanwhile, and the focus, stay.
   */
  mount(roomId: string | null): void {
    const changed = roomId !== this.roomId || !this.element.contains(this.composer.element);
    this.roomId = roomId;
    if (changed) {
      this.target = null;
      this.replyTo = null;
      this.items.editing = null;
    }
    if (!roomId) {
      this.element.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, 'Choose a conversation, or start a new one.')));
      return;
    }
    if (changed) {
      this.element.replaceChildren(this.header, this.list, this.typingLine, this.closedBanner, this.composer.element);
      this.composer.reset();
    }
    this.renderHeader();
    this.renderMessages(true);
    this.renderTyping();
  }

  update(change: string): void {
    if (!this.roomId) return;
    if (change === 'rooms' || change === 'room') this.renderHeader();
    if (change === 'messages') this.renderMessages(false);
    if (change === 'typing') this.renderTyping();
    if (change === 'status') this.composer.renderStatus();
  }

  focusComposer(): void {
    this.composer.focus();
  }

  /** Shows a search result: loads back to it, scrolls it to the middle, highlights and focuses it. */
  async jumpTo(message: Message, terms: readonly string[]): Promise<void> {
    this.target = { id: message.id, terms };
    await this.store.loadUntil(message.room_id, message.seq);
    this.renderMessages(false);
    const item = this.list.querySelector<HTMLElement>(`li[data-message-id="${message.id}"]`);
    if (!item) return;
    this.stuck = false;
    item.scrollIntoView({ block: 'center' });
    item.querySelector<HTMLElement>('article')?.focus({ preventScroll: true });
  }

  private renderHeader(): void {
    const room = this.store.activeRoom;
    if (!room) return;
    const closed = room.closed_at !== null;
    this.closedBanner.hidden = !closed;
    this.composer.element.hidden = closed;
    const others = [...(this.store.online.get(room.id) ?? [])].filter((u) => u !== this.store.me);
    const muted = room.me.muted_until !== null && new Date(room.me.muted_until) > new Date();
    const subtitle =
      room.kind === 'direct'
        ? others.length
          ? 'Online'
          : 'Offline'
        : `${room.member_count} members${others.length ? `, ${others.length} online` : ''}`;
    this.header.replaceChildren(
      h('button', { class: 'back icon', 'aria-label': 'Back to conversations', onclick: () => this.onBack() }, icon('back')),
      h('div', { class: 'header-text' }, h('h2', { id: 'room-title' }, room.title ?? 'Untitled'), h('p', { class: 'subtitle' }, subtitle)),
      h(
        'div',
        { class: 'header-actions' },
        room.kind !== 'direct'
          ? h(
              'button',
              {
                class: 'icon',
                'aria-label': 'Members and settings',
                title: 'Members and settings',
                onclick: () => this.onShowMembers(room.id),
              },
              icon('users'),
            )
          : null,
        h(
          'button',
          {
            class: 'icon',
            'aria-label': muted ? 'Unmute' : 'Mute for 8 hours',
            title: muted ? 'Unmute' : 'Mute for 8 hours',
            onclick: () =>
              void this.store.updateMembership(room.id, { muted_until: muted ? null : new Date(Date.now() + 8 * 3_600_000).toISOString() }),
          },
          icon(muted ? 'bellOff' : 'bell'),
        ),
        h(
          'button',
          {
            class: 'icon',
            'aria-label': room.me.archived ? 'Unarchive' : 'Archive',
            title: room.me.archived ? 'Unarchive' : 'Archive',
            onclick: () => void this.store.updateMembership(room.id, { archived: !room.me.archived }).then(() => this.onBack()),
          },
          icon('archive'),
        ),
      ),
    );
  }

  private renderTyping(): void {
    if (!this.roomId) return;
    const names = this.store.typingNames(this.roomId);
    this.typingLine.textContent =
      names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
  }

  private async maybeLoadOlder(): Promise<void> {
    if (!this.roomId || this.loadingOlder || this.list.scrollTop > 80) return;
    this.loadingOlder = true;
    const before = this.list.scrollHeight;
    try {
      if (await this.store.loadOlder(this.roomId)) this.list.scrollTop = this.list.scrollHeight - before + this.list.scrollTop;
    } finally {
      this.loadingOlder = false;
    }
  }

  renderMessages(jumpToEnd: boolean): void {
    const roomId = this.roomId;
    if (!roomId) return;
    if (jumpToEnd) this.stuck = true;
    const focus = this.focusedPlace();
    const messages = this.store.messages.get(roomId) ?? [];
    const byId = new Map(messages.map((m) => [m.id, m]));
    const items: HTMLElement[] = [];
    if (this.store.hasOlder.get(roomId))
      items.push(h('li', { class: 'older' }, h('button', { onclick: () => void this.store.loadOlder(roomId) }, 'Load earlier messages')));
    let day = '';
    const lastMine = [...messages].reverse().find((m) => m.sender_id === this.store.me && !m.deleted_at);
    const dividerBefore = this.store.dividerBefore.get(roomId);
    let divider: HTMLElement | null = null;
    for (const message of messages) {
      const thisDay = formatDay(message.created_at);
      if (thisDay !== day) {
        day = thisDay;
        // Plain list items (a list may hold only list items): their text says what they are.
        items.push(h('li', { class: 'day' }, h('span', {}, thisDay)));
      }
      if (message.id === dividerBefore) {
        divider = h('li', { class: 'new-divider' }, h('span', {}, 'New messages'));
        items.push(divider);
      }
      const item = this.items.message(roomId, message, byId, message === lastMine);
      if (message.id === this.target?.id) item.classList.add('target');
      items.push(item);
    }
    for (const entry of this.store.pendingFor(roomId)) items.push(this.items.pending(entry));
    this.list.replaceChildren(...items);
    this.resize.disconnect();
    for (const item of items) this.resize.observe(item);
    if (jumpToEnd && divider) {
      // Opening a room with unread messages starts at the first of them, not at the very end.
      divider.scrollIntoView({ block: 'start' });
      this.stuck = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < STICK_PX;
    } else if (this.stuck) this.list.scrollTop = this.list.scrollHeight;
    this.restoreFocus(focus);
  }

  startReply(message: Message): void {
    this.replyTo = message;
    this.composer.renderReply();
    this.composer.focus();
  }

  // --- keyboard ---

  /** Arrow keys move between messages, Home/End to the first/last, Escape back to the composer. */
  private onListKey(event: KeyboardEvent): void {
    const article = (event.target as HTMLElement).closest('li.message > article');
    if (event.key === 'Escape' && !(event.target as HTMLElement).closest('textarea, .picker')) {
      event.preventDefault();
      this.composer.focus();
      return;
    }
    if (!article || event.target !== article) return;
    const articles = [...this.list.querySelectorAll<HTMLElement>('li.message > article')];
    const index = articles.indexOf(article as HTMLElement);
    const next =
      event.key === 'ArrowUp'
        ? index - 1
        : event.key === 'ArrowDown'
          ? index + 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? articles.length - 1
              : null;
    if (next === null) return;
    event.preventDefault();
    if (next >= articles.length) this.composer.focus();
    else articles[Math.max(0, next)]?.focus();
  }

  /** Focuses a message by index (negative: from the end). */
  private focusMessage(index: number): void {
    const articles = [...this.list.querySelectorAll<HTMLElement>('li.message > article')];
    const article = articles.at(index);
    if (!article) return;
    article.focus();
    article.scrollIntoView({ block: 'nearest' });
  }

  /** Re-rendering replaces the items: the focused control is found again by message and position. */
  /** Where focus is in the list: the message, and the control by its name (its place if the name is gone). */
  private focusedPlace(): FocusPlace | null {
    const active = document.activeElement as HTMLElement | null;
    const item = active?.closest<HTMLElement>('li[data-message-id]');
    if (!active || !item || !this.list.contains(item)) return null;
    return { id: item.dataset.messageId ?? '', index: focusablesOf(item).indexOf(active), name: controlName(active) };
  }

  /**
   * Puts focus back on the same control of the re-drawn message. By name first: a receipt or a
   * reaction drawn meanwhile shifts the controls, and focus must not land on another action.
   */
  private restoreFocus(place: FocusPlace | null): void {
    if (!place || (document.activeElement && document.activeElement !== document.body)) return;
    const item = this.list.querySelector<HTMLElement>(`li[data-message-id="${place.id}"]`);
    const focusables = item ? focusablesOf(item) : [];
    const same = focusables.find((element) => controlName(element) === place.name);
    const target = same ?? focusables[place.index] ?? focusables[0];
    if (!item || !target) return;
    // The actions are drawn only while the message has focus (or hover): shown for the moment
    // focus moves in, kept by :focus-within after. A hidden button would refuse focus.
    const wasRevealed = item.classList.contains('revealed');
    item.classList.add('revealed');
    target.focus({ preventScroll: true });
    if (!wasRevealed) item.classList.remove('revealed');
  }

  // --- drag and drop ---

  private acceptDrops(): void {
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    this.element.addEventListener('dragover', (event) => {
      if (!this.roomId || !hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
      this.element.classList.add('dropping');
    });
    this.element.addEventListener('dragleave', (event) => {
      if (!this.element.contains(event.relatedTarget as Node | null)) this.element.classList.remove('dropping');
    });
    this.element.addEventListener('drop', (event) => {
      this.element.classList.remove('dropping');
      if (!this.roomId || !hasFiles(event)) return;
      event.preventDefault();
      this.composer.addFiles([...(event.dataTransfer?.files ?? [])]);
    });
  }
}

interface FocusPlace {
  id: string;
  index: number;
  name: string;
}

function focusablesOf(item: HTMLElement): HTMLElement[] {
  return [...item.querySelectorAll<HTMLElement>('article, button, textarea, a')];
}

/** What a control is called for a screen reader: its label, else its text. */
function controlName(element: HTMLElement): string {
  return element.getAttribute('aria-label') ?? element.textContent?.trim() ?? '';
}
