import { ConversationView } from './conversation.js';
import { byId, h } from './dom.js';
import { renderRoomList } from './room-list.js';
import { renderSignIn } from './signin.js';
import { ChatStore, type WebConfig } from './store.js';

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

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

function renderApp(root: HTMLElement, store: ChatStore): void {
  const list = h('ul', { class: 'room-list', 'aria-label': 'Conversations' });
  const conversation = new ConversationView(store, () => void open(null));
  const shell = h(
    'div',
    { class: 'shell' },
    h(
      'nav',
      { class: 'sidebar', 'aria-label': 'Conversations' },
      h(
        'header',
        { class: 'sidebar-header' },
        h('h1', {}, 'Chat'),
        h('button', { class: 'primary', onclick: () => openNewRoomDialog(store, (id) => void open(id)) }, 'New chat'),
        h('button', { class: 'link', onclick: signOut }, 'Sign out'),
      ),
      list,
    ),
    h('main', { class: 'main' }, conversation.element),
  );
  root.replaceChildren(shell);
  const open = async (roomId: string | null) => {
    shell.classList.toggle('showing-room', roomId !== null);
    conversation.mount(roomId);
    await store.open(roomId);
    conversation.mount(roomId);
    if (roomId) conversation.focusComposer();
    else (list.querySelector('button.room') as HTMLElement | null)?.focus();
  };
  store.onChange((change) => {
    if (change === 'rooms' || change === 'room') renderRoomList(list, store, (id) => void open(id));
    conversation.update(change);
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
