// What the editor shows: the posts as last fetched from the server, with the changes still in
// the outbox and the autosaved drafts laid over them, so a post written offline is listed and
// can be edited like any other.

import { getJson } from './api.js';
import { allDrafts, allItems, cachedPost, cachedPosts, cachePosts, getDraft, kvPrefix } from './db.js';
import { isActive } from './outbox.js';

/** @typedef {import('./types.js').Post} Post */
/** @typedef {import('./types.js').Fields} Fields */
/** @typedef {import('./types.js').OutboxItem} OutboxItem */

/**
 * @typedef {object} Entry  A post as this device knows it.
 * @property {string} key  Server id, or `local-…` until the server has it.
 * @property {string | null} id  Server id.
 * @property {Fields} fields
 * @property {number | null} version  Server version the fields are based on (null: not on the server).
 * @property {boolean} deleted
 * @property {number} pending  Outbox items of this post that still need something.
 * @property {boolean} conflict
 * @property {boolean} draft  Unsaved edits are autosaved for it.
 * @property {boolean} copy  A conflict copy: the author's version a conflict did not keep.
 * @property {Fields} shown  What the list shows: the draft if there is one, else `fields`.
 * @property {string} updated  ISO time of the last change known here.
 * @property {Post | null} server  The cached server post.
 */

/** @param {Post} p @returns {Fields} */
export function fieldsOf(p) {
  return { title: p.title, body: p.body, tags: [...p.tags], status: p.status, publish_at: p.publish_at, slug: p.slug };
}

/** @returns {Fields} */
export function emptyFields() {
  return { title: '', body: '', tags: [], status: 'draft', publish_at: null, slug: '' };
}

/**
 * Fetches every post (live and deleted) into the cache. Throws when offline.
 */
export async function refreshCache() {
  for (const deleted of [false, true]) {
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      /** @type {{items: Post[], next_cursor: string | null}} */
      const list = await getJson(`/posts?limit=200&deleted=${deleted}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      await cachePosts(list.items);
      if (!list.next_cursor) break;
      cursor = list.next_cursor;
    }
  }
}

/**
 * Local keys whose post the server created, mapped to server ids.
 * @param {OutboxItem[]} items
 */
async function localIds(items) {
  /** @type {Map<string, string>} */
  const map = new Map();
  for (const i of items) {
    if (i.kind === 'create' && i.result && i.post.startsWith('local-')) map.set(i.post, i.result.id);
  }
  // Mappings of creates the outbox already forgot (one read for all of them).
  for (const [key, id] of await kvPrefix('ref:')) {
    const local = key.slice('ref:'.length);
    if (typeof id === 'string' && !map.has(local)) map.set(local, id);
  }
  return map;
}

/**
 * Every post this device knows, newest first.
 * @returns {Promise<Entry[]>}
 */
export async function entries() {
  const [posts, items, drafts] = await Promise.all([cachedPosts(), allItems(), allDrafts()]);
  const ids = await localIds(items);
  /** @type {Map<string, Entry>} */
  const byKey = new Map();
  for (const p of posts) {
    byKey.set(p.id, {
      key: p.id, id: p.id, fields: fieldsOf(p), version: p.version, deleted: Boolean(p.deleted_at),
      pending: 0, conflict: false, draft: false, copy: false, updated: p.updated_at, server: p, shown: fieldsOf(p),
    });
  }
  for (const i of items) {
    if (!isActive(i)) continue;
    const key = ids.get(i.post) ?? i.post;
    let e = byKey.get(key);
    if (!e) {
      if (i.kind !== 'create' || !i.local) continue;
      e = { key, id: null, fields: i.local, version: null, deleted: false, pending: 0, conflict: false, draft: false, copy: false, updated: new Date(i.createdAt).toISOString(), server: null, shown: i.local };
      byKey.set(key, e);
    }
    e.pending++;
    if (i.state === 'conflict' || i.state === 'failed') e.conflict = true;
    if (i.kind === 'delete') e.deleted = true;
    else if (i.kind === 'restore') e.deleted = false;
    else if (i.local) { e.fields = i.local; e.shown = i.local; }
    e.updated = new Date(i.updatedAt).toISOString();
  }
  for (const d of drafts) {
    const key = ids.get(d.key) ?? d.key;
    let e = byKey.get(key);
    if (!e) {
      e = { key: d.key, id: null, fields: emptyFields(), version: null, deleted: false, pending: 0, conflict: false, draft: true, copy: Boolean(d.copy), updated: new Date(d.savedAt).toISOString(), server: null, shown: d.fields };
      byKey.set(key, e);
    }
    e.draft = true;
    e.shown = d.fields;
  }
  return [...byKey.values()].sort((a, b) => (a.updated < b.updated ? 1 : -1));
}

/**
 * One post as this device knows it, with its draft.
 * @param {string} key
 * @returns {Promise<{entry: Entry | null, draft: import('./types.js').Draft | undefined}>}
 */
export async function entry(key) {
  const items = await allItems();
  const ids = await localIds(items);
  const id = ids.get(key) ?? key;
  if (!id.startsWith('local-') && !(await cachedPost(id))) {
    try { await cachePosts([await getJson(`/posts/${encodeURIComponent(id)}?deleted=true`)]); } catch { /* offline */ }
  }
  const all = await entries();
  const found = all.find((e) => e.key === id || e.key === key) ?? null;
  const draft = (await getDraft(key)) ?? (id !== key ? await getDraft(id) : undefined);
  return { entry: found, draft };
}
