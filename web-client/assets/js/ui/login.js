// Log in: the only view that works without a session.

import { login, ProblemError, session, setup } from '../api.js';
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

/**
 * The first start: the server has no user yet. Asks for the one-time setup token it printed on
 * its console and the first admin's name and password, then logs in as them.
 * @param {() => void} done
 */
export function setupView(done) {
  const error = h('p', { class: 'error', role: 'alert', id: 'setup-error' });
  const token = h('input', { id: 'setup-token', name: 'setup-token', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', value: 'admin' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const again = h('input', { id: 'password-again', name: 'password-again', type: 'password', autocomplete: 'new-password', required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create the admin and log in');
  const form = h('form', {
    class: 'login', 'aria-describedby': 'setup-error',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      if (pass.value !== again.value) {
        error.textContent = 'The two passwords differ.';
        again.focus();
        return;
      }
      button.disabled = true;
      try {
        await setup(token.value.trim(), user.value.trim(), pass.value);
        done();
      } catch (err) {
        error.textContent = err instanceof ProblemError ? err.problem.detail
          : `Could not reach the server: ${String(err)}`;
        button.disabled = false;
      }
    },
  },
  h('h1', {}, 'Welcome to Quire'),
  h('p', { class: 'notice' }, 'This server has no users yet. Create the first admin with the one-time setup token that Quire printed when it started (in its console output; under systemd, journalctl -u quire shows it).'),
  h('label', { for: 'setup-token' }, 'Setup token', token),
  h('label', { for: 'username' }, 'Admin username', user),
  h('label', { for: 'password' }, 'Password', pass),
  h('label', { for: 'password-again' }, 'Password again', again),
  button,
  error);
  show('Set up Quire', form);
  token.focus();
}
