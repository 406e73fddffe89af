// Apps and tokens: the API tokens of the logged-in user — those made for scripts and those
// that apps received through IndieAuth ("IndieAuth: <client_id>") — with a way to revoke each.
// Needs the network.

import { authed, getJson, problemOf, ProblemError } from '../api.js';
import { h, show, toast, when } from './dom.js';

/** @typedef {import('../types.js').TokenInfo} TokenInfo */

export async function tokensView() {
  show('Apps and tokens', h('h1', {}, 'Apps and tokens'), h('p', {}, 'Loading…'));
  /** @type {TokenInfo[]} */
  let items;
  try {
    items = /** @type {{items: TokenInfo[]}} */ (await getJson('/tokens')).items;
  } catch (e) {
    show('Apps and tokens', h('h1', {}, 'Apps and tokens'),
      h('p', { class: 'notice warn' }, e instanceof ProblemError ? e.problem.detail : 'The list of tokens needs a connection to the server.'));
    return;
  }
  const list = h('ul', { class: 'tokens', id: 'token-list' }, items.map(row));
  show('Apps and tokens',
    h('h1', {}, 'Apps and tokens'),
    h('p', {}, 'Apps you approved (their name starts with “IndieAuth:”) and tokens for scripts can act for you with the rights listed. Revoke one and it stops working at once.'),
    items.length ? list : h('p', { class: 'empty', id: 'no-tokens' }, 'No app or script has a token.'));
}

/** @param {TokenInfo} token */
function row(token) {
  const revoke = h('button', { type: 'button', class: 'danger', 'data-revoke': token.id, onclick: async () => {
    revoke.disabled = true;
    try {
      const res = await authed(`/tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' });
      if (!res.ok && res.status !== 404) throw new ProblemError(await problemOf(res));
      li.remove();
      toast(`Revoked “${token.name}”.`);
    } catch (e) {
      revoke.disabled = false;
      toast(e instanceof ProblemError ? e.problem.detail : 'Could not reach the server; try again.');
    }
  } }, 'Revoke');
  const li = h('li', { 'data-token': token.id },
    h('span', { class: 'what' }, token.name),
    h('span', { class: 'meta' }, `rights: ${token.scopes.join(', ') || 'none'}`),
    h('span', { class: 'meta' }, `made ${when(token.created_at)}`,
      token.last_used_at ? ` · last used ${when(token.last_used_at)}` : ' · never used',
      token.expires_at ? ` · expires ${when(token.expires_at)}` : ''),
    h('div', { class: 'actions' }, revoke));
  return li;
}
