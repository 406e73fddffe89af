// The history of a post (its events) and any older version of it. Needs the network.

import { getJson, ProblemError } from '../api.js';
import { render } from '../markdown.js';
import { h, show, when } from './dom.js';

/** @typedef {import('../types.js').Post} Post */
/** @typedef {{seq: number, version: number, type: string, actor: string, at: string}} HistoryEvent */

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
          h('span', { class: 'hint' }, `${e.actor}, ${when(e.at)}`)))));
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
