// Log in: the only view that works without a session.

import { login, ProblemError, session } from '../api.js';
import { h, show } from './dom.js';

/** @param {() => void} done */
export async function loginView(done) {
  const s = await session();
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', value: s?.username ?? '' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', {
    class: 'login', 'aria-describedby': 'login-error',
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.textContent = '';
      try {
        await login(user.value.trim(), pass.value);
        done();
      } catch (err) {
        error.textContent = err instanceof ProblemError ? err.problem.detail
          : navigator.onLine ? `Could not reach the server: ${String(err)}` : 'You are offline; log in once you are back online. Your unsent changes are kept.';
        button.disabled = false;
        pass.focus();
      }
    },
  },
  h('h1', {}, 'Log in to Quire'),
  s?.username ? h('p', { class: 'notice' }, 'Your session ended. Log in again; changes waiting in the outbox are sent right after.') : null,
  h('label', { for: 'username' }, 'Username', user),
  h('label', { for: 'password' }, 'Password', pass),
  button,
  error);
  show('Log in', form);
  (s?.username ? pass : user).focus();
}
