// Sending the outbox. Independent items go out a few at a time (`PARALLEL`); order is kept
// only where it matters: the items of one post one after another (its create before its edits,
// each edit after the one before), and an item with `after` keys after every earlier item of
// those keys (an upload before the post that shows it). Every item keeps its own
// Idempotency-Key and fixed request, so sending several at once never applies one twice.
//
// One item that waits or fails holds back only what depends on it: a refused item (a 4xx the
// server will never accept) becomes `failed` and blocks the later items of its post only; a 5xx
// or a lost answer puts it back in the queue with backoff while the others go on. The run stops
// picking new items only when the server looks gone (several answers lost in a row) or a login
// is needed.
//
// Replay runs under the Web Lock `quire-outbox`, so one context sends at a time (a tab, or the
// service worker on a Background Sync event).

import { authed, authedUpload, LoginRequired, NetworkError, problemOf, ProblemError, session } from './api.js';
import { allItems, transact, updateItem } from './db.js';
import { announce, isActive, pendingUploads, serverId, uploadedUrls, withUploadedUrls } from './outbox.js';

/** @typedef {import('./types.js').OutboxItem} OutboxItem */
/** @typedef {import('./types.js').Post} Post */
/** @typedef {import('./types.js').Problem} Problem */
/** @typedef {import('./types.js').WaitReason} WaitReason */
/** @typedef {NonNullable<OutboxItem['request']>} Request */
/** @typedef {'sent' | 'merge' | 'conflict' | 'failed' | 'retry' | 'network' | 'login'} Outcome */

/** Requests in flight at once (browsers open at most six connections to one server). */
export const PARALLEL = 4;
/** Lost answers in a row after which the server counts as gone for this run. */
const GONE_AFTER = 3;
/** How long finished items stay visible. */
const KEEP_FINISHED_MS = 24 * 3600 * 1000;

/**
 * @typedef {object} ReplayResult
 * @property {number} sent  Items sent in this run.
 * @property {number} active  Items still active afterwards.
 * @property {number | null} retryAt  When to try again (ms), if something waits for time.
 * @property {boolean} needsLogin  Something waits for a login.
 * @property {boolean} offline  The server could not be reached during this run.
 */

/**
 * @typedef {object} Run  The state of one replay.
 * @property {string | null} user  Who is logged in (only their items are sent).
 * @property {boolean} force  Ignore backoff.
 * @property {Set<number>} tried  Items sent in this run (each at most once, but for a merge).
 * @property {number} lost  Lost answers in a row.
 * @property {boolean} stop  Pick nothing more.
 * @property {ReplayResult} result
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
  const s = await session();
  /** @type {Run} */
  const run = {
    user: s?.refresh_token ? s.username : null, force, tried: new Set(), lost: 0, stop: false,
    result: { sent: 0, active: 0, retryAt: null, needsLogin: false, offline: false },
  };
  /** @type {Map<number, Promise<void>>} */
  const inFlight = new Map();
  /** @type {unknown} */
  let failure = null;
  for (;;) {
    if (!run.stop && inFlight.size < PARALLEL) {
      for (const { item, request } of await pickReady(await allItems(), run, PARALLEL - inFlight.size)) {
        const seq = /** @type {number} */ (item.seq);
        run.tried.add(seq);
        inFlight.set(seq, sendItem(item, request)
          .then((outcome) => record(run, seq, outcome))
          .catch((e) => { failure = e; run.stop = true; })
          .finally(() => { inFlight.delete(seq); }));
      }
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  if (failure) throw failure;
  const items = await allItems();
  finishRun(run, items);
  await prune(items);
  announce();
  return run.result;
}

/**
 * Counts an item's outcome into the run.
 * @param {Run} run
 * @param {number} seq
 * @param {Outcome} outcome
 */
function record(run, seq, outcome) {
  run.lost = outcome === 'network' ? run.lost + 1 : 0;
  // Sent again at once, as a merge (at most once: a merge is never turned into another).
  if (outcome === 'merge') run.tried.delete(seq);
  if (outcome === 'sent') run.result.sent++;
  if (outcome === 'login') { run.result.needsLogin = true; run.stop = true; }
  if (outcome === 'network') {
    run.result.offline = true;
    if (run.lost >= GONE_AFTER || !navigator.onLine) run.stop = true;
  }
}

/**
 * Fills in what is left and when to try again.
 * @param {Run} run
 * @param {OutboxItem[]} items
 */
function finishRun(run, items) {
  const { result } = run;
  const now = Date.now();
  result.active = items.filter(isActive).length;
  for (const i of items) {
    if (i.state !== 'queued' && i.state !== 'sending') continue;
    // Left over because the server stopped answering: try again soon, not only when the item
    // that stopped the run is due (its backoff grows to a minute).
    const leftOver = run.stop && result.offline && !run.tried.has(/** @type {number} */ (i.seq));
    const at = i.nextAt > now ? i.nextAt : leftOver ? now + 5000 : null;
    if (at !== null) result.retryAt = Math.min(result.retryAt ?? Infinity, at);
  }
  if (result.offline && result.retryAt === null && result.active > 0) result.retryAt = now + 5000;
  if (!run.user && items.some((i) => i.state === 'queued' || i.state === 'sending')) result.needsLogin = true;
}

/**
 * The items that may be sent now, in composition order, at most `limit`, with their requests.
 * An item waits while an earlier active item has its post key or one of its `after` keys.
 * @param {OutboxItem[]} items
 * @param {Run} run
 * @param {number} limit
 * @returns {Promise<{item: OutboxItem, request: Request}[]>}
 */
async function pickReady(items, run, limit) {
  /** @type {Set<string>} keys with an earlier active item */
  const busy = new Set();
  /** @type {{item: OutboxItem, request: Request}[]} */
  const ready = [];
  const now = Date.now();
  for (const item of items) {
    if (ready.length >= limit) break;
    if (!isActive(item)) continue;
    const waits = busy.has(item.post) || (item.after ?? []).some((k) => busy.has(k));
    busy.add(item.post);
    if (waits || item.state === 'conflict' || item.state === 'failed') continue;
    if (!run.user || item.user !== run.user) { run.result.needsLogin = true; continue; }
    if (run.tried.has(/** @type {number} */ (item.seq))) continue;
    if (!run.force && item.nextAt > now) continue;
    let request = item.request;
    if (!request) {
      const resolved = await resolveRequest(item, items);
      if (!resolved) continue;
      if ('error' in resolved) {
        await finish(item, 'failed', { problem: unsendable(resolved.error) });
        continue;
      }
      request = resolved;
    }
    ready.push({ item, request });
  }
  return ready;
}

/**
 * The request an item sends, or null while it depends on an earlier unsent change.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Promise<Request | null | {error: string}>}
 */
async function resolveRequest(item, items) {
  if (item.kind === 'upload') {
    const params = new URLSearchParams({ alt: item.upload?.alt ?? '' });
    if (item.upload?.name) params.set('name', item.upload.name);
    return { method: 'POST', path: `/media?${params}`, ifMatch: null };
  }
  const body = await bodyWithUploads(item, items);
  if (!body || 'error' in body) return body;
  const request = await resolvePostRequest(item, items);
  return request && !('error' in request) && body.body !== item.body ? { ...request, body: body.body } : request;
}

/**
 * The item's JSON body with the server URLs of the images it shows (uploaded before it); null
 * while an upload it needs is still in the outbox, an error if one will never be on the server.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Promise<{body: Record<string, unknown> | null} | null | {error: string}>}
 */
async function bodyWithUploads(item, items) {
  const text = typeof item.body?.body === 'string' ? item.body.body : '';
  const keys = pendingUploads(text);
  if (keys.length === 0) return { body: item.body };
  const urls = await uploadedUrls(keys, items);
  for (const key of keys) {
    if (urls.has(key)) continue;
    const upload = items.find((i) => i.post === key && i.kind === 'upload');
    if (upload && isActive(upload)) return null;
    return { error: `an image of the post (${upload?.upload?.name || key}) was never uploaded` };
  }
  return { body: { ...item.body, body: withUploadedUrls(text, (k) => urls.get(k)) } };
}

/**
 * The method, path and If-Match of a post change.
 * @param {OutboxItem} item
 * @param {OutboxItem[]} items
 * @returns {Promise<Request | null | {error: string}>}
 */
async function resolvePostRequest(item, items) {
  if (item.kind === 'create') return { method: 'POST', path: '/posts', ifMatch: null };
  const id = await serverId(item.post, items);
  if (!id) {
    const create = items.find((i) => i.post === item.post && i.kind === 'create');
    return create && isActive(create) ? null : { error: 'the post was never created on the server' };
  }
  if (item.kind === 'copy') return { method: 'POST', path: `/posts/${encodeURIComponent(id)}/conflict-copies`, ifMatch: null };
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
  const method = item.kind === 'delete' ? 'DELETE' : item.kind === 'restore' ? 'POST' : 'PATCH';
  return { method, path, ifMatch: `"${version}"` };
}

/** @param {string} detail @returns {Problem} */
function unsendable(detail) {
  return { type: 'urn:quire:editor:unsendable', title: 'Cannot be sent', status: 0, detail };
}

/** @param {number} attempts */
function backoff(attempts) {
  const base = Math.min(60000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
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
 * Back to the queue, to be sent again after `delay` ms.
 * @param {OutboxItem} item
 * @param {WaitReason} reason
 * @param {string} note
 * @param {number} delay
 */
function retryLater(item, reason, note, delay) {
  return finish(item, 'queued', { nextAt: Date.now() + delay, reason, note });
}

/**
 * Records a sent item, the post as the server answered it and, for a create, the server id of
 * the local key, in one transaction.
 * @param {OutboxItem} item
 * @param {Post} post
 */
async function recordSent(item, post) {
  await transact(['outbox', 'posts', 'kv'], 'readwrite', (tx) => {
    if (item.kind === 'create') tx.objectStore('kv').put(post.id, `ref:${item.post}`);
    tx.objectStore('posts').put(post);
    const store = tx.objectStore('outbox');
    const get = store.get(/** @type {number} */ (item.seq));
    get.onsuccess = () => {
      /** @type {OutboxItem | undefined} */
      const stored = get.result;
      if (stored) store.put({ ...stored, state: 'sent', result: post, problem: null, reason: null, note: '', updatedAt: Date.now() });
    };
  });
  announce();
}

/**
 * Records a sent upload and its URL (kept after the outbox forgets the item: drafts and later
 * changes may still show the image by its outbox URL).
 * @param {OutboxItem} item
 * @param {import('./types.js').UploadedMedia} media
 */
async function recordUploaded(item, media) {
  const uploaded = { id: media.id, url: media.url };
  await transact(['outbox', 'kv'], 'readwrite', (tx) => {
    tx.objectStore('kv').put(uploaded, `upload:${item.post}`);
    const store = tx.objectStore('outbox');
    const get = store.get(/** @type {number} */ (item.seq));
    get.onsuccess = () => {
      /** @type {OutboxItem | undefined} */
      const stored = get.result;
      // The bytes are on the server now: the outbox need not keep them.
      if (stored) store.put({ ...stored, upload: stored.upload ? { ...stored.upload, blob: new Blob([]) } : undefined, state: 'sent', uploaded, problem: null, reason: null, note: '', updatedAt: Date.now() });
    };
  });
  announce();
}

/**
 * Tells every tab (this one too: its other channel objects hear it) how far an upload got
 * (`sent` of `total` bytes; not stored).
 * @param {string} key  The item's Idempotency-Key.
 * @param {number} sent
 * @param {number} total
 */
function progress(key, sent, total) {
  try {
    const channel = new BroadcastChannel('quire');
    channel.postMessage({ type: 'upload-progress', key, sent, total });
    channel.close();
  } catch { /* no BroadcastChannel: no progress shown */ }
}

/**
 * How long a request may take: longer for an image (at 50 kB/s, a slow mobile link).
 * @param {OutboxItem} item
 */
function uploadTimeout(item) {
  return 20000 + (item.upload ? Math.ceil(item.upload.blob.size / 50) : 0);
}

/**
 * Sends one item once and records the outcome.
 * @param {OutboxItem} item
 * @param {Request} request
 * @returns {Promise<Outcome>}
 */
async function sendItem(item, request) {
  await updateItem(/** @type {number} */ (item.seq), (i) => { i.request = request; i.state = 'sending'; i.attempts++; });
  announce();
  /** @type {Record<string, string>} */
  const headers = { 'Idempotency-Key': item.key };
  if (request.ifMatch) headers['If-Match'] = request.ifMatch;
  if (request.baseVersion) headers['Base-Version'] = String(request.baseVersion);
  const json = request.body ?? item.body;
  if (item.upload) headers['Content-Type'] = item.upload.contentType;
  else if (json) headers['Content-Type'] = 'application/json';
  try {
    const res = item.upload
      ? await authedUpload(request.path, { method: request.method, headers, body: item.upload.blob }, uploadTimeout(item),
        (sent, total) => progress(item.key, sent, total))
      : await authed(request.path, { method: request.method, headers, body: json ? JSON.stringify(json) : undefined }, uploadTimeout(item));
    if (res.ok && item.kind === 'upload') {
      await recordUploaded(item, /** @type {import('./types.js').UploadedMedia} */ (await res.json()));
      return 'sent';
    }
    if (res.ok) {
      await recordSent(item, /** @type {Post} */ (await res.json()));
      return 'sent';
    }
    return await refused(item, request, res.status, await problemOf(res));
  } catch (e) {
    if (e instanceof LoginRequired) {
      await finish(item, 'queued', { reason: 'login', note: e.message });
      return 'login';
    }
    if (e instanceof NetworkError || e instanceof SyntaxError || e instanceof TypeError) {
      // Nothing is known about the server's side: the same key is sent again later.
      await retryLater(item, 'unreachable', `no answer: ${e.message}`, backoff(item.attempts + 1));
      return 'network';
    }
    if (e instanceof ProblemError) {
      await retryLater(item, 'server', e.problem.detail, backoff(item.attempts + 1));
      return 'retry';
    }
    throw e;
  }
}

/**
 * Records an error answer: merged again, a conflict, a retry, or a failure.
 * @param {OutboxItem} item
 * @param {Request} request
 * @param {number} status
 * @param {Problem} problem
 * @returns {Promise<Outcome>}
 */
async function refused(item, request, status, problem) {
  const note = `${status} ${problem.title}: ${problem.detail}`;
  if (status === 412 || (status === 409 && problem.type.endsWith(':merge-conflict'))) {
    if (problem.current) await transact(['posts'], 'readwrite', (tx) => { tx.objectStore('posts').put(/** @type {Post} */ (problem.current)); });
    const base = status === 412 ? mergeBase(item, request) : null;
    if (base !== null) {
      const merge = { method: request.method, path: request.path, ifMatch: null, baseVersion: base };
      await finish(item, 'queued', { request: merge, nextAt: 0, reason: 'merging', note });
      return 'merge';
    }
    await finish(item, 'conflict', { problem, reason: null, note });
    return 'conflict';
  }
  if (status === 401) {
    await finish(item, 'queued', { reason: 'login', note, attempts: item.attempts });
    return 'login';
  }
  if (status === 409 && problem.type.endsWith(':idempotency-in-progress')) {
    await retryLater(item, 'busy', note, 1000);
    return 'retry';
  }
  if (status >= 500 || status === 408 || status === 429 || status === 425) {
    await retryLater(item, 'server', note, backoff(item.attempts + 1));
    return 'retry';
  }
  await finish(item, 'failed', { problem, reason: null, note });
  return 'failed';
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
