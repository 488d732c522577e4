import { h } from './dom.js';
import type { WebConfig } from './store.js';

/** Sign-in: paste a token from the host application, or (dev servers only) mint one. */
export function renderSignIn(root: HTMLElement, config: WebConfig, onToken: (token: string) => void, problem?: string): void {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' }, problem ?? '');
  const tokenInput = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'signin-error',
  });
  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'signin-title',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = tokenInput.value.trim();
        if (token.split('.').length !== 3) {
          error.textContent = 'That does not look like a token (three parts separated by dots).';
          return;
        }
        onToken(token);
      },
    },
    h('h1', { id: 'signin-title' }, 'Sign in to chat'),
    h('label', { for: 'token' }, 'Access token'),
    tokenInput,
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  const children: Node[] = [form];
  if (config.dev_tokens) {
    const userId = h('input', { id: 'dev-user', name: 'dev-user', required: true, autocomplete: 'username', maxlength: 128 });
    const name = h('input', { id: 'dev-name', name: 'dev-name', autocomplete: 'name', maxlength: 200 });
    children.push(
      h(
        'form',
        {
          class: 'card dev',
          'aria-labelledby': 'dev-title',
          onsubmit: async (event: Event) => {
            event.preventDefault();
            const response = await fetch('/dev/token', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ user_id: userId.value.trim(), ...(name.value.trim() ? { name: name.value.trim() } : {}) }),
            });
            const body = (await response.json()) as { token?: string; detail?: string };
            if (body.token) onToken(body.token);
            else error.textContent = body.detail ?? 'Could not mint a token';
          },
        },
        h('h2', { id: 'dev-title' }, 'Development server'),
        h('p', { class: 'hint' }, 'This server runs with the development secret, so it can mint a token for any user.'),
        h('label', { for: 'dev-user' }, 'User id'),
        userId,
        h('label', { for: 'dev-name' }, 'Display name'),
        name,
        h('button', { type: 'submit' }, 'Get a development token'),
      ),
    );
  }
  root.replaceChildren(h('main', { class: 'signin' }, ...children));
  tokenInput.focus();
}
