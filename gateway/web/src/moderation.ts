import type { Message, ModerationReport, ReportReason, ReportStatus } from '@chat/shared';
import { formatDateTime, h } from './dom.js';
import type { ChatStore } from './store.js';

const REASONS: Array<[ReportReason, string]> = [
  ['spam', 'Spam'],
  ['harassment', 'Harassment'],
  ['inappropriate', 'Inappropriate'],
  ['other', 'Something else'],
];
const NOTE_MAX = 1000;

/** A native modal dialog that removes itself when closed (Escape included). */
function modal(titleId: string, className: string, ...content: Array<Node | null>): HTMLDialogElement {
  const dialog = h('dialog', { class: className, 'aria-labelledby': titleId }, ...content);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const messageOf = (failure: unknown) => (failure instanceof Error ? failure.message : String(failure));

/**
 * "Report" from a message's menu (DESIGN 10.3): a reason and an optional note. Reporting the same
 * message again is answered with the first report, so the dialog says so instead of failing.
 */
export function openReportDialog(store: ChatStore, message: Message): void {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const reason = h('select', { id: 'report-reason' }, ...REASONS.map(([value, label]) => h('option', { value }, label)));
  const note = h('textarea', { id: 'report-note', rows: 3, maxlength: NOTE_MAX, placeholder: 'What happened (optional)' });
  const sender = message.sender_name ?? message.sender_id;
  const dialog = modal(
    'report-title',
    'report-dialog',
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (event: Event) => {
          event.preventDefault();
          error.textContent = '';
          try {
            const text = note.value.trim();
            await store.client.report(message.room_id, message.id, reason.value as ReportReason, text || undefined);
            store.flash('Reported. A moderator will look at it.');
            dialog.close();
          } catch (failure) {
            error.textContent = messageOf(failure);
          }
        },
      },
      h('h2', { id: 'report-title' }, `Report a message from ${sender}`),
      h('blockquote', { class: 'quote' }, message.body || '📎 Attachment'),
      h('div', { class: 'field' }, h('label', { for: 'report-reason' }, 'Reason'), reason),
      h('div', { class: 'field' }, h('label', { for: 'report-note' }, 'Note for the moderators'), note),
      error,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Report'),
      ),
    ),
  );
  reason.focus();
}

/** Blocks or unblocks a message's sender, asking first (a block is felt by the other person). */
export async function toggleBlock(store: ChatStore, userId: string, name: string): Promise<void> {
  if (store.blocked.has(userId)) {
    await store.unblock(userId);
    store.flash(`${name} is unblocked.`);
    return;
  }
  if (
    !confirm(
      `Block ${name}? They can no longer write to you directly, you get no notifications from them, and their group messages are hidden here.`,
    )
  )
    return;
  await store.block(userId);
  store.flash(`${name} is blocked.`);
}

/**
 * The moderators' queue (moderator and service tokens): reports by status, oldest first, each with
 * the message as it was reported, to resolve or dismiss.
 */
export function openReportsDialog(store: ChatStore): void {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const list = h('ul', { class: 'report-list', 'aria-label': 'Reports' });
  const status = h(
    'select',
    { id: 'reports-status' },
    h('option', { value: 'open' }, 'Open'),
    h('option', { value: 'resolved' }, 'Resolved'),
    h('option', { value: 'dismissed' }, 'Dismissed'),
  );
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor: string | null = null;

  const item = (report: ModerationReport) =>
    h(
      'li',
      { class: 'report', 'data-report-id': report.id },
      h(
        'p',
        { class: 'report-head' },
        h('strong', {}, REASONS.find(([r]) => r === report.reason)?.[1] ?? report.reason),
        ` · reported by ${report.reporter_id} · `,
        h('time', { datetime: report.created_at }, formatDateTime(report.created_at)),
      ),
      h(
        'blockquote',
        { class: 'quote' },
        h('span', { class: 'quote-sender' }, report.message.sender_name ?? report.message.sender_id),
        h('span', {}, report.message.body || '📎 Attachment'),
      ),
      report.note ? h('p', { class: 'report-note' }, report.note) : null,
      report.status === 'open'
        ? h(
            'div',
            { class: 'dialog-actions' },
            h('button', { type: 'button', onclick: () => void decide(report, 'dismissed') }, 'Dismiss'),
            h('button', { type: 'button', class: 'primary', onclick: () => void decide(report, 'resolved') }, 'Resolve'),
          )
        : h('p', { class: 'report-status' }, report.status === 'resolved' ? 'Resolved' : 'Dismissed'),
    );

  const load = async (append: boolean) => {
    error.textContent = '';
    try {
      const page = await store.client.reports({
        status: status.value as ReportStatus,
        limit: 20,
        ...(append && cursor ? { cursor } : {}),
      });
      if (!append) list.replaceChildren();
      list.append(...page.items.map(item));
      if (!list.children.length) list.append(h('li', { class: 'empty' }, 'No reports here.'));
      cursor = page.next_cursor;
      more.hidden = cursor === null;
    } catch (failure) {
      error.textContent = messageOf(failure);
    }
  };
  const decide = async (report: ModerationReport, to: 'resolved' | 'dismissed') => {
    error.textContent = '';
    try {
      await store.client.updateReport(report.id, to);
      list.querySelector(`[data-report-id="${report.id}"]`)?.remove();
      if (!list.children.length) list.append(h('li', { class: 'empty' }, 'No reports here.'));
      store.flash(to === 'resolved' ? 'Report resolved.' : 'Report dismissed.');
    } catch (failure) {
      error.textContent = messageOf(failure);
    }
  };
  status.addEventListener('change', () => void load(false));
  more.addEventListener('click', () => void load(true));

  const dialog = modal(
    'reports-title',
    'reports-dialog',
    h(
      'div',
      { class: 'dialog-content' },
      h('h2', { id: 'reports-title' }, 'Reports'),
      h('div', { class: 'field' }, h('label', { for: 'reports-status' }, 'Status'), status),
      list,
      more,
      error,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Close')),
    ),
  );
  void load(false);
}
