import type { Message, Room } from '@chat/shared';
import { h } from './dom.js';
import type { ChatStore } from './store.js';

const BASE_TITLE = 'Chat';

/** What a message says in one line (for a notification or a screen reader). */
export function gist(message: Message): string {
  if (message.body) return message.body.length > 140 ? `${message.body.slice(0, 140)}…` : message.body;
  return message.kind === 'image' ? 'sent a photo' : 'sent a file';
}

/** Whether my settings for the room let a message through (mute, and "mentions only" / "none"). */
export function wantsNotification(room: Room, message: Message, me: string | undefined): boolean {
  if (room.me.muted_until !== null && new Date(room.me.muted_until) > new Date()) return false;
  if (room.me.notify === 'none') return false;
  if (room.me.notify === 'mentions') return me !== undefined && message.mentions.includes(me);
  return true;
}

/**
 * What draws a user back: the unread total in the page title, a browser notification for a new
 * message while the tab is hidden (after the user allowed them with the "Notify me" button; the
 * browser only asks after a click), and a polite live region that reads new messages of the open
 * room to screen readers (the message list itself is re-rendered on every change, so it cannot
 * be a live region without repeating everything).
 */
export class Attention {
  readonly announcer = h('div', { id: 'announcer', class: 'visually-hidden', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  readonly enableButton = h('button', { type: 'button', class: 'link enable-notifications' }, 'Notify me');
  private readonly notifications = new Map<string, Notification>();

  constructor(
    private readonly store: ChatStore,
    private readonly openRoom: (roomId: string) => void,
  ) {
    this.enableButton.addEventListener('click', () => {
      void Notification.requestPermission().then(() => this.renderButton());
    });
    this.renderButton();
    store.onChange((change) => {
      if (change === 'rooms') this.renderTitle();
    });
    store.onIncoming((roomId, message) => this.incoming(roomId, message));
    // Back on the page: its notifications have done their job.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      for (const notification of this.notifications.values()) notification.close();
      this.notifications.clear();
    });
    this.renderTitle();
  }

  private renderButton(): void {
    this.enableButton.hidden = !('Notification' in globalThis) || Notification.permission !== 'default';
  }

  renderTitle(): void {
    const total = this.store.totalUnread;
    document.title = total > 0 ? `(${total > 99 ? '99+' : total}) ${BASE_TITLE}` : BASE_TITLE;
  }

  private incoming(roomId: string, message: Message): void {
    const room = this.store.rooms.find((r) => r.id === roomId);
    const sender = message.sender_name ?? message.sender_id;
    if (roomId === this.store.activeRoomId && document.visibilityState === 'visible') {
      this.announce(`${sender}: ${gist(message)}`);
      return;
    }
    if (document.visibilityState === 'visible' || !room || !wantsNotification(room, message, this.store.me)) return;
    if (!('Notification' in globalThis) || Notification.permission !== 'granted') return;
    const title = room.kind === 'direct' ? sender : `${sender} in ${room.title ?? 'a group'}`;
    // One notification per room (the tag replaces the previous one), as chat apps do.
    const notification = new Notification(title, { body: gist(message), tag: roomId });
    notification.addEventListener('click', () => {
      globalThis.focus();
      this.openRoom(roomId);
      notification.close();
    });
    this.notifications.set(roomId, notification);
  }

  /** Adds a line to the live region; older lines are dropped (they have been read). */
  announce(text: string): void {
    this.announcer.append(h('p', {}, text));
    while (this.announcer.childElementCount > 3) this.announcer.firstElementChild?.remove();
  }
}
