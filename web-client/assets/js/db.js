// IndexedDB: the outbox, autosaved drafts, cached posts and the login. Shared by the page and
// the service worker, so it touches nothing but IndexedDB.

/** @typedef {import('./types.js').OutboxItem} OutboxItem */
/** @typedef {import('./types.js').Draft} Draft */
/** @typedef {import('./types.js').Post} Post */

const NAME = 'quire-editor';
const VERSION = 1;

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** @returns {Promise<IDBDatabase>} */
export function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      db.createObjectStore('drafts', { keyPath: 'key' });
      db.createObjectStore('posts', { keyPath: 'id' });
      db.createObjectStore('kv');
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading the schema: let it, and reopen on next use.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    req.onerror = () => { opening = null; reject(req.error); };
    req.onblocked = () => { opening = null; reject(new Error('the editor database is blocked by another tab')); };
  });
  return opening;
}

/**
 * Runs `fn` in one transaction and resolves with its result once the transaction committed.
 * @template T
 * @param {string[]} stores
 * @param {IDBTransactionMode} mode
 * @param {(tx: IDBTransaction) => T | Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function transact(stores, mode, fn) {
  const db = await open();
  const tx = db.transaction(stores, mode, { durability: 'strict' });
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(undefined);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
  });
  /** @type {T} */
  let result;
  try {
    result = await fn(tx);
  } catch (e) {
    try { tx.abort(); } catch { /* already finished */ }
    throw e;
  }
  await done;
  return result;
}

/**
 * @template T
 * @param {IDBRequest<T>} req
 * @returns {Promise<T>}
 */
export function req(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * @param {string} key
 * @returns {Promise<unknown>}
 */
export function kvGet(key) {
  return transact(['kv'], 'readonly', (tx) => req(tx.objectStore('kv').get(key)));
}

/**
 * Every key-value pair whose key starts with `prefix`, in one transaction.
 * @param {string} prefix
 * @returns {Promise<Map<string, unknown>>}
 */
export function kvPrefix(prefix) {
  return transact(['kv'], 'readonly', async (tx) => {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const store = tx.objectStore('kv');
    const [keys, values] = await Promise.all([req(store.getAllKeys(range)), req(store.getAll(range))]);
    return new Map(keys.map((k, n) => [String(k), values[n]]));
  });
}

/**
 * @param {string} key
 * @param {unknown} value  `undefined` deletes.
 */
export function kvSet(key, value) {
  return transact(['kv'], 'readwrite', (tx) => {
    const store = tx.objectStore('kv');
    if (value === undefined) store.delete(key); else store.put(value, key);
  });
}

/** @returns {Promise<OutboxItem[]>} in composition order */
export function allItems() {
  return transact(['outbox'], 'readonly', (tx) => req(tx.objectStore('outbox').getAll()));
}

/**
 * @param {number} seq
 * @returns {Promise<OutboxItem | undefined>}
 */
export function getItem(seq) {
  return transact(['outbox'], 'readonly', (tx) => req(tx.objectStore('outbox').get(seq)));
}

/**
 * Changes an item in one transaction; `change` sees the stored item.
 * @param {number} seq
 * @param {(item: OutboxItem) => void} change
 * @returns {Promise<OutboxItem | undefined>}
 */
export function updateItem(seq, change) {
  return transact(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    /** @type {OutboxItem | undefined} */
    const item = await req(store.get(seq));
    if (!item) return undefined;
    change(item);
    item.updatedAt = Date.now();
    store.put(item);
    return item;
  });
}

/** @param {Post} post */
export function cachePost(post) {
  return transact(['posts'], 'readwrite', (tx) => { tx.objectStore('posts').put(post); });
}

/** @param {Post[]} posts */
export function cachePosts(posts) {
  return transact(['posts'], 'readwrite', (tx) => {
    const store = tx.objectStore('posts');
    for (const p of posts) store.put(p);
  });
}

/**
 * @param {string} id
 * @returns {Promise<Post | undefined>}
 */
export function cachedPost(id) {
  return transact(['posts'], 'readonly', (tx) => req(tx.objectStore('posts').get(id)));
}

/** @returns {Promise<Post[]>} */
export function cachedPosts() {
  return transact(['posts'], 'readonly', (tx) => req(tx.objectStore('posts').getAll()));
}

/**
 * @param {string} key
 * @returns {Promise<Draft | undefined>}
 */
export function getDraft(key) {
  return transact(['drafts'], 'readonly', (tx) => req(tx.objectStore('drafts').get(key)));
}

/** @returns {Promise<Draft[]>} */
export function allDrafts() {
  return transact(['drafts'], 'readonly', (tx) => req(tx.objectStore('drafts').getAll()));
}

/** @param {Draft} draft */
export function putDraft(draft) {
  return transact(['drafts'], 'readwrite', (tx) => { tx.objectStore('drafts').put(draft); });
}

/** @param {string} key */
export function deleteDraft(key) {
  return transact(['drafts'], 'readwrite', (tx) => { tx.objectStore('drafts').delete(key); });
}
