import type { Member, Role, Room } from '@chat/shared';
import { h } from './dom.js';
import type { ChatStore } from './store.js';

const ROLES: Role[] = ['owner', 'admin', 'member'];
const ROLE_NAMES: Record<Role, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };

/**
 * Members and settings of a group, as a native modal dialog (focus trapped, Escape closes). What
 * is offered follows DESIGN 5 and the rooms service's policy: owners and admins rename and add;
 * owners change roles and remove anyone; admins remove plain members; anyone leaves. The server
 * still decides: a refusal is shown in the dialog. Context rooms are managed by their host
 * application, so they only list their members.
 */
export function openGroupDialog(store: ChatStore, roomId: string): void {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const memberList = h('ul', { class: 'member-list', 'aria-label': 'Members' });
  const body = h('div', { class: 'group-body' });
  const heading = h('h2', { id: 'group-dialog-title' });
  const dialog = h(
    'dialog',
    { class: 'group-dialog', 'aria-labelledby': 'group-dialog-title' },
    h(
      'div',
      { class: 'dialog-content' },
      heading,
      body,
      error,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'close-dialog', onclick: () => close() }, 'Close')),
    ),
  );
  const close = () => {
    dialog.close();
  };
  dialog.addEventListener('close', () => {
    dialog.remove();
    unsubscribe();
  });

  /** Runs an action; a refusal shows its reason and leaves the dialog open. */
  const act = async (action: () => Promise<void>, done?: string) => {
    error.textContent = '';
    try {
      await action();
      if (done) status.textContent = done;
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  };
  const status = h('p', { class: 'visually-hidden', role: 'status' });

  const render = () => {
    const room = store.rooms.find((r) => r.id === roomId);
    if (!room) {
      close();
      return;
    }
    heading.textContent = room.title ?? 'Group';
    const members = store.members.get(roomId) ?? [];
    const manage = room.kind === 'group';
    const isManager = manage && (room.me.role === 'owner' || room.me.role === 'admin');
    rename.form.hidden = !isManager;
    // The field is left alone while someone edits it: events re-render the dialog at any time.
    if (document.activeElement !== rename.input && !rename.input.dataset.edited) rename.input.value = room.title ?? '';
    add.hidden = !isManager;
    leave.hidden = !manage;
    managedElsewhere.hidden = manage;
    membersHeading.textContent = `Members (${members.length || room.member_count})`;
    // Keep focus where it was across a re-render of the list (a role changed, a member added).
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    memberList.replaceChildren(...sortMembers(members).map((member) => memberRow(room, member)));
    if (focusKey && document.activeElement === document.body)
      memberList.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  };

  const memberRow = (room: Room, member: Member): HTMLElement => {
    const self = member.user_id === store.me;
    const name = member.name ?? member.user_id;
    const canChangeRole = room.kind === 'group' && room.me.role === 'owner';
    const canRemove =
      !self && room.kind === 'group' && (room.me.role === 'owner' || (room.me.role === 'admin' && member.role === 'member'));
    const controls: Node[] = [];
    if (canChangeRole) {
      const select = h(
        'select',
        { 'aria-label': `Role of ${name}`, 'data-focus-key': `role:${member.user_id}` },
        ...ROLES.map((role) => h('option', { value: role, selected: role === member.role }, ROLE_NAMES[role])),
      );
      select.addEventListener('change', () => {
        const role = select.value as Role;
        if (self && member.role === 'owner' && role !== 'owner' && !confirm('Give up being an owner of this group?')) {
          select.value = member.role;
          return;
        }
        void act(() => store.changeRole(roomId, member.user_id, role), `${name} is now ${ROLE_NAMES[role].toLowerCase()}.`);
      });
      controls.push(select);
    } else controls.push(h('span', { class: 'role' }, ROLE_NAMES[member.role]));
    if (canRemove)
      controls.push(
        h(
          'button',
          {
            type: 'button',
            class: 'link danger',
            'aria-label': `Remove ${name}`,
            'data-focus-key': `remove:${member.user_id}`,
            onclick: () => {
              if (!confirm(`Remove ${name} from the group?`)) return;
              void act(() => store.removeMember(roomId, member.user_id), `${name} was removed.`);
            },
          },
          'Remove',
        ),
      );
    return h(
      'li',
      { class: 'member', 'data-user-id': member.user_id },
      h(
        'span',
        { class: 'member-name' },
        name,
        self ? h('span', { class: 'you' }, ' (you)') : null,
        member.name ? h('span', { class: 'member-id' }, member.user_id) : null,
      ),
      h('span', { class: 'member-controls' }, ...controls),
    );
  };

  const renameForm = () => {
    const input = h('input', { id: 'group-name', maxlength: 200, required: true, autocomplete: 'off' });
    input.addEventListener('input', () => {
      input.dataset.edited = '1';
    });
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const title = input.value.trim();
          if (!title) return;
          void act(async () => {
            await store.renameRoom(roomId, title);
            delete input.dataset.edited;
          }, `Renamed to ${title}.`);
        },
      },
      h('label', { for: 'group-name' }, 'Group name'),
      h('span', { class: 'inline-row' }, input, h('button', { type: 'submit' }, 'Rename')),
    );
    return { form, input };
  };

  const addForm = (): HTMLElement => {
    const input = h('input', {
      id: 'add-members',
      autocomplete: 'off',
      placeholder: 'user ids, separated by commas',
    });
    return h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const ids = input.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          if (!ids.length) return;
          void act(
            async () => {
              await store.addMembers(roomId, ids);
              input.value = '';
            },
            `Added ${ids.join(', ')}.`,
          );
        },
      },
      h('label', { for: 'add-members' }, 'Add people'),
      h('span', { class: 'inline-row' }, input, h('button', { type: 'submit' }, 'Add')),
    );
  };

  const rename = renameForm();
  const add = addForm();
  const membersHeading = h('h3', { id: 'members-heading' });
  const leave = h(
    'button',
    {
      type: 'button',
      class: 'danger leave',
      onclick: () => {
        const title = store.rooms.find((r) => r.id === roomId)?.title ?? 'this group';
        if (!confirm(`Leave “${title}”? You will stop receiving its messages.`)) return;
        void act(async () => {
          await store.removeMember(roomId, store.me ?? '');
          close();
        });
      },
    },
    'Leave group',
  );
  const managedElsewhere = h('p', { class: 'hint' }, 'The application this conversation belongs to manages its members.');
  body.append(rename.form, membersHeading, memberList, add, leave, managedElsewhere, status);
  memberList.setAttribute('aria-labelledby', 'members-heading');
  memberList.removeAttribute('aria-label');

  const unsubscribe = store.onChange((change) => {
    if (change === 'rooms' || change === 'messages') render();
  });
  document.body.append(dialog);
  render();
  dialog.showModal();
  store.loadMembers(roomId).then(render, (failure: unknown) => {
    error.textContent = failure instanceof Error ? failure.message : String(failure);
  });
}

/** Owners first, then admins, then members, each by name. */
function sortMembers(members: readonly Member[]): Member[] {
  return [...members].sort(
    (a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || (a.name ?? a.user_id).localeCompare(b.name ?? b.user_id),
  );
}
