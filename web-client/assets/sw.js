// The editor's service worker: keeps the app shell (every file of the editor) so `/editor/`
// opens without a network, and sends the outbox on Background Sync, also with no tab open.
//
// The server fills in VERSION (a hash of all editor files) and SHELL (their paths): a new
// binary with changed files is a changed sw.js, which installs a fresh cache and drops the old.

import { replay } from './js/replay.js';

const VERSION = '__QUIRE_ASSETS_VERSION__';
const SHELL = /** @type {string[]} */ (/** @type {unknown} */ ("__QUIRE_ASSETS_LIST__"));
const CACHE = `quire-editor-${VERSION}`;
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const scope = new URL(sw.registration.scope);

sw.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((path) => new Request(new URL(path, scope), { cache: 'no-cache' })));
    await sw.skipWaiting();
  })());
});

sw.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('quire-editor-') && name !== CACHE) await caches.delete(name);
    }
    await sw.clients.claim();
  })());
});

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  event.respondWith(shell(event.request, url));
});

/**
 * The shell from the cache; anything else (and a cache miss) from the network.
 * @param {Request} request
 * @param {URL} url
 */
async function shell(request, url) {
  const cache = await caches.open(CACHE);
  const key = request.mode === 'navigate' || url.pathname === scope.pathname ? scope.href : url.origin + url.pathname;
  const hit = await cache.match(key);
  if (hit) return hit;
  return fetch(request);
}

sw.addEventListener('sync', (event) => {
  const e = /** @type {ExtendableEvent & {tag: string}} */ (event);
  if (e.tag !== 'quire-outbox') return;
  e.waitUntil((async () => {
    const r = await replay({ force: true });
    // Let the browser try again later (with its own backoff) while the network is the problem.
    if (r.active > 0 && (r.offline || r.retryAt !== null) && !r.needsLogin) throw new Error('outbox not empty yet');
  })());
});
