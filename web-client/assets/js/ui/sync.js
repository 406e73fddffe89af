// When the page replays the outbox: at start, on `online`, after every change, and on a timer
// with backoff (the fallback where Background Sync does not exist: Firefox and Safari). Where it
// does exist, a sync registration also lets the service worker send after the tab is closed.

import { nextRefreshAt, validSession } from '../api.js';
import { replay } from '../replay.js';
import { bus } from './bus.js';

/** While something waits without a time of its own, try again this often. */
const IDLE_RETRY_MS = 30000;

/** @type {Promise<void> | null} */
let running = null;
let again = false;
let againForce = false;
let timer = 0;
let refreshTimer = 0;
export let needsLogin = false;

/**
 * Replays now (once at a time in this tab; a call during a run causes one more run).
 * @param {boolean} [force]  ignore backoff
 */
export function kick(force = false) {
  if (running) {
    again = true;
    againForce = againForce || force;
    return running;
  }
  running = (async () => {
    let f = force;
    for (;;) {
      again = false;
      againForce = false;
      try {
        const r = await replay({ force: f });
        needsLogin = r.needsLogin;
        schedule(r.retryAt, r.active > 0 && !r.needsLogin);
        if (r.needsLogin) bus.dispatchEvent(new Event('login-needed'));
        if (r.sent > 0) bus.dispatchEvent(new Event('synced'));
      } catch (e) {
        console.warn('outbox replay failed', e);
        schedule(Date.now() + IDLE_RETRY_MS, true);
      }
      if (!again) break;
      f = againForce;
    }
  })().finally(() => { running = null; });
  return running;
}

/**
 * @param {number | null} at
 * @param {boolean} waiting
 */
function schedule(at, waiting) {
  clearTimeout(timer);
  const when = at ?? (waiting ? Date.now() + IDLE_RETRY_MS : null);
  if (when === null) return;
  timer = window.setTimeout(() => { if (navigator.onLine) kick(); else schedule(null, true); }, Math.max(250, when - Date.now()));
}

/** Asks the service worker to send when the network is back, even if this tab is closed. */
export async function requestBackgroundSync() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const reg = /** @type {ServiceWorkerRegistration & {sync?: {register(tag: string): Promise<void>}}} */ (await navigator.serviceWorker.ready);
    await reg.sync?.register('quire-outbox');
  } catch { /* no Background Sync: the timer and `online` cover it */ }
}

/** A change was composed: send it now if possible, and later in any case. */
export function changed() {
  requestBackgroundSync();
  if (navigator.onLine) kick(true);
  else schedule(null, true);
}

/** Keeps the access token fresh while the page is open: refreshes shortly before it expires. */
export async function keepFresh() {
  clearTimeout(refreshTimer);
  const at = await nextRefreshAt();
  if (at === null) return;
  refreshTimer = window.setTimeout(async () => {
    if (navigator.onLine) {
      try { await validSession(); } catch { /* offline or logged out: handled on next use */ }
    }
    keepFresh();
  }, Math.max(2000, at - Date.now()));
}
