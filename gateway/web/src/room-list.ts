import type { Room } from '@chat/shared';
import { h } from './dom.js';
import type { ChatStore } from './store.js';

function preview(room: Room): string {
  const message = room.last_message;
  if (!message) return 'No messages yet';
  if (message.deleted_at) return 'Message deleted';
  const text = message.body || (message.kind === 'image' ? '📷 Photo' : message.kind === 'file' ? '📎 File' : '');
  return room.kind === 'direct' ? text : `${message.sender_name ?? message.sender_id}: ${text}`;
}

/** The room list: most recent activity first, with unread badges, previews and presence dots. */
export function renderRoomList(list: HTMLElement, store: ChatStore, onOpen: (roomId: string) => void): void {
  const items = store.rooms.map((room) => {
    const unread = store.unread.get(room.id) ?? 0;
    const others = [...(store.online.get(room.id) ?? [])].filter((u) => u !== store.me);
    const online = others.length > 0;
    const title = room.title ?? 'Untitled';
    const muted = room.me.muted_until !== null && new Date(room.me.muted_until) > new Date();
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: `room${room.id === store.activeRoomId ? ' active' : ''}`,
          'aria-current': room.id === store.activeRoomId ? 'true' : undefined,
          'data-room-id': room.id,
          onclick: () => onOpen(room.id),
        },
        h('span', { class: `avatar${online ? ' online' : ''}`, 'aria-hidden': 'true' }, initials(title), h('span', { class: 'presence' })),
        h(
          'span',
          { class: 'room-text' },
          h('span', { class: 'room-title' }, title, muted ? h('span', { class: 'muted-icon', title: 'Muted' }, ' 🔕') : null),
          h('span', { class: 'room-preview' }, preview(room)),
        ),
        // The name is the visible text plus what the badge and dot show (WCAG 2.5.3: a label
        // that replaced the visible text would not match what speech-input users see).
        unread || online
          ? h('span', { class: 'visually-hidden' }, `${unread ? `, ${unread} unread` : ''}${online ? ', online' : ''}`)
          : null,
        unread > 0 ? h('span', { class: 'badge', 'aria-hidden': 'true' }, unread > 99 ? '99+' : unread) : null,
      ),
    );
  });
  list.replaceChildren(...(items.length ? items : [h('li', { class: 'empty' }, 'No rooms yet. Start one with “New chat”.')]));
}

export function initials(title: string): string {
  const words = title.trim().split(/\s+/).filter(Boolean);
  return ((words[0]?.[0] ?? '?') + (words[1]?.[0] ?? '')).toUpperCase();
}
