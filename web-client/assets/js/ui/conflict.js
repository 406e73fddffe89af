// A conflict: the post changed on the server after the local edit started, in the same places
// (a 409 merge conflict: the server merges everything else by itself), or in a way that could
// not be merged (a 412). The server's version and the local one are shown side by side, with
// what overlaps named. For a merge conflict each overlap is decided on its own (mine, theirs,
// or edited), on top of the server's merge, so the other side's changes elsewhere stay; "Keep
// mine" keeps the author's side of every overlap. Nothing is dropped until a button is pressed,
// and the side that loses is kept as a conflict copy (here, and in the post's history).

import { session } from '../api.js';
import { allItems } from '../db.js';
import { lostSide, markedBody, resolution } from '../merge.js';
import { localSide, resolve, touchedFields } from '../outbox.js';
import { fieldsOf } from '../posts.js';
import { h, parseTags, show, toast } from './dom.js';
import { changed } from './sync.js';

/** @typedef {import('../types.js').Fields} Fields */
/** @typedef {import('../types.js').MergeConflict} MergeConflict */
/** @typedef {import('../merge.js').Choice} Choice */

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

  const conflicts = item.problem?.conflicts ?? [];
  // A merge conflict names the change that keeps my side of each overlap and theirs elsewhere.
  const keepMine = conflicts.length ? item.problem?.keep_mine ?? null : null;
  const mergeTitle = h('input', { id: 'merge-title', value: keepMine ? String(keepMine.title ?? server.title) : /** @type {string} */ (start('title')) });
  const tags = keepMine ? /** @type {string[]} */ (keepMine.tags ?? server.tags) : /** @type {string[]} */ (start('tags'));
  const mergeTags = h('input', { id: 'merge-tags', value: tags.join(', ') });
  const mergeBody = h('textarea', { id: 'merge-body' });
  mergeBody.value = !keepMine ? mergeText(mine?.body ?? '', server.body)
    : typeof keepMine.body === 'string' ? markedBody(keepMine.body, conflicts) : server.body;
  const mergeForm = h('form', { class: 'merge', id: 'merge-form', hidden: true, onsubmit: async (e) => {
    e.preventDefault();
    const merged = { title: mergeTitle.value.trim(), tags: parseTags(mergeTags.value), body: mergeBody.value };
    if (keepMine) {
      // On top of the server's merge; what of my side of the overlaps the hand merge leaves out
      // goes to the post's history.
      /** @type {Record<string, unknown>} */
      const patch = { ...keepMine, ...merged };
      if (merged.title === server.title) delete patch.title;
      if (merged.body === server.body) delete patch.body;
      if (merged.tags.join('\n') === server.tags.join('\n')) delete patch.tags;
      await choose({ keep: 'hand', patch, local: { ...server, ...merged } });
      return;
    }
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

  /** @param {{keep: 'server'} | {keep: 'mine', fields: Fields | null, only?: Set<string>} | {keep: 'choices', choices: Choice[]} | {keep: 'hand', patch: Record<string, unknown>, local: Fields}} choice */
  async function choose(choice) {
    const s = await session();
    const user = s?.username ?? item?.user ?? '';
    if (choice.keep === 'hand') {
      const lost = lostSide(/** @type {Record<string, unknown>} */ (keepMine), conflicts, choice.patch);
      await resolve(seq, { keep: 'choices', patch: choice.patch, lost, local: choice.local, user });
    } else if (choice.keep === 'choices') {
      const { patch, lost } = resolution(/** @type {Record<string, unknown>} */ (keepMine), conflicts, choice.choices);
      const local = /** @type {Fields} */ ({ ...server, ...Object.fromEntries(Object.entries(patch).filter(([k]) => k in server)) });
      await resolve(seq, { keep: 'choices', patch, lost, local, user });
    } else {
      await resolve(seq, choice.keep === 'server' ? choice : { ...choice, user });
    }
    changed();
    toast(choice.keep !== 'server' ? 'Saving your version…'
      : mine ? `Kept the server’s version; yours is in the posts as “${mine.title} (conflict copy)”.` : 'Kept the server’s version.');
    location.hash = '#/outbox';
  }
  const pickers = keepMine ? conflicts.map(picker) : [];

  show('Conflict',
    h('h1', {}, `Conflict: “${current.title}”`),
    h('p', {}, `This post was changed elsewhere (it is now at version ${current.version}) after your change started from an older version. Nothing is lost until you choose.`),
    overlaps(conflicts),
    h('div', { class: 'compare' },
      side('On the server', 'server-side', server, `version ${current.version}, changed ${new Date(current.updated_at).toLocaleString()}`),
      side('Yours (not sent)', 'local-side', mine, item.label)),
    keepMine ? h('form', { class: 'choices', id: 'choices', onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      choose({ keep: 'choices', choices: pickers.map((p) => p.read()) });
    } },
    h('h2', {}, 'Decide each overlap'),
    h('p', { class: 'hint' }, 'Everything else is merged already. Your side of what you do not keep stays in the post’s history and here as a conflict copy.'),
    pickers.map((p) => p.el),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-choices' }, 'Save these choices'))) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'keep-mine', onclick: () => choose(keepMine ? { keep: 'choices', choices: [] } : { keep: 'mine', fields: mine, only: mine ? touched : undefined }) }, 'Keep mine'),
      h('button', { type: 'button', id: 'keep-server', onclick: () => choose({ keep: 'server' }) }, 'Keep the server’s'),
      h('button', { type: 'button', id: 'merge', onclick: () => { mergeForm.hidden = false; mergeBody.focus(); } }, 'Merge by hand')),
    mergeForm);
}

/**
 * One overlap to decide: both sides, and mine, theirs or an edited text (title and body).
 * @param {MergeConflict} c
 * @param {number} i
 * @returns {{el: HTMLElement, read: () => Choice}}
 */
function picker(c, i) {
  const name = c.field === 'body' ? `Body, line ${c.line ?? 1}` : c.field.replace('_', ' ');
  const editable = c.field === 'title' || c.field === 'body';
  const text = h('textarea', { id: `edit-${i}`, 'aria-label': `${name}: your edit`, hidden: true });
  text.value = c.mine ?? '';
  const radio = (/** @type {string} */ value, /** @type {string} */ label) => h('label', {},
    h('input', { type: 'radio', name: `pick-${i}`, value, id: `pick-${i}-${value}`, checked: value === 'mine',
      onchange: () => { text.hidden = value !== 'edit'; } }), ` ${label}`);
  const el = h('fieldset', { class: 'overlap', id: `overlap-${i}`, 'data-field': c.field },
    h('legend', {}, name),
    h('div', { class: 'compare' },
      h('pre', { class: 'f-mine', tabindex: '0', 'aria-label': `${name}: yours` }, c.mine ?? '—'),
      h('pre', { class: 'f-theirs', tabindex: '0', 'aria-label': `${name}: on the server` }, c.theirs ?? '—')),
    radio('mine', 'Keep mine'), radio('theirs', 'Keep the server’s'), editable ? radio('edit', 'Edit') : null, text);
  const read = () => {
    const checked = /** @type {HTMLInputElement | null} */ (el.querySelector(`input[name="pick-${i}"]:checked`));
    const pick = /** @type {Choice['pick']} */ (checked?.value ?? 'mine');
    return pick === 'edit' ? { pick, text: text.value } : { pick };
  };
  return { el, read };
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
