import type { Message } from '@chat/shared';
import type { OutboxEntry } from '@chat/shared/sdk';
import { formatBytes, formatDateTime, formatTime, h } from './dom.js';
import { openReportDialog, toggleBlock } from './moderation.js';
import { highlight, renderBody } from './rich-text.js';
import type { ChatStore } from './store.js';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];

/** What a message item needs from the conversation around it. */
export interface MessageItemHost {
  readonly store: ChatStore;
  startReply(message: Message): void;
  /** Renders the message list again (an edit started or ended). */
  rerender(): void;
  /** Search terms to highlight in this message (the search result being shown), or none. */
  searchTerms(message: Message): readonly string[];
  /** Opens a message's thread; absent inside a thread (replies have no threads of their own). */
  openThread?(message: Message): void;
}

/**
 * One message in the list: sender, quote, body with mentions, attachments, reactions, read
 * receipts, its actions (reply, react, edit, delete) and the inline editor; also a pending one
 * from the outbox. Keeps the per-message UI state that must survive re-renders.
 */
export class MessageItems {
  /** The message being edited. */
  editing: string | null = null;
  /** The message whose reaction picker is open, kept across re-renders. */
  private pickerFor: string | null = null;
  /** The message whose actions a tap revealed (touch screens have no hover). */
  private revealed: string | null = null;
  private readonly objectUrls = new Map<string, string>();
  /** Messages of blocked users the reader chose to see. */
  private readonly shownAnyway = new Set<string>();

  constructor(
    private readonly host: MessageItemHost,
    private readonly list: HTMLElement,
  ) {
    // An open reaction picker closes on Escape or on a click anywhere else.
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.pickerFor) {
        // Focus goes back to the "React" button that opened the picker.
        if ((event.target as HTMLElement).closest?.('.picker'))
          this.list.querySelector<HTMLElement>('.actions [aria-expanded="true"]')?.focus();
        this.closePicker();
      }
    });
    document.addEventListener('click', (event) => {
      if (this.pickerFor && !(event.target as HTMLElement).closest('.actions')) this.closePicker();
    });
  }

  private closePicker(): void {
    if (!this.pickerFor) return;
    this.pickerFor = null;
    for (const picker of this.list.querySelectorAll<HTMLElement>('.picker')) picker.hidden = true;
    for (const toggle of this.list.querySelectorAll<HTMLElement>('.actions [aria-expanded="true"]'))
      toggle.setAttribute('aria-expanded', 'false');
  }

  message(roomId: string, message: Message, byId: Map<string, Message>, lastMine: boolean): HTMLElement {
    const mine = message.sender_id === this.host.store.me;
    const deleted = message.deleted_at !== null;
    const parts: Array<Node | null> = [];
    if (!mine) parts.push(h('span', { class: 'sender' }, message.sender_name ?? message.sender_id));
    if (message.priority === 'urgent' && !deleted) parts.push(h('span', { class: 'urgent-badge', 'data-testid': 'urgent' }, 'Urgent'));
    if (message.reply_to) {
      const original = byId.get(message.reply_to);
      parts.push(
        h(
          'blockquote',
          { class: 'quote' },
          h('span', { class: 'quote-sender' }, original ? (original.sender_name ?? original.sender_id) : 'Earlier message'),
          h('span', {}, original ? (original.deleted_at ? 'Message deleted' : original.body || '📎 Attachment') : ''),
        ),
      );
    }
    const hidden = !mine && this.host.store.blocked.has(message.sender_id) && !this.shownAnyway.has(message.id);
    if (deleted) parts.push(h('p', { class: 'body deleted' }, 'Message deleted'));
    else if (hidden) {
      parts.push(
        h(
          'p',
          { class: 'body blocked', 'data-testid': 'blocked' },
          'Message from someone you blocked ',
          h(
            'button',
            {
              class: 'link',
              onclick: () => {
                this.shownAnyway.add(message.id);
                this.host.rerender();
              },
            },
            'Show',
          ),
        ),
      );
    } else {
      if (message.body) parts.push(renderBody(message.body, this.decorator(message)));
      for (const attachment of message.attachments) parts.push(this.renderAttachment(attachment));
    }
    const meta = h(
      'span',
      { class: 'meta' },
      h('time', { datetime: message.created_at, title: formatDateTime(message.created_at) }, formatTime(message.created_at)),
      message.edited_at && !deleted ? ' · edited' : '',
    );
    parts.push(meta);
    if (!deleted && !hidden && message.ack_requested) parts.push(this.acknowledgements(roomId, message, mine));
    if (!deleted && !hidden && message.reactions.length) {
      parts.push(
        h(
          'div',
          { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
          ...message.reactions.map((r) =>
            h(
              'button',
              {
                class: `chip${r.me ? ' me' : ''}`,
                'aria-pressed': r.me ? 'true' : 'false',
                'aria-label': `${r.emoji} ${r.count}`,
                onclick: () => void this.host.store.toggleReaction(roomId, message, r.emoji),
              },
              `${r.emoji} ${r.count}`,
            ),
          ),
        ),
      );
    }
    if (message.thread && this.host.openThread) parts.push(this.threadSummary(message, message.thread));
    if (lastMine) parts.push(this.receipts(roomId, message));
    if (!deleted) parts.push(this.renderActions(roomId, message, mine));
    if (this.editing === message.id) parts.push(this.renderEditor(roomId, message));
    const revealed = this.revealed === message.id || this.pickerFor === message.id || this.editing === message.id;
    return h(
      'li',
      { class: `message${mine ? ' mine' : ''}${revealed ? ' revealed' : ''}`, 'data-message-id': message.id, 'data-seq': message.seq },
      h(
        'article',
        {
          tabindex: 0,
          'aria-label': `Message from ${mine ? 'you' : (message.sender_name ?? message.sender_id)}`,
          onclick: (event: Event) => {
            if ((event.target as HTMLElement).closest('button, textarea, a')) return;
            this.revealed = this.revealed === message.id ? null : message.id;
            (event.currentTarget as HTMLElement).parentElement?.classList.toggle('revealed', this.revealed === message.id);
          },
        },
        ...parts,
      ),
    );
  }

  /**
   * Mentions (and the search terms of a result being shown) are highlighted by splitting each text
   * run of the body; every part is still a text node.
   */
  private decorator(message: Message): (text: string) => Array<string | HTMLElement> {
    const names = (this.host.store.members.get(message.room_id) ?? [])
      .filter((m) => message.mentions.includes(m.user_id))
      .map((m) => `@${m.name ?? m.user_id}`);
    const terms = this.host.searchTerms(message);
    const withTerms = (text: string) => (terms.length ? highlight(text, terms) : [text]);
    if (!names.length) return withTerms;
    const pattern = new RegExp(`(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');
    return (text) =>
      text.split(pattern).flatMap((part) => (names.includes(part) ? [h('mark', { class: 'mention' }, part)] : withTerms(part)));
  }

  private renderAttachment(attachment: Message['attachments'][number]): HTMLElement {
    if (attachment.content_type.startsWith('image/')) {
      const img = h('img', { alt: attachment.name, width: attachment.width, height: attachment.height, class: 'image', loading: 'lazy' });
      const cached = this.objectUrls.get(attachment.id);
      if (cached) img.src = cached;
      else
        void this.host.store.attachmentUrl(attachment.url).then((url) => {
          this.objectUrls.set(attachment.id, url);
          img.src = url;
        });
      return h('figure', { class: 'attachment' }, img);
    }
    return h(
      'button',
      {
        class: 'file',
        onclick: async () => {
          const url = await this.host.store.attachmentUrl(attachment.url);
          const link = h('a', { href: url, download: attachment.name });
          link.click();
        },
      },
      `📎 ${attachment.name} (${formatBytes(attachment.size)})`,
    );
  }

  private renderActions(roomId: string, message: Message, mine: boolean): HTMLElement {
    // Another person's message can be reported and its sender blocked; the host's system messages cannot.
    const fromPerson = !mine && message.kind !== 'system';
    const picker = h(
      'div',
      { class: 'picker', role: 'group', 'aria-label': 'Add a reaction', hidden: this.pickerFor !== message.id },
      ...QUICK_REACTIONS.map((emoji) =>
        h(
          'button',
          {
            class: 'icon emoji',
            'aria-label': `React ${emoji}`,
            onclick: () => {
              this.closePicker();
              void this.host.store.toggleReaction(roomId, message, emoji);
            },
          },
          emoji,
        ),
      ),
    );
    return h(
      'div',
      { class: 'actions' },
      h('button', { class: 'link', onclick: () => this.host.startReply(message) }, 'Reply'),
      h(
        'button',
        {
          class: 'link',
          'aria-expanded': String(this.pickerFor === message.id),
          onclick: (event: Event) => {
            this.pickerFor = this.pickerFor === message.id ? null : message.id;
            picker.hidden = this.pickerFor !== message.id;
            (event.currentTarget as HTMLElement).setAttribute('aria-expanded', String(!picker.hidden));
            // Keyboard users land on the first emoji; Escape closes the picker.
            if (!picker.hidden) picker.querySelector<HTMLElement>('button')?.focus();
          },
        },
        'React',
      ),
      this.host.openThread && message.kind !== 'system'
        ? h('button', { class: 'link', title: 'Reply in thread', onclick: () => this.host.openThread?.(message) }, 'Thread')
        : null,
      mine ? h('button', { class: 'link', onclick: () => this.startEdit(message.id) }, 'Edit') : null,
      mine
        ? h(
            'button',
            {
              class: 'link danger',
              onclick: () => {
                if (confirm('Delete this message for everyone?')) void this.host.store.client.delete(roomId, message.id);
              },
            },
            'Delete',
          )
        : null,
      fromPerson ? h('button', { class: 'link', onclick: () => openReportDialog(this.host.store, message) }, 'Report') : null,
      !fromPerson
        ? null
        : h(
            'button',
            {
              class: 'link',
              onclick: () =>
                void toggleBlock(this.host.store, message.sender_id, message.sender_name ?? message.sender_id).catch((failure: unknown) =>
                  this.host.store.flash(failure instanceof Error ? failure.message : String(failure)),
                ),
            },
            this.host.store.blocked.has(message.sender_id) ? 'Unblock' : 'Block',
          ),
      picker,
    );
  }

  private renderEditor(roomId: string, message: Message): HTMLElement {
    const input = h('textarea', { 'aria-label': 'Edit message', rows: 2 });
    input.value = message.body;
    queueMicrotask(() => input.focus());
    const save = async () => {
      const body = input.value.trim();
      if (body && body !== message.body) await this.host.store.client.edit(roomId, message.id, body);
      this.editing = null;
      this.host.rerender();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void save();
      }
      if (event.key === 'Escape') {
        this.editing = null;
        this.host.rerender();
      }
    });
    return h('div', { class: 'editor' }, input, h('button', { class: 'primary', onclick: () => void save() }, 'Save'));
  }

  pending(entry: OutboxEntry): HTMLElement {
    const failed = entry.state === 'failed';
    return h(
      'li',
      { class: 'message mine pending', 'data-client-msg-id': entry.client_msg_id },
      h(
        'article',
        { 'aria-label': 'Message from you, not sent yet' },
        renderBody(entry.draft.body),
        h(
          'span',
          { class: `meta${failed ? ' failed' : ''}` },
          failed ? `Not sent: ${entry.error?.message ?? 'error'}` : 'Sending…',
          failed ? h('button', { class: 'link', onclick: () => this.host.store.client.retry(entry.client_msg_id) }, 'Retry') : null,
        ),
      ),
    );
  }

  /**
   * A message that asks for acknowledgement: who acknowledged (names loaded once, kept current by
   * its events) and, for everyone but its sender, an "Acknowledge" button until they did.
   */
  private acknowledgements(roomId: string, message: Message, mine: boolean): HTMLElement {
    const store = this.host.store;
    const list = store.acknowledgementLists.get(message.id);
    // Loaded once here; message.acknowledged events and one's own acknowledgement reload it.
    if (!list) void store.loadAcknowledgements(roomId, message.id);
    const names = list?.items.map((i) => i.name ?? i.user_id) ?? [];
    const count = message.acknowledgements.count;
    const summary =
      count === 0 ? 'Nobody has acknowledged yet' : `Acknowledged by ${names.length === count ? names.join(', ') : `${count}`}`;
    const pending = list && list.pending.length > 0 ? ` · ${list.pending.length} pending` : '';
    return h(
      'div',
      { class: 'acknowledgements', 'data-testid': 'acknowledgements' },
      h('span', { class: 'ack-summary' }, `${summary}${pending}`),
      !mine && !message.acknowledgements.me
        ? h('button', { class: 'ack-button', onclick: () => void store.acknowledge(roomId, message).catch(() => undefined) }, 'Acknowledge')
        : null,
    );
  }

  /** Under a thread's root: how many replies, who wrote them, and the way into the thread. */
  private threadSummary(message: Message, thread: NonNullable<Message['thread']>): HTMLElement {
    const members = this.host.store.members.get(message.room_id) ?? [];
    const names = thread.participant_ids.slice(0, 3).map((id) => members.find((m) => m.user_id === id)?.name ?? id);
    const replies = `${thread.reply_count} ${thread.reply_count === 1 ? 'reply' : 'replies'}`;
    return h(
      'button',
      {
        class: 'thread-summary',
        'data-testid': 'thread-summary',
        title: 'Open the thread',
        onclick: () => this.host.openThread?.(message),
      },
      h('strong', {}, replies),
      h('span', { class: 'thread-last' }, ` · last ${formatTime(thread.last_reply_at)} · ${names.join(', ')}`),
    );
  }

  /** Under the last message of mine: who has read up to it. */
  private receipts(roomId: string, message: Message): HTMLElement | null {
    const store = this.host.store;
    const seenBy = (store.members.get(roomId) ?? []).filter((m) => m.user_id !== store.me && m.last_read_seq >= message.seq);
    if (!seenBy.length) return null;
    return h('span', { class: 'seen', 'data-testid': 'seen-by' }, `Seen by ${seenBy.map((m) => m.name ?? m.user_id).join(', ')}`);
  }

  private startEdit(messageId: string): void {
    this.editing = messageId;
    this.host.rerender();
  }
}
