import type { Message } from '@chat/shared';
import type { OutboxEntry } from '@chat/shared/sdk';
import { formatBytes, formatDay, formatTime, h } from './dom.js';
import { icon } from './icons.js';
import type { ChatStore } from './store.js';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];

/** One open room: header, messages (infinite scroll upward), typing line and composer. */
export class ConversationView {
  private roomId: string | null = null;
  private readonly header = h('header', { class: 'conversation-header' });
  private readonly list = h('ol', { class: 'messages', 'aria-label': 'Messages', tabindex: 0 });
  private readonly typingLine = h('p', { class: 'typing', role: 'status', 'aria-live': 'polite', id: 'typing' });
  private readonly composer = new Composer(this);
  readonly element = h('section', { class: 'conversation', 'aria-label': 'Conversation' });
  replyTo: Message | null = null;
  editing: string | null = null;
  /** The message whose reaction picker is open, kept across re-renders. */
  private pickerFor: string | null = null;
  /** The message whose actions a tap revealed (touch screens have no hover). */
  private revealed: string | null = null;
  private loadingOlder = false;
  private readonly objectUrls = new Map<string, string>();

  constructor(
    readonly store: ChatStore,
    private readonly onBack: () => void,
  ) {
    this.list.addEventListener('scroll', () => void this.maybeLoadOlder());
    // An open reaction picker closes on Escape or on a click anywhere else.
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.closePicker();
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

  get room() {
    return this.roomId;
  }

  mount(roomId: string | null): void {
    this.roomId = roomId;
    this.replyTo = null;
    this.editing = null;
    if (!roomId) {
      this.element.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, 'Choose a conversation, or start a new one.')));
      return;
    }
    this.element.replaceChildren(this.header, this.list, this.typingLine, this.composer.element);
    this.composer.reset();
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

  private renderHeader(): void {
    const room = this.store.activeRoom;
    if (!room) return;
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
    const atBottom = jumpToEnd || this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
    const messages = this.store.messages.get(roomId) ?? [];
    const byId = new Map(messages.map((m) => [m.id, m]));
    const items: HTMLElement[] = [];
    if (this.store.hasOlder.get(roomId))
      items.push(h('li', { class: 'older' }, h('button', { onclick: () => void this.store.loadOlder(roomId) }, 'Load earlier messages')));
    let day = '';
    const lastMine = [...messages].reverse().find((m) => m.sender_id === this.store.me && !m.deleted_at);
    for (const message of messages) {
      const thisDay = formatDay(message.created_at);
      if (thisDay !== day) {
        day = thisDay;
        items.push(h('li', { class: 'day', role: 'separator' }, h('span', {}, thisDay)));
      }
      items.push(this.renderMessage(roomId, message, byId, message === lastMine));
    }
    for (const entry of this.store.pendingFor(roomId)) items.push(this.renderPending(entry));
    this.list.replaceChildren(...items);
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  private renderMessage(roomId: string, message: Message, byId: Map<string, Message>, lastMine: boolean): HTMLElement {
    const mine = message.sender_id === this.store.me;
    const deleted = message.deleted_at !== null;
    const parts: Array<Node | null> = [];
    if (!mine) parts.push(h('span', { class: 'sender' }, message.sender_name ?? message.sender_id));
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
    if (deleted) parts.push(h('p', { class: 'body deleted' }, 'Message deleted'));
    else {
      if (message.body) parts.push(h('p', { class: 'body' }, ...this.withMentions(message)));
      for (const attachment of message.attachments) parts.push(this.renderAttachment(attachment));
    }
    const meta = h('span', { class: 'meta' }, formatTime(message.created_at), message.edited_at && !deleted ? ' · edited' : '');
    parts.push(meta);
    if (!deleted && message.reactions.length) {
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
                onclick: () => void this.store.toggleReaction(roomId, message, r.emoji),
              },
              `${r.emoji} ${r.count}`,
            ),
          ),
        ),
      );
    }
    if (lastMine) {
      const seenBy = (this.store.members.get(roomId) ?? []).filter((m) => m.user_id !== this.store.me && m.last_read_seq >= message.seq);
      if (seenBy.length)
        parts.push(h('span', { class: 'seen', 'data-testid': 'seen-by' }, `Seen by ${seenBy.map((m) => m.name ?? m.user_id).join(', ')}`));
    }
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

  /** Mentions are highlighted by splitting the text; every part is still a text node. */
  private withMentions(message: Message): Array<string | HTMLElement> {
    const names = (this.store.members.get(message.room_id) ?? [])
      .filter((m) => message.mentions.includes(m.user_id))
      .map((m) => `@${m.name ?? m.user_id}`);
    if (!names.length) return [message.body];
    const pattern = new RegExp(`(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');
    return message.body.split(pattern).map((part) => (names.includes(part) ? h('mark', { class: 'mention' }, part) : part));
  }

  private renderAttachment(attachment: Message['attachments'][number]): HTMLElement {
    if (attachment.content_type.startsWith('image/')) {
      const img = h('img', { alt: attachment.name, width: attachment.width, height: attachment.height, class: 'image', loading: 'lazy' });
      const cached = this.objectUrls.get(attachment.id);
      if (cached) img.src = cached;
      else
        void this.store.attachmentUrl(attachment.url).then((url) => {
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
          const url = await this.store.attachmentUrl(attachment.url);
          const link = h('a', { href: url, download: attachment.name });
          link.click();
        },
      },
      `📎 ${attachment.name} (${formatBytes(attachment.size)})`,
    );
  }

  private renderActions(roomId: string, message: Message, mine: boolean): HTMLElement {
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
              void this.store.toggleReaction(roomId, message, emoji);
            },
          },
          emoji,
        ),
      ),
    );
    return h(
      'div',
      { class: 'actions' },
      h('button', { class: 'link', onclick: () => this.startReply(message) }, 'Reply'),
      h(
        'button',
        {
          class: 'link',
          'aria-expanded': String(this.pickerFor === message.id),
          onclick: (event: Event) => {
            this.pickerFor = this.pickerFor === message.id ? null : message.id;
            picker.hidden = this.pickerFor !== message.id;
            (event.currentTarget as HTMLElement).setAttribute('aria-expanded', String(!picker.hidden));
          },
        },
        'React',
      ),
      mine ? h('button', { class: 'link', onclick: () => this.startEdit(message.id) }, 'Edit') : null,
      mine
        ? h(
            'button',
            {
              class: 'link danger',
              onclick: () => {
                if (confirm('Delete this message for everyone?')) void this.store.client.delete(roomId, message.id);
              },
            },
            'Delete',
          )
        : null,
      picker,
    );
  }

  private renderEditor(roomId: string, message: Message): HTMLElement {
    const input = h('textarea', { 'aria-label': 'Edit message', rows: 2 });
    input.value = message.body;
    queueMicrotask(() => input.focus());
    const save = async () => {
      const body = input.value.trim();
      if (body && body !== message.body) await this.store.client.edit(roomId, message.id, body);
      this.editing = null;
      this.renderMessages(false);
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void save();
      }
      if (event.key === 'Escape') {
        this.editing = null;
        this.renderMessages(false);
      }
    });
    return h('div', { class: 'editor' }, input, h('button', { class: 'primary', onclick: () => void save() }, 'Save'));
  }

  private renderPending(entry: OutboxEntry): HTMLElement {
    const failed = entry.state === 'failed';
    return h(
      'li',
      { class: 'message mine pending', 'data-client-msg-id': entry.client_msg_id },
      h(
        'article',
        { 'aria-label': 'Message from you, not sent yet' },
        h('p', { class: 'body' }, entry.draft.body),
        h(
          'span',
          { class: `meta${failed ? ' failed' : ''}` },
          failed ? `Not sent: ${entry.error?.message ?? 'error'}` : 'Sending…',
          failed ? h('button', { class: 'link', onclick: () => this.store.client.retry(entry.client_msg_id) }, 'Retry') : null,
        ),
      ),
    );
  }

  startReply(message: Message): void {
    this.replyTo = message;
    this.composer.renderReply();
    this.composer.focus();
  }

  private startEdit(messageId: string): void {
    this.editing = messageId;
    this.renderMessages(false);
  }
}

/** The composer: text with mention suggestions, reply bar, attachments checked before upload. */
class Composer {
  readonly element = h('form', { class: 'composer', 'aria-label': 'Write a message' });
  private readonly replyBar = h('div', { class: 'reply-bar', hidden: true });
  private readonly files = h('div', { class: 'files' });
  private readonly error = h('p', { class: 'form-error', role: 'alert' });
  private readonly input = h('textarea', {
    id: 'composer',
    rows: 1,
    'aria-label': 'Message',
    placeholder: 'Write a message…',
    maxlength: 4000,
    autocomplete: 'off',
  });
  private readonly suggestions = h('ul', { class: 'suggestions', role: 'listbox', 'aria-label': 'Mention someone', hidden: true });
  private readonly fileInput = h('input', {
    type: 'file',
    id: 'attach',
    class: 'visually-hidden',
    accept: 'image/*,application/pdf,text/plain',
  });
  private readonly status = h('span', { class: 'connection', role: 'status' });
  private attachments: File[] = [];
  private lastTyping = 0;

  constructor(private readonly view: ConversationView) {
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => {
      this.suggest();
      const now = Date.now();
      if (view.room && now - this.lastTyping > 2000 && this.input.value.trim()) {
        this.lastTyping = now;
        view.store.client.typing(view.room).catch(() => undefined);
      }
    });
    this.fileInput.addEventListener('change', () => {
      for (const file of this.fileInput.files ?? []) this.addFile(file);
      this.fileInput.value = '';
    });
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.element.append(
      this.replyBar,
      this.files,
      this.error,
      this.suggestions,
      h(
        'div',
        { class: 'composer-row' },
        h('label', { for: 'attach', class: 'icon attach', title: 'Attach a file', 'aria-label': 'Attach a file' }, icon('attach')),
        this.fileInput,
        this.input,
        h('button', { type: 'submit', class: 'primary send', 'aria-label': 'Send' }, 'Send'),
      ),
      this.status,
    );
  }

  reset(): void {
    this.input.value = '';
    this.attachments = [];
    this.error.textContent = '';
    this.renderFiles();
    this.renderReply();
    this.renderStatus();
  }

  focus(): void {
    this.input.focus();
  }

  renderStatus(): void {
    const status = this.view.store.status;
    this.status.textContent =
      status === 'open'
        ? ''
        : status === 'reconnecting' || status === 'connecting'
          ? 'Reconnecting… messages will be sent when the connection is back.'
          : status;
  }

  renderReply(): void {
    const message = this.view.replyTo;
    this.replyBar.hidden = !message;
    if (!message) return;
    this.replyBar.replaceChildren(
      h('span', {}, `Replying to ${message.sender_name ?? message.sender_id}: `, h('em', {}, message.body.slice(0, 80))),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Cancel reply', onclick: () => this.cancelReply() }, icon('close')),
    );
  }

  private cancelReply(): void {
    this.view.replyTo = null;
    this.renderReply();
  }

  private addFile(file: File): void {
    const max = this.view.store.config.attachment_max_bytes;
    if (file.size > max) {
      this.error.textContent = `${file.name} is ${formatBytes(file.size)}; files can be at most ${formatBytes(max)}.`;
      return;
    }
    this.error.textContent = '';
    this.attachments.push(file);
    this.renderFiles();
  }

  private renderFiles(): void {
    this.files.replaceChildren(
      ...this.attachments.map((file, index) =>
        h(
          'div',
          { class: 'file-preview' },
          file.type.startsWith('image/')
            ? h('img', { src: URL.createObjectURL(file), alt: `Preview of ${file.name}` })
            : h('span', {}, `📎 ${file.name}`),
          h(
            'button',
            {
              type: 'button',
              class: 'icon',
              'aria-label': `Remove ${file.name}`,
              onclick: () => {
                this.attachments.splice(index, 1);
                this.renderFiles();
              },
            },
            icon('close'),
          ),
        ),
      ),
    );
  }

  /** After "@" and a few letters, members whose name starts with them. */
  private suggest(): void {
    const match = /@([\p{L}\p{N}_.-]{1,30})$/u.exec(this.input.value.slice(0, this.input.selectionStart ?? undefined));
    const roomId = this.view.room;
    const members = roomId ? (this.view.store.members.get(roomId) ?? []) : [];
    const query = match?.[1]?.toLowerCase();
    const found = query
      ? members.filter((m) => m.user_id !== this.view.store.me && (m.name ?? m.user_id).toLowerCase().startsWith(query)).slice(0, 5)
      : [];
    this.suggestions.hidden = found.length === 0;
    this.suggestions.replaceChildren(
      ...found.map((member) =>
        h(
          'li',
          { role: 'option' },
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                const name = member.name ?? member.user_id;
                this.input.value = this.input.value.replace(/@[\p{L}\p{N}_.-]{1,30}$/u, `@${name} `);
                this.suggestions.hidden = true;
                this.input.focus();
              },
            },
            member.name ?? member.user_id,
          ),
        ),
      ),
    );
  }

  private submit(): void {
    const roomId = this.view.room;
    const body = this.input.value.trim();
    if (!roomId || (!body && this.attachments.length === 0)) return;
    const members = this.view.store.members.get(roomId) ?? [];
    const mentions = members.filter((m) => body.includes(`@${m.name ?? m.user_id}`)).map((m) => m.user_id);
    const replyTo = this.view.replyTo?.id;
    const files = this.attachments;
    this.input.value = '';
    this.attachments = [];
    this.view.replyTo = null;
    this.renderFiles();
    this.renderReply();
    const extra = { ...(replyTo ? { reply_to: replyTo } : {}), ...(mentions.length ? { mentions } : {}) };
    if (files.length === 0) {
      this.view.store.send(roomId, body, extra);
      return;
    }
    Promise.all(files.map((file) => this.view.store.upload(roomId, file))).then(
      (ids) => this.view.store.send(roomId, body, { ...extra, attachment_ids: ids }),
      (error: unknown) => {
        this.error.textContent = `Upload failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  }
}
