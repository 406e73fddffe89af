// The outbox: every write the editor makes is composed into an item here, stored in IndexedDB,
// and sent until the server has answered it. Each item carries the Idempotency-Key it was given
// when it was composed, and its request (method, path, If-Match, body) is fixed before its
// first send, so however often it is retried — after a lost response, a reload, a closed
// browser — the server applies it once and replays the same answer.
//
// States: queued → sending → sent; sending → queued (network lost, 5xx, 409 in progress: retried
// with backoff); sending → conflict (a 409 merge conflict, or a 412 that cannot be merged:
// waits for the author's choice); sending → failed (another 4xx: waits for retry or discard).
// A conflict ends as superseded (the author's choice went into a new item) or discarded (the
// server's version was kept).
//
// An edit answered 412 (the post changed on the server meanwhile) is not a conflict yet: it is
// sent once more, the same change under the same key (a 412 stored nothing under it), with
// `Base-Version` instead of `If-Match`, and the server merges it three-way with what changed
// since. Only changes that overlap (the same field, or the same lines of the body) come back
// as a 409 merge conflict for the author to decide.
//
// Items of one post are sent strictly in order: while one waits, later ones of the same post
// wait too; unrelated items are sent side by side (see replay.js). A change composed while an
// earlier one is unsent carries If-Match `chain`: the version the earlier change produces,
// known once it is sent.
//
// Nothing is dropped without a trace: whatever side of a merge conflict loses is kept, as a
// "conflict copy" draft here (when the server's version is kept), and in the post's history on
// the server (a `copy` item: `POST /posts/{id}/conflict-copies`), both of which bring it back.

import { allItems, kvGet, req, transact, updateItem } from './db.js';

/** @typedef {import('./types.js').OutboxItem} OutboxItem */
/** @typedef {import('./types.js').Fields} Fields */
/** @typedef {import('./types.js').Post} Post */
/** @typedef {import('./types.js').ChangeKind} ChangeKind */

/** States that still need something: sending, or the author. */
export const ACTIVE = ['queued', 'sending', 'conflict', 'failed'];

/** A new Idempotency-Key (a UUID). */
export function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Tells every tab (and this one) that the outbox changed. */
export function announce() {
  try {
    const channel = new BroadcastChannel('quire');
    channel.postMessage({ type: 'outbox' });
    channel.close();
  } catch { /* tabs will refresh on their next event */ }
}

/**
 * @param {OutboxItem} item
 * @returns {boolean}
 */
export function isActive(item) {
  return ACTIVE.includes(item.state);
}

/** How a post's Markdown refers to an image still in the outbox: `/media/pending-<uuid>`. */
export const PENDING_MEDIA = '/media/pending-';
const PENDING_PATTERN = /\/media\/pending-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g;

/**
 * The outbox keys (`upload-<uuid>`) of the images `markdown` shows that are not yet known to be
 * on the server, each once.
 * @param {string} markdown
 * @returns {string[]}
 */
export function pendingUploads(markdown) {
  return [...new Set([...markdown.matchAll(PENDING_PATTERN)].map((m) => `upload-${m[1]}`))];
}

/**
 * `markdown` with the pending images whose URL `urlOf(key)` knows replaced by it.
 * @param {string} markdown
 * @param {(key: string) => string | null | undefined} urlOf
 */
export function withUploadedUrls(markdown, urlOf) {
  return markdown.replace(PENDING_PATTERN, (whole, uuid) => urlOf(`upload-${uuid}`) ?? whole);
}

/**
 * The server's URLs of the uploads `keys` that are on the server (from the outbox, or from the
 * record kept after the outbox forgot them).
 * @param {string[]} keys
 * @param {OutboxItem[]} items
 * @returns {Promise<Map<string, string>>}
 */
export async function uploadedUrls(keys, items) {
  /** @type {Map<string, string>} */
  const urls = new Map();
  for (const key of keys) {
    const sent = items.find((i) => i.post === key && i.kind === 'upload' && i.uploaded);
    const known = sent?.uploaded ?? /** @type {import('./types.js').UploadedMedia | undefined} */ (await kvGet(`upload:${key}`));
    if (known?.url) urls.set(key, known.url);
  }
  return urls;
}

/**
 * Puts an image in the outbox (it is sent before any post that shows it); returns its item and
 * the Markdown URL that stands for it until then.
 * @param {{blob: Blob, name: string, alt: string, user: string}} image
 */
export async function composeUpload(image) {
  const uuid = newKey();
  const contentType = image.blob.type || 'application/octet-stream';
  const item = await compose({
    kind: 'upload', post: `upload-${uuid}`, body: null, base: null, local: null,
    label: `upload “${image.name || 'image'}”`, user: image.user,
    upload: { blob: image.blob, contentType, name: image.name, alt: image.alt },
  });
  return { item, url: `${PENDING_MEDIA}${uuid}` };
}

/**
 * Stores a composed change. Removes the draft `draftKey` in the same transaction, so a change
 * is either a draft or an outbox item, never lost between the two.
 * `after`: other keys whose earlier changes must reach the server first (e.g. an upload).
 * @param {{kind: ChangeKind, post: string, body: Record<string, unknown> | null, base: number | null, local: Fields | null, label: string, user: string, draftKey?: string, after?: string[], upload?: import('./types.js').Upload}} change
 * @returns {Promise<OutboxItem>}
 */
export async function compose(change) {
  const item = await transact(['outbox', 'drafts'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    /** @type {OutboxItem[]} */
    const items = await req(store.getAll());
    const earlier = items.some((i) => i.post === change.post && isActive(i));
    const now = Date.now();
    /** @type {OutboxItem} */
    const item = {
      key: newKey(),
      kind: change.kind,
      post: change.post,
      user: change.user,
      body: change.body,
      ifMatch: change.kind === 'create' || change.kind === 'upload' ? 0 : (earlier || change.base === null ? 'chain' : change.base),
      local: change.local,
      label: change.label,
      state: 'queued',
      attempts: 0,
      nextAt: 0,
      createdAt: now,
      updatedAt: now,
      request: null,
      result: null,
      problem: null,
      note: '',
      ...(change.after?.length ? { after: change.after } : {}),
      ...(change.upload ? { upload: change.upload } : {}),
    };
    item.seq = /** @type {number} */ (await req(store.add(item)));
    if (change.draftKey) tx.objectStore('drafts').delete(change.draftKey);
    return item;
  });
  announce();
  return item;
}

/**
 * The server id of a post key, if known.
 * @param {string} post
 * @param {OutboxItem[]} items
 * @returns {Promise<string | null>}
 */
export async function serverId(post, items) {
  if (!post.startsWith('local-')) return post;
  const created = items.find((i) => i.post === post && i.kind === 'create' && i.state === 'sent');
  if (created?.result) return created.result.id;
  const ref = await kvGet(`ref:${post}`);
  return typeof ref === 'string' ? ref : null;
}

/**
 * Sends a failed item again, with the same key and request.
 * @param {number} seq
 */
export async function retry(seq) {
  await updateItem(seq, (i) => {
    if (i.state === 'failed') { i.state = 'queued'; i.nextAt = 0; i.note = ''; i.reason = null; }
  });
  announce();
}

/**
 * The item in conflict and the later active items of the same post, which wait behind it.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 */
export function followers(item, items) {
  return items.filter((i) => i.post === item.post && (i.seq ?? 0) >= (item.seq ?? 0) && isActive(i));
}

/**
 * What the author has locally for a conflicted item: the last local state of it and the
 * changes waiting behind it (null if the last word was a delete).
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Fields | null}
 */
export function localSide(item, items) {
  /** @type {Fields | null} */
  let fields = null;
  for (const i of followers(item, items)) {
    if (i.kind === 'delete') fields = null;
    else if (i.local) fields = i.local;
  }
  return fields;
}

/**
 * The fields the waiting local changes of a conflicted item touch (the keys of their PATCH
 * bodies): keeping "mine" sends only these, so what only the server changed stays.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Set<string>}
 */
export function touchedFields(item, items) {
  return new Set(followers(item, items).flatMap((i) => (i.kind === 'update' ? Object.keys(i.body ?? {}) : [])));
}

/**
 * @typedef {{keep: 'server'} | {keep: 'mine', fields: Fields | null, user: string, only?: Set<string>}
 *   | {keep: 'choices', patch: Record<string, unknown>, lost: Record<string, unknown> | null, local: Fields | null, user: string}} Choice
 *   `choices`: a merge conflict decided conflict by conflict (see merge.js): `patch` goes to the
 *   server's current version, `lost` (the losing side) into the post's history.
 */

/**
 * Ends a conflict (or a failure) as the author chose. `keep: 'server'` drops the local changes
 * of this post that wait behind it, keeping what they made of a conflicted post as a conflict
 * copy (in the same transaction, so it is never half done); otherwise `fields` (theirs, or a hand merge) become a new
 * change based on the server's current version, limited to the fields in `only` if given.
 * A merge conflict's losing side also goes to the server (a `copy` item after the change).
 * @param {number} seq
 * @param {Choice} choice
 */
export async function resolve(seq, choice) {
  const items = await allItems();
  const item = items.find((i) => i.seq === seq);
  if (!item || (item.state !== 'conflict' && item.state !== 'failed')) return null;
  const current = item.problem?.current ?? null;
  const wait = followers(item, items);
  const state = choice.keep === 'server' ? 'discarded' : 'superseded';
  const mine = localSide(item, items);
  /** @type {OutboxItem | null} */
  let created = null;
  await transact(['outbox', 'drafts'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    for (const i of wait) store.put({ ...i, state, updatedAt: Date.now() });
    if (choice.keep === 'server' && item.state === 'conflict' && mine && current) {
      tx.objectStore('drafts').put(conflictCopy(mine, current));
    }
    const keepMine = item.problem?.keep_mine;
    // The losing side goes to the server's history too: what keeping mine would have made of a
    // merge conflict, or for a plain conflict the fields where mine differs from the server's.
    const mineChanged = mine && current && item.state === 'conflict' ? patchBody(mine, current) : null;
    const lost = keepMine ?? (mineChanged && Object.keys(mineChanged).length ? mineChanged : null);
    if (choice.keep === 'server' && lost && current && !current.deleted_at) {
      await addCopy(store, item, current, lost);
    }
    if (choice.keep === 'choices' && current) {
      if (Object.keys(choice.patch).length) {
        created = newItem(current, 'update', choice.patch, choice.local, choice.user, `merge “${current.title}”`);
        created.seq = /** @type {number} */ (await req(store.add(created)));
      }
      if (choice.lost) await addCopy(store, item, current, choice.lost);
      return;
    }
    if (choice.keep !== 'mine' || !current) return;
    const now = Date.now();
    const fields = choice.fields;
    const body = fields ? onlyFields(patchBody(fields, current), choice.only) : null;
    /** @type {ChangeKind | null} */
    const kind = fields === null ? (current.deleted_at ? null : 'delete')
      : current.deleted_at ? null : (Object.keys(body ?? {}).length ? 'update' : null);
    if (!kind) return;
    created = {
      key: newKey(), kind, post: current.id, user: choice.user, body: kind === 'update' ? body : null,
      ifMatch: current.version, local: fields, label: `${kind === 'delete' ? 'delete' : 'merge'} “${current.title}”`,
      state: 'queued', attempts: 0, nextAt: 0, createdAt: now, updatedAt: now,
      request: null, result: null, problem: null, note: '',
    };
    created.seq = /** @type {number} */ (await req(store.add(created)));
  });
  announce();
  return created;
}

/**
 * A new outbox item for the post `current`, based on its version.
 * @param {Post} current
 * @param {ChangeKind} kind
 * @param {Record<string, unknown> | null} body
 * @param {Fields | null} local
 * @param {string} user
 * @param {string} label
 * @returns {OutboxItem}
 */
function newItem(current, kind, body, local, user, label) {
  const now = Date.now();
  return {
    key: newKey(), kind, post: current.id, user, body, ifMatch: current.version, local, label,
    state: 'queued', attempts: 0, nextAt: 0, createdAt: now, updatedAt: now,
    request: null, result: null, problem: null, note: '',
  };
}

/**
 * Queues the losing side of a merge conflict for the post's history on the server.
 * @param {IDBObjectStore} store
 * @param {OutboxItem} item  The conflicted item.
 * @param {Post} current
 * @param {Record<string, unknown>} lost
 */
async function addCopy(store, item, current, lost) {
  const fields = ['title', 'slug', 'body', 'tags', 'status', 'publish_at'];
  const body = { ...Object.fromEntries(Object.entries(lost).filter(([k]) => fields.includes(k))), base_version: current.version };
  const copy = newItem(current, 'copy', body, null, item.user, `keep your version of “${current.title}” in its history`);
  copy.seq = /** @type {number} */ (await req(store.add(copy)));
}

/**
 * A draft that keeps the author's losing side of a conflict: a new local post, titled as a
 * copy and a draft (so saving it as is never publishes it), that remembers the post it came from.
 * @param {Fields} mine
 * @param {Post} current  The server's version that was kept.
 * @returns {import('./types.js').Draft}
 */
export function conflictCopy(mine, current) {
  return {
    key: `local-${newKey()}`,
    fields: { ...mine, title: `${mine.title} (conflict copy)`, slug: '', status: 'draft', publish_at: null },
    base: null,
    savedAt: Date.now(),
    copy: { of: current.id, version: current.version, fields: mine },
  };
}

/**
 * The fields of `fields` that differ from `base`, as a PATCH body.
 * @param {Fields} fields
 * @param {{title: string, body: string, tags: string[], status: string, publish_at: string | null, slug: string}} base
 * @returns {Record<string, unknown>}
 */
export function patchBody(fields, base) {
  /** @type {Record<string, unknown>} */
  const out = {};
  if (fields.title !== base.title) out.title = fields.title;
  if (fields.body !== base.body) out.body = fields.body;
  if (fields.tags.join('\n') !== base.tags.join('\n')) out.tags = fields.tags;
  if (fields.slug && fields.slug !== base.slug) out.slug = fields.slug;
  if (fields.status !== base.status) out.status = fields.status;
  if (fields.status === 'scheduled' && fields.publish_at
    && (fields.status !== base.status || !sameInstant(fields.publish_at, base.publish_at))) {
    out.status = 'scheduled';
    out.publish_at = fields.publish_at;
  }
  return out;
}

/**
 * A PATCH body limited to `only` (all of it without `only`); `status` and `publish_at` go
 * together, as the server reads them together.
 * @param {Record<string, unknown>} body
 * @param {Set<string>} [only]
 * @returns {Record<string, unknown>}
 */
function onlyFields(body, only) {
  if (!only) return body;
  const when = only.has('status') || only.has('publish_at');
  return Object.fromEntries(Object.entries(body).filter(([k]) => only.has(k) || (when && (k === 'status' || k === 'publish_at'))));
}

/**
 * The body of a create.
 * @param {Fields} fields
 * @returns {Record<string, unknown>}
 */
export function createBody(fields) {
  /** @type {Record<string, unknown>} */
  const out = { title: fields.title, body: fields.body, tags: fields.tags, status: fields.status };
  if (fields.slug) out.slug = fields.slug;
  if (fields.status === 'scheduled' && fields.publish_at) out.publish_at = fields.publish_at;
  return out;
}

/** @param {string | null} a @param {string | null} b */
function sameInstant(a, b) {
  if (!a || !b) return a === b;
  return Date.parse(a) === Date.parse(b);
}
