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
// wait too. A change composed while an earlier one is unsent carries If-Match `chain`: the
// version the earlier change produces, known once it is sent.
//
// Replay runs under the Web Lock `quire-outbox`, so one context sends at a time (a tab, or the
// service worker on a Background Sync event).

import { authed, LoginRequired, NetworkError, problemOf, ProblemError, session } from './api.js';
import { allItems, cachePost, kvGet, kvSet, req, transact, updateItem } from './db.js';

/** @typedef {import('./types.js').OutboxItem} OutboxItem */
/** @typedef {import('./types.js').Fields} Fields */
/** @typedef {import('./types.js').Post} Post */
/** @typedef {import('./types.js').ChangeKind} ChangeKind */

/** States that still need something: sending, or the author. */
export const ACTIVE = ['queued', 'sending', 'conflict', 'failed'];
/** How long finished items stay visible. */
const KEEP_FINISHED_MS = 24 * 3600 * 1000;

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

/**
 * Stores a composed change. Removes the draft `draftKey` in the same transaction, so a change
 * is either a draft or an outbox item, never lost between the two.
 * @param {{kind: ChangeKind, post: string, body: Record<string, unknown> | null, base: number | null, local: Fields | null, label: string, user: string, draftKey?: string}} change
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
      ifMatch: change.kind === 'create' ? 0 : (earlier || change.base === null ? 'chain' : change.base),
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
 * The request an item sends, or null while it depends on an earlier unsent change.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Promise<{method: string, path: string, ifMatch: string | null} | null | {error: string}>}
 */
async function resolveRequest(item, items) {
  if (item.kind === 'create') return { method: 'POST', path: '/posts', ifMatch: null };
  const id = await serverId(item.post, items);
  if (!id) {
    const create = items.find((i) => i.post === item.post && i.kind === 'create');
    return create && isActive(create) ? null : { error: 'the post was never created on the server' };
  }
  let version = item.ifMatch;
  if (version === 'chain') {
    // Earlier changes of the same post, also those filed under its local key before the
    // server gave it an id.
    /** @type {OutboxItem[]} */
    const before = [];
    for (const i of items) {
      if ((i.seq ?? 0) >= (item.seq ?? 0) || i.state === 'discarded' || i.state === 'superseded') continue;
      if (i.post === item.post || (await serverId(i.post, items)) === id) before.push(i);
    }
    const pred = before[before.length - 1];
    if (!pred) return { error: 'the change it was based on is gone' };
    if (pred.state !== 'sent' || !pred.result) return null;
    version = pred.result.version;
  }
  const path = `/posts/${encodeURIComponent(id)}${item.kind === 'restore' ? '/restore' : ''}`;
  const method = { update: 'PATCH', delete: 'DELETE', restore: 'POST' }[item.kind];
  return { method, path, ifMatch: `"${version}"` };
}

/** @param {number} attempts */
function backoff(attempts) {
  const base = Math.min(60000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * @typedef {object} ReplayResult
 * @property {number} sent  Items sent in this run.
 * @property {number} active  Items still active afterwards.
 * @property {number | null} retryAt  When to try again (ms), if something waits for time.
 * @property {boolean} needsLogin  Something waits for a login.
 * @property {boolean} offline  The network failed during this run.
 */

/**
 * Sends what can be sent. `force` ignores backoff (app start, `online`, Background Sync).
 * @param {{force?: boolean}} [options]
 * @returns {Promise<ReplayResult>}
 */
export async function replay(options = {}) {
  return await navigator.locks.request('quire-outbox', () => replayLocked(Boolean(options.force)));
}

/**
 * @param {boolean} force
 * @returns {Promise<ReplayResult>}
 */
async function replayLocked(force) {
  /** @type {ReplayResult} */
  const result = { sent: 0, active: 0, retryAt: null, needsLogin: false, offline: false };
  const s = await session();
  const user = s?.refresh_token ? s.username : null;
  /** @type {Set<number>} */
  const tried = new Set();
  for (;;) {
    const items = await allItems();
    const next = await pickNext(items, user, force, tried, result);
    if (!next) break;
    tried.add(/** @type {number} */ (next.item.seq));
    const outcome = await sendItem(next.item, next.request);
    // Sent again at once, as a merge (at most once: a merge is never turned into another).
    if (outcome === 'merge') tried.delete(/** @type {number} */ (next.item.seq));
    if (outcome === 'sent') result.sent++;
    if (outcome === 'login') { result.needsLogin = true; break; }
    if (outcome === 'network') { result.offline = true; break; }
  }
  const items = await allItems();
  result.active = items.filter(isActive).length;
  for (const i of items) {
    if ((i.state === 'queued' || i.state === 'sending') && i.nextAt > Date.now()) {
      result.retryAt = Math.min(result.retryAt ?? Infinity, i.nextAt);
    }
  }
  if (result.offline && result.retryAt === null && result.active > 0) result.retryAt = Date.now() + 5000;
  if (!user && items.some((i) => i.state === 'queued' || i.state === 'sending')) result.needsLogin = true;
  await prune(items);
  announce();
  return result;
}

/**
 * The first item that may be sent now, with its request.
 * @param {OutboxItem[]} items
 * @param {string | null} user
 * @param {boolean} force
 * @param {Set<number>} tried  Items already sent in this run (sent at most once per run).
 * @param {ReplayResult} result
 */
async function pickNext(items, user, force, tried, result) {
  const blocked = new Set();
  const now = Date.now();
  for (const item of items) {
    if (!isActive(item) || blocked.has(item.post)) continue;
    blocked.add(item.post);
    if (item.state === 'conflict' || item.state === 'failed') continue;
    if (!user || item.user !== user) { result.needsLogin = true; continue; }
    if (tried.has(/** @type {number} */ (item.seq))) continue;
    if (!force && item.nextAt > now) continue;
    let request = item.request;
    if (!request) {
      const resolved = await resolveRequest(item, items);
      if (!resolved) continue;
      if ('error' in resolved) {
        await finish(item, 'failed', { problem: local(resolved.error) });
        continue;
      }
      request = resolved;
    }
    return { item, request };
  }
  return null;
}

/** @param {string} detail @returns {import('./types.js').Problem} */
function local(detail) {
  return { type: 'urn:quire:editor:unsendable', title: 'Cannot be sent', status: 0, detail };
}

/**
 * @param {OutboxItem} item
 * @param {import('./types.js').ItemState} state
 * @param {Partial<OutboxItem>} [fields]
 */
async function finish(item, state, fields = {}) {
  await updateItem(/** @type {number} */ (item.seq), (i) => { Object.assign(i, fields); i.state = state; });
  announce();
}

/**
 * Sends one item once and records the outcome.
 * @param {OutboxItem} item
 * @param {{method: string, path: string, ifMatch: string | null, baseVersion?: number}} request
 * @returns {Promise<'sent' | 'merge' | 'conflict' | 'failed' | 'retry' | 'network' | 'login'>}
 */
async function sendItem(item, request) {
  const seq = /** @type {number} */ (item.seq);
  await updateItem(seq, (i) => { i.request = request; i.state = 'sending'; i.attempts++; i.note = ''; });
  announce();
  /** @type {Record<string, string>} */
  const headers = { 'Idempotency-Key': item.key };
  if (request.ifMatch) headers['If-Match'] = request.ifMatch;
  if (request.baseVersion) headers['Base-Version'] = String(request.baseVersion);
  if (item.body) headers['Content-Type'] = 'application/json';
  const retryLater = (/** @type {string} */ note, /** @type {number} */ delay) =>
    finish(item, 'queued', { nextAt: Date.now() + delay, note });
  try {
    const res = await authed(request.path, {
      method: request.method,
      headers,
      body: item.body ? JSON.stringify(item.body) : undefined,
    });
    if (res.ok) {
      const post = /** @type {Post} */ (await res.json());
      if (item.kind === 'create') await kvSet(`ref:${item.post}`, post.id);
      await cachePost(post);
      await finish(item, 'sent', { result: post, problem: null, note: '' });
      return 'sent';
    }
    const problem = await problemOf(res);
    if (res.status === 412 || (res.status === 409 && problem.type.endsWith(':merge-conflict'))) {
      if (problem.current) await cachePost(problem.current);
      const base = res.status === 412 ? mergeBase(item, request) : null;
      if (base !== null) {
        const merge = { method: request.method, path: request.path, ifMatch: null, baseVersion: base };
        await finish(item, 'queued', { request: merge, nextAt: 0, note: 'changed on the server meanwhile; merging' });
        return 'merge';
      }
      await finish(item, 'conflict', { problem, note: 'changed on the server meanwhile' });
      return 'conflict';
    }
    if (res.status === 401) {
      await finish(item, 'queued', { note: 'waiting for login', attempts: item.attempts });
      return 'login';
    }
    if (res.status === 409 && problem.type.endsWith(':idempotency-in-progress')) {
      await retryLater('the server is still working on it', 1000);
      return 'retry';
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429 || res.status === 425) {
      await retryLater(`the server answered ${res.status}; retrying`, backoff(item.attempts + 1));
      return 'retry';
    }
    await finish(item, 'failed', { problem, note: problem.detail });
    return 'failed';
  } catch (e) {
    if (e instanceof LoginRequired) {
      await finish(item, 'queued', { note: 'waiting for login' });
      return 'login';
    }
    if (e instanceof NetworkError || e instanceof SyntaxError || e instanceof TypeError) {
      // Nothing is known about the server's side: the same key is sent again later.
      await retryLater('offline; will retry', backoff(item.attempts + 1));
      return 'network';
    }
    if (e instanceof ProblemError) {
      await retryLater(e.problem.detail, backoff(item.attempts + 1));
      return 'retry';
    }
    throw e;
  }
}

/**
 * The version an edit answered 412 was made from, if it can be sent again for the server to
 * merge (an update not yet sent that way); otherwise null.
 * @param {OutboxItem} item
 * @param {{ifMatch: string | null, baseVersion?: number}} request
 * @returns {number | null}
 */
function mergeBase(item, request) {
  if (item.kind !== 'update' || request.baseVersion || !request.ifMatch) return null;
  const version = Number(request.ifMatch.replace(/^"|"$/g, ''));
  return Number.isInteger(version) && version >= 1 ? version : null;
}

/**
 * Forgets finished items after a day (keeping local-to-server id mappings in `ref:` keys).
 * @param {OutboxItem[]} items
 */
async function prune(items) {
  const old = Date.now() - KEEP_FINISHED_MS;
  const activePosts = new Set(items.filter(isActive).map((i) => i.post));
  const gone = items.filter((i) => !isActive(i) && i.updatedAt < old && !activePosts.has(i.post));
  if (gone.length === 0) return;
  await transact(['outbox'], 'readwrite', (tx) => {
    for (const i of gone) tx.objectStore('outbox').delete(/** @type {number} */ (i.seq));
  });
}

/**
 * Sends a failed item again, with the same key and request.
 * @param {number} seq
 */
export async function retry(seq) {
  await updateItem(seq, (i) => {
    if (i.state === 'failed') { i.state = 'queued'; i.nextAt = 0; i.note = ''; }
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
 * Ends a conflict (or a failure) as the author chose. `keep: 'server'` drops the local changes
 * of this post that wait behind it; otherwise `fields` (theirs, or a hand merge) become a new
 * change based on the server's current version, limited to the fields in `only` if given.
 * @param {number} seq
 * @param {{keep: 'server'} | {keep: 'mine', fields: Fields | null, user: string, only?: Set<string>}} choice
 */
export async function resolve(seq, choice) {
  const items = await allItems();
  const item = items.find((i) => i.seq === seq);
  if (!item || (item.state !== 'conflict' && item.state !== 'failed')) return null;
  const current = item.problem?.current ?? null;
  const wait = followers(item, items);
  const state = choice.keep === 'server' ? 'discarded' : 'superseded';
  /** @type {OutboxItem | null} */
  let created = null;
  await transact(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    for (const i of wait) store.put({ ...i, state, updatedAt: Date.now() });
    if (choice.keep === 'server' || !current) return;
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

/** Items that still need something, for the counter. */
export async function activeCount() {
  return (await allItems()).filter(isActive).length;
}
