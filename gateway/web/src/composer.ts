import type { Message } from '@chat/shared';
import { formatBytes, h } from './dom.js';
import { icon } from './icons.js';
import type { ChatStore } from './store.js';
import { type Upload, uploadFile } from './uploads.js';

/** A file added to the composer: its upload starts at once, so sending only waits for the rest. */
interface PendingFile {
  file: File;
  upload: Upload;
  /** The attachment id once uploaded. */
  id?: string;
  error?: string;
  progress: HTMLProgressElement;
  preview: HTMLElement;
}

/** What the composer reads from and writes to the open conversation. */
export interface ComposerHost {
  readonly store: ChatStore;
  readonly room: string | null;
  /** The message being replied to; the composer clears it once sent or cancelled. */
  replyTo: Message | null;
  /** In a thread panel: the root every message sent here replies under (DESIGN 10.5). */
  readonly threadRootId?: string | null;
}

/** How one composer differs from another on the page (ids must be unique). */
export interface ComposerLabels {
  id: string;
  attachId: string;
  label: string;
  placeholder: string;
}

const CONVERSATION: ComposerLabels = { id: 'composer', attachId: 'attach', label: 'Message', placeholder: 'Write a message…' };

/**
 * The composer: text with mention suggestions, reply bar, attachments (picked, pasted or dropped
 * on the conversation) checked before upload and uploaded at once with a progress bar.
 */
export class Composer {
  readonly element: HTMLFormElement;
  private readonly replyBar = h('div', { class: 'reply-bar', hidden: true });
  private readonly files = h('div', { class: 'files' });
  private readonly error = h('p', { class: 'form-error', role: 'alert' });
  private readonly input: HTMLTextAreaElement;
  private readonly suggestions = h('ul', { class: 'suggestions', 'aria-label': 'Mention someone', hidden: true });
  private readonly fileInput: HTMLInputElement;
  private readonly status = h('span', { class: 'connection', role: 'status' });
  private attachments: PendingFile[] = [];
  private lastTyping = 0;
  /** Keyboard path out of the composer (ArrowUp on an empty composer: the last message). */
  onArrowUpEmpty: () => void = () => undefined;

  constructor(
    private readonly view: ComposerHost,
    labels: ComposerLabels = CONVERSATION,
  ) {
    this.element = h('form', { class: 'composer', 'aria-label': labels.id === CONVERSATION.id ? 'Write a message' : labels.label });
    this.input = h('textarea', {
      id: labels.id,
      rows: 1,
      'aria-label': labels.label,
      placeholder: labels.placeholder,
      maxlength: 4000,
      autocomplete: 'off',
    });
    this.fileInput = h('input', {
      type: 'file',
      id: labels.attachId,
      class: 'visually-hidden',
      accept: 'image/*,application/pdf,text/plain',
      multiple: true,
      // The "Attach a file" button is the keyboard's way in; the input itself stays out of the tab order.
      tabindex: -1,
      'aria-hidden': 'true',
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
      if (event.key === 'ArrowUp' && this.input.value === '' && !event.shiftKey) {
        event.preventDefault();
        this.onArrowUpEmpty();
      }
    });
    // Pasting a screenshot or a copied file attaches it; pasted text is left to the textarea.
    this.input.addEventListener('paste', (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.addFiles(files);
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
      this.addFiles([...(this.fileInput.files ?? [])]);
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
        h(
          'button',
          {
            type: 'button',
            class: 'icon attach',
            title: 'Attach a file',
            'aria-label': 'Attach a file',
            onclick: () => this.fileInput.click(),
          },
          icon('attach'),
        ),
        this.fileInput,
        this.input,
        h('button', { type: 'submit', class: 'primary send', 'aria-label': 'Send' }, 'Send'),
      ),
      this.status,
    );
  }

  reset(): void {
    this.input.value = '';
    for (const pending of this.attachments) if (pending.id === undefined) pending.upload.abort();
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

  /** Checks each file's size before any byte is sent, then starts its upload. */
  addFiles(files: readonly File[]): void {
    const roomId = this.view.room;
    if (!roomId) return;
    const max = this.view.store.config.attachment_max_bytes;
    this.error.textContent = '';
    for (const file of files) {
      if (file.size > max) {
        this.error.textContent = `${file.name} is ${formatBytes(file.size)}; files can be at most ${formatBytes(max)}.`;
        continue;
      }
      const progress = h('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
      const preview = h('div', { class: 'file-preview', 'data-state': 'uploading' });
      const store = this.view.store;
      const pending: PendingFile = {
        file,
        progress,
        preview,
        upload: uploadFile(store.config.http_url || location.origin, store.token, roomId, file, (fraction) => {
          progress.value = Math.round(fraction * 100);
          preview.dataset.progress = String(progress.value);
        }),
      };
      pending.upload.done.then(
        (id) => {
          pending.id = id;
          preview.dataset.state = 'uploaded';
          progress.setAttribute('aria-label', `${file.name} uploaded`);
        },
        (failure: unknown) => {
          pending.error = failure instanceof Error ? failure.message : String(failure);
          preview.dataset.state = 'failed';
          if (this.attachments.includes(pending)) this.error.textContent = `Upload of ${file.name} failed: ${pending.error}`;
        },
      );
      this.attachments.push(pending);
    }
    this.renderFiles();
  }

  private renderFiles(): void {
    this.files.replaceChildren(
      ...this.attachments.map((pending) => {
        const { file, preview } = pending;
        preview.replaceChildren(
          file.type.startsWith('image/')
            ? h('img', { src: URL.createObjectURL(file), alt: `Preview of ${file.name}` })
            : h('span', { class: 'file-name' }, `📎 ${file.name}`),
          pending.progress,
          h(
            'button',
            {
              type: 'button',
              class: 'icon',
              'aria-label': `Remove ${file.name}`,
              onclick: () => {
                if (pending.id === undefined) pending.upload.abort();
                this.attachments = this.attachments.filter((p) => p !== pending);
                this.renderFiles();
                this.input.focus();
              },
            },
            icon('close'),
          ),
        );
        return preview;
      }),
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
          {},
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
    const failed = files.find((p) => p.error !== undefined);
    if (failed) {
      this.error.textContent = `Upload of ${failed.file.name} failed: ${failed.error}. Remove it to send.`;
      return;
    }
    this.input.value = '';
    this.attachments = [];
    this.view.replyTo = null;
    this.renderFiles();
    this.renderReply();
    const threadRootId = this.view.threadRootId;
    const extra = {
      ...(replyTo ? { reply_to: replyTo } : {}),
      ...(mentions.length ? { mentions } : {}),
      ...(threadRootId ? { thread_root_id: threadRootId } : {}),
    };
    if (files.length === 0) {
      this.view.store.send(roomId, body, extra);
      return;
    }
    Promise.all(files.map((pending) => pending.upload.done)).then(
      (ids) => this.view.store.send(roomId, body, { ...extra, attachment_ids: ids }),
      (error: unknown) => {
        this.error.textContent = `Upload failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  }
}
