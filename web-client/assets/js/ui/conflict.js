// A conflict: the post changed on the server after the local edit started, in the same places
// (a 409 merge conflict: the server merges everything else by itself), or in a way that could
// not be merged (a 412). The server's version and the local one are shown side by side, with
// what overlaps named; the author keeps either, or merges by hand. Nothing is dropped until one
// of the three buttons is pressed.

import { session } from '../api.js';
import { allItems } from '../db.js';
import { localSide, resolve, touchedFields } from '../outbox.js';
import { fieldsOf } from '../posts.js';
import { h, parseTags, show, toast } from './dom.js';
import { changed } from './sync.js';

/** @typedef {import('../types.js').Fields} Fields */

/** @param {number} seq */
export async function conflictView(seq) {
  const items = await allItems();
  const item = items.find((i) => i.seq === seq);
  const current = item?.problem?.current;
  if (!item || item.state !== 'conflict' || !current) {
    show('Conflict', h('h1', {}, 'Nothing to decide'), h('p', {}, 'This conflict was already resolved. '), h('a', { href: '#/outbox' }, 'Back to the outbox'));
    return;
  }
  const server = fieldsOf(current);
  const mine = localSide(item, items);
  // Only what was changed here is "mine": fields only the server changed keep its values.
  const touched = touchedFields(item, items);
  const start = (/** @type {'title' | 'tags'} */ f) => (mine && touched.has(f) ? mine : server)[f];
  const side = (/** @type {string} */ label, /** @type {string} */ id, /** @type {Fields | null} */ f, /** @type {string} */ extra) =>
    h('section', { id, 'aria-labelledby': `${id}-h` },
      h('h2', { id: `${id}-h` }, label),
      h('p', { class: 'hint' }, extra),
      f ? [
        h('p', {}, h('strong', {}, 'Title: '), h('span', { class: 'f-title' }, f.title)),
        h('p', {}, h('strong', {}, 'Status: '), f.status, ' · ', h('strong', {}, 'Tags: '), f.tags.join(', ') || '—'),
        h('pre', { class: 'f-body', tabindex: '0', 'aria-label': `${label}: body` }, f.body),
      ] : h('p', {}, 'Deleted.'));

  const mergeTitle = h('input', { id: 'merge-title', value: /** @type {string} */ (start('title')) });
  const mergeTags = h('input', { id: 'merge-tags', value: /** @type {string[]} */ (start('tags')).join(', ') });
  const mergeBody = h('textarea', { id: 'merge-body' });
  mergeBody.value = mergeText(mine?.body ?? '', server.body);
  const mergeForm = h('form', { class: 'merge', id: 'merge-form', hidden: true, onsubmit: async (e) => {
    e.preventDefault();
    const base = mine ?? server;
    const only = new Set([...touched, 'title', 'tags', 'body']);
    await choose({ keep: 'mine', only, fields: { ...base, title: mergeTitle.value.trim(), tags: parseTags(mergeTags.value), body: mergeBody.value } });
  } },
  h('h2', {}, 'Merge by hand'),
  h('p', { class: 'hint' }, 'Both texts are below where they differ; edit until it reads right, then save.'),
  h('label', { for: 'merge-title' }, 'Title', mergeTitle),
  h('label', { for: 'merge-tags' }, 'Tags', mergeTags),
  h('label', { for: 'merge-body' }, 'Body (Markdown)', mergeBody),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'save-merge' }, 'Save the merge')));

  /** @param {{keep: 'server'} | {keep: 'mine', fields: Fields | null, only?: Set<string>}} choice */
  async function choose(choice) {
    const s = await session();
    const user = s?.username ?? item?.user ?? '';
    await resolve(seq, choice.keep === 'server' ? choice : { ...choice, user });
    changed();
    toast(choice.keep === 'server' ? 'Kept the server’s version.' : 'Saving your version…');
    location.hash = '#/outbox';
  }

  show('Conflict',
    h('h1', {}, `Conflict: “${current.title}”`),
    h('p', {}, `This post was changed elsewhere (it is now at version ${current.version}) after your change started from an older version. Nothing is lost until you choose.`),
    overlaps(item.problem?.conflicts ?? []),
    h('div', { class: 'compare' },
      side('On the server', 'server-side', server, `version ${current.version}, changed ${new Date(current.updated_at).toLocaleString()}`),
      side('Yours (not sent)', 'local-side', mine, item.label)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'keep-mine', onclick: () => choose({ keep: 'mine', fields: mine, only: mine ? touched : undefined }) }, 'Keep mine'),
      h('button', { type: 'button', id: 'keep-server', onclick: () => choose({ keep: 'server' }) }, 'Keep the server’s'),
      h('button', { type: 'button', id: 'merge', onclick: () => { mergeForm.hidden = false; mergeBody.focus(); } }, 'Merge by hand')),
    mergeForm);
}

/**
 * What both sides changed, in words (nothing for a 412, which names no overlaps).
 * @param {import('../types.js').MergeConflict[]} conflicts
 */
function overlaps(conflicts) {
  if (conflicts.length === 0) return null;
  const names = conflicts.map((c) => (c.field === 'body' && c.line ? `body (line ${c.line})` : c.field));
  return h('p', { id: 'overlaps' }, `Changed on both sides: ${[...new Set(names)].join(', ')}.`);
}

/**
 * Both texts in one, with the differing middle part marked (common first and last lines kept).
 * @param {string} mine
 * @param {string} theirs
 */
export function mergeText(mine, theirs) {
  if (mine === theirs) return mine;
  const a = mine.split('\n');
  const b = theirs.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return [
    ...a.slice(0, head),
    '<<<<<<< yours', ...a.slice(head, a.length - tail),
    '=======', ...b.slice(head, b.length - tail),
    '>>>>>>> server', ...a.slice(a.length - tail),
  ].join('\n');
}
