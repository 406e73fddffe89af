// The post list: everything this device knows (server posts, posts written offline, unsaved
// drafts), filtered by title, status and tag without a round trip, so it works offline too.

import { entries, refreshCache } from '../posts.js';
import { h, main, show, when } from './dom.js';

/** @typedef {import('../posts.js').Entry} Entry */

/** Filter values survive re-renders within a session. */
const filters = { q: '', status: '', tag: '' };

export async function listView() {
  const list = h('ul', { class: 'posts', id: 'post-list', 'aria-live': 'polite' });
  const q = h('input', { type: 'search', id: 'search', value: filters.q, placeholder: 'Search titles', autocomplete: 'off' });
  const status = h('select', { id: 'filter-status' },
    ['', 'draft', 'published', 'scheduled', 'deleted'].map((v) => h('option', { value: v, selected: filters.status === v }, v ? v[0].toUpperCase() + v.slice(1) : 'All live posts')));
  const tag = h('select', { id: 'filter-tag' }, h('option', { value: '' }, 'Any tag'));
  /** @type {Entry[]} */
  let all = [];
  const render = () => {
    filters.q = q.value; filters.status = status.value; filters.tag = tag.value;
    const needle = q.value.trim().toLowerCase();
    const shown = all.filter((e) => (status.value === 'deleted' ? e.deleted : !e.deleted)
      && (!status.value || status.value === 'deleted' || e.shown.status === status.value)
      && (!tag.value || e.shown.tags.includes(tag.value))
      && (!needle || e.shown.title.toLowerCase().includes(needle)));
    list.replaceChildren(...(shown.length ? shown.map(row) : [h('li', { class: 'empty' }, all.length ? 'No post matches.' : 'No posts yet. Write the first one!')]));
  };
  const fill = async () => {
    all = await entries();
    const tags = [...new Set(all.flatMap((e) => e.shown.tags))].sort();
    tag.replaceChildren(h('option', { value: '' }, 'Any tag'), ...tags.map((t) => h('option', { value: t, selected: filters.tag === t }, t)));
    render();
  };
  q.addEventListener('input', render);
  status.addEventListener('change', render);
  tag.addEventListener('change', render);
  show('Posts',
    h('div', { class: 'actions' }, h('h1', { style: null }, 'Posts'), h('span', { class: 'spacer' }), h('a', { class: 'button primary', href: '#/new', id: 'new-post' }, 'New post')),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', { for: 'search' }, 'Search by title', q),
      h('label', { for: 'filter-status' }, 'Status', status),
      h('label', { for: 'filter-tag' }, 'Tag', tag)),
    list,
    h('p', { class: 'hint' }, h('a', { href: '#/tokens', id: 'tokens-link' }, 'Apps and tokens'), ' that can publish for you'));
  await fill();
  if (navigator.onLine) {
    try {
      await refreshCache();
      if (main().contains(list)) await fill();
    } catch { /* offline or logged out: the cached list stays */ }
  }
  return fill;
}

/** @param {Entry} e */
function row(e) {
  const s = e.deleted ? 'deleted' : e.shown.status;
  return h('li', { 'data-key': e.key },
    h('a', { class: 'post', href: `#/edit/${encodeURIComponent(e.key)}` },
      h('span', { class: 'title' }, e.shown.title || (e.shown.body ?? '').trim().slice(0, 60) || '(untitled)'),
      h('span', { class: `badge ${s}` }, s === 'scheduled' && e.shown.publish_at ? `scheduled ${when(e.shown.publish_at)}` : s),
      e.shown.tags.length ? h('span', { class: 'tags' }, e.shown.tags.map((t) => `#${t}`).join(' ')) : null,
      e.pending ? h('span', { class: `badge ${e.conflict ? 'conflict' : 'pending'}` }, e.conflict ? 'needs you' : `${e.pending} unsent`) : null,
      e.copy ? h('span', { class: 'badge conflict' }, 'conflict copy') : e.draft ? h('span', { class: 'badge' }, 'unsaved draft') : null));
}
