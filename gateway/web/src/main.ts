import { Attention } from './attention.js';
import { ConversationView } from './conversation.js';
import { byId, h } from './dom.js';
import { openGroupDialog } from './group-dialog.js';
import { icon } from './icons.js';
import { openReportsDialog } from './moderation.js';
import { renderRoomList } from './room-list.js';
import { SearchPanel } from './search.js';
import { renderSignIn } from './signin.js';
import { ChatStore, type WebConfig } from './store.js';
import { ThreadPanel } from './thread-panel.js';

const TOKEN_KEY = 'chat.token';

async function boot(): Promise<void> {
  const root = byId('app');
  const config = (await (await fetch('/config.json')).json()) as WebConfig;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    renderSignIn(root, config, (t) => {
      sessionStorage.setItem(TOKEN_KEY, t);
      void boot();
    });
    return;
  }
  const store = new ChatStore(config, token);
  try {
    await store.start();
  } catch {
    sessionStorage.removeItem(TOKEN_KEY);
    renderSignIn(
      root,
      config,
      (t) => {
        sessionStorage.setItem(TOKEN_KEY, t);
        void boot();
      },
      'That token was not accepted (expired or invalid). Paste a new one.',
    );
    return;
  }
  renderApp(root, store);
}

/**
 * Signs out: the socket closes, the token and this user's unsent messages leave the browser
 * (a shared computer keeps nothing of the session). Unsent messages are named before they go.
 */
function signOut(store: ChatStore): void {
  const unsent = store.client.outbox().filter((e) => e.state !== 'sent').length;
  if (unsent && !confirm(`${unsent} message${unsent === 1 ? ' is' : 's are'} not sent yet and will be discarded. Sign out?`)) return;
  store.signOut();
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

function renderApp(root: HTMLElement, store: ChatStore): void {
  const list = h('ul', { class: 'room-list', 'aria-label': 'Conversations' });
  const conversation = new ConversationView(store, () => void open(null));
  const thread = new ThreadPanel(store, () => closeThread());
  // The panel is in the page only while a thread is open.
  const main = h('main', { class: 'main' }, conversation.element);
  const openThread = async (roomId: string, rootId: string, targetId: string | null = null) => {
    main.classList.add('thread-open');
    main.append(thread.element);
    await thread.open(roomId, rootId, targetId);
    if (!targetId) thread.focusComposer();
  };
  /** Takes the thread panel out of the page. */
  function dismissThread(): void {
    thread.close();
    thread.element.remove();
    main.classList.remove('thread-open');
  }
  function closeThread(): void {
    const rootId = thread.threadRootId;
    dismissThread();
    // Back where the thread was opened from: its root's summary, or the composer.
    const summary = rootId ? main.querySelector<HTMLElement>(`li[data-message-id="${rootId}"] .thread-summary`) : null;
    if (summary) summary.focus();
    else conversation.focusComposer();
  }
  conversation.onOpenThread = (message) => void openThread(message.room_id, message.id);
  const attention = new Attention(store, (id) => void open(id));
  const search = new SearchPanel(
    store,
    (message, terms) =>
      void open(message.room_id, { keepSearch: true }).then(() =>
        // A reply found by search is shown in its thread; anything else in the conversation.
        message.thread_root_id ? openThread(message.room_id, message.thread_root_id, message.id) : conversation.jumpTo(message, terms),
      ),
    (active) => {
      list.hidden = active;
    },
  );
  conversation.onShowMembers = (roomId) => openGroupDialog(store, roomId);
  const flash = h('p', { class: 'flash', role: 'status', 'data-testid': 'flash', hidden: true });
  let flashTimer: ReturnType<typeof setTimeout> | undefined;
  store.onFlash((text) => {
    flash.textContent = text;
    flash.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      flash.hidden = true;
    }, 5000);
  });
  const shell = h(
    'div',
    { class: 'shell' },
    h(
      'nav',
      { class: 'sidebar', 'aria-label': 'Conversations and search' },
      h(
        'header',
        { class: 'sidebar-header' },
        h('h1', {}, 'Chat'),
        attention.enableButton,
        store.isModerator ? h('button', { class: 'reports-button', onclick: () => openReportsDialog(store) }, 'Reports') : null,
        h('button', { class: 'primary', onclick: () => openNewRoomDialog(store, (id) => void open(id)) }, 'New chat'),
        h(
          'button',
          { class: 'icon sign-out', 'aria-label': 'Sign out', title: 'Sign out', onclick: () => signOut(store) },
          icon('signOut'),
        ),
      ),
      search.form,
      search.results,
      list,
    ),
    main,
    attention.announcer,
    flash,
  );
  root.replaceChildren(shell);
  const open = async (roomId: string | null, options: { keepSearch?: boolean } = {}) => {
    shell.classList.toggle('showing-room', roomId !== null);
    if (thread.isOpen && thread.room !== roomId) dismissThread();
    conversation.mount(roomId);
    await store.open(roomId);
    conversation.mount(roomId);
    if (roomId) {
      if (!options.keepSearch) conversation.focusComposer();
    } else if (search.active) search.focus();
    else (list.querySelector('button.room') as HTMLElement | null)?.focus();
  };
  store.onChange((change) => {
    if (change === 'rooms' || change === 'room') renderRoomList(list, store, (id) => void open(id));
    conversation.update(change);
    thread.update(change);
  });
  // Ctrl/Cmd+K searches from anywhere, as in Slack and Mattermost.
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
      event.preventDefault();
      shell.classList.remove('showing-room');
      search.focus();
    }
  });
  renderRoomList(list, store, (id) => void open(id));
  conversation.mount(null);
}

/** New direct chat (one user id) or group (title and members), in a native modal dialog. */
function openNewRoomDialog(store: ChatStore, opened: (roomId: string) => void): void {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const kind = h('select', { id: 'new-kind' }, h('option', { value: 'direct' }, 'Direct chat'), h('option', { value: 'group' }, 'Group'));
  const who = h('input', { id: 'new-who', required: true, autocomplete: 'off', placeholder: 'user id, or several separated by commas' });
  const title = h('input', { id: 'new-title', maxlength: 200, autocomplete: 'off' });
  const titleRow = h('div', { class: 'field', hidden: true }, h('label', { for: 'new-title' }, 'Group name'), title);
  kind.addEventListener('change', () => {
    titleRow.hidden = kind.value !== 'group';
  });
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'new-room-title' },
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const ids = who.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const body =
            kind.value === 'direct' ? { kind: 'direct', user_id: ids[0] } : { kind: 'group', title: title.value, member_ids: ids };
          try {
            const room = await store.createRoom(body);
            dialog.close();
            dialog.remove();
            opened(room.id);
          } catch (failure) {
            error.textContent = failure instanceof Error ? failure.message : String(failure);
          }
        },
      },
      h('h2', { id: 'new-room-title' }, 'New chat'),
      h('div', { class: 'field' }, h('label', { for: 'new-kind' }, 'Kind'), kind),
      titleRow,
      h('div', { class: 'field' }, h('label', { for: 'new-who' }, 'With (user ids)'), who),
      error,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => closeDialog() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Start'),
      ),
    ),
  );
  function closeDialog() {
    dialog.close();
    dialog.remove();
  }
  document.body.append(dialog);
  dialog.showModal();
  who.focus();
}

void boot();
