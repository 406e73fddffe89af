// The history of a post (its events) and any older version of it. Needs the network. A
// conflict copy (the losing side of a conflict, kept in the history) can be brought back here.

import { authed, getJson, problemOf, ProblemError } from '../api.js';
import { render } from '../markdown.js';
import { newKey } from '../outbox.js';
import { h, show, toast, when } from './dom.js';
import { changed } from './sync.js';

/** @typedef {import('../types.js').Post} Post */
/** @typedef {{seq: number, version: number, type: string, actor: string, at: string, data: {copy?: {title?: string}}}} HistoryEvent */

/** @param {unknown} e */
function failure(e) {
  return e instanceof ProblemError ? e.problem.detail : 'The history needs a connection to the server.';
}

/** @param {string} id */
export async function historyView(id) {
  show('History', h('h1', {}, 'History'), h('p', {}, 'Loading…'));
  try {
    const [post, hist] = await Promise.all([
      getJson(`/posts/${encodeURIComponent(id)}`),
      getJson(`/posts/${encodeURIComponent(id)}/history`),
    ]);
    const p = /** @type {Post} */ (post);
    const events = /** @type {{events: HistoryEvent[]}} */ (hist).events;
    show(`History of ${p.title}`,
      h('h1', {}, `History of “${p.title}”`),
      h('p', {}, h('a', { href: `#/edit/${encodeURIComponent(id)}` }, 'Back to the editor')),
      h('ol', { class: 'history', reversed: true },
        [...events].reverse().map((e) => h('li', {},
          h('a', { href: `#/history/${encodeURIComponent(id)}/${e.version}` }, `Version ${e.version}`),
          h('span', { class: 'badge' }, e.type.replace(/^Post/, '').toLowerCase()),
          h('span', { class: 'hint' }, `${e.actor}, ${when(e.at)}`),
          e.type === 'PostConflictCopy' ? copyActions(id, e) : null))));
  } catch (e) {
    show('History', h('h1', {}, 'History'), h('p', { class: 'error', role: 'alert' }, failure(e)));
  }
}

/** @param {string} id @param {number} n */
export async function versionView(id, n) {
  try {
    const p = /** @type {Post} */ (await getJson(`/posts/${encodeURIComponent(id)}/versions/${n}`));
    const prose = h('div', { class: 'prose', id: 'version-preview' });
    prose.innerHTML = render(p.body);
    show(`Version ${n} of ${p.title}`,
      h('h1', {}, `Version ${n}: “${p.title}”`),
      h('p', { class: 'hint' }, `${p.status}, tags ${p.tags.join(', ') || '—'}, changed ${when(p.updated_at)}`),
      h('p', {}, h('a', { href: `#/history/${encodeURIComponent(id)}` }, 'Back to the history')),
      prose,
      h('details', {}, h('summary', {}, 'Markdown'), h('pre', {}, p.body)));
  } catch (e) {
    show('Version', h('h1', {}, 'Version'), h('p', { class: 'error', role: 'alert' }, failure(e)));
  }
}

/**
 * What a conflict copy in the history offers: what it kept, and a button to bring it back (its
 * fields, merged with what changed since).
 * @param {string} id
 * @param {HistoryEvent} e
 */
function copyActions(id, e) {
  const title = e.data.copy?.title;
  const button = h('button', { type: 'button', class: 'restore-copy', 'data-version': e.version, onclick: async () => {
    button.disabled = true;
    try {
      const res = await authed(`/posts/${encodeURIComponent(id)}/conflict-copies/${e.version}/restore`,
        { method: 'POST', headers: { 'Idempotency-Key': newKey() } });
      if (!res.ok) throw new ProblemError(await problemOf(res));
      changed();
      toast('Your version is back in the post.');
      location.hash = `#/edit/${encodeURIComponent(id)}`;
    } catch (err) {
      button.disabled = false;
      toast(err instanceof ProblemError && err.problem.status === 409
        ? 'It overlaps with changes made since; open the post and copy what you need from this version.'
        : failure(err));
    }
  } }, 'Bring it back');
  return h('span', { class: 'copy' }, title ? ` your version “${title}” ` : ' your version ', button);
}
