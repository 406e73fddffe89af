// The editor's entry point: registers the service worker, keeps the header (network, pending
// count, login, the alert for changes that need the author) and the mirrors' notice current,
// routes `#/…` to the views and starts the outbox replay.

import { logout, session, setupPending } from './api.js';
import { allItems } from './db.js';
import { isActive } from './outbox.js';
import { bus, leave, listen } from './ui/bus.js';
import { conflictView } from './ui/conflict.js';
import { h, show, toast } from './ui/dom.js';
import { editorView } from './ui/editor.js';
import { historyView, versionView } from './ui/history.js';
import { listView } from './ui/list.js';
import { loginView, setupView } from './ui/login.js';
import { tokensView } from './ui/tokens.js';
import { outboxView } from './ui/outbox-view.js';
import { checkMirrors, watchMirrors } from './ui/mirrors.js';
import { keepFresh, kick } from './ui/sync.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('./sw.js', { type: 'module', scope: './' });
  } catch (e) {
    // Without module service workers (older Firefox) the editor still works while online.
    console.warn('the offline app shell is not available in this browser', e);
  }
}

async function updateHeader() {
  const items = await allItems();
  const count = items.filter(isActive).length;
  alertFor(items);
  $('pending-count').textContent = String(count);
  $('pending').classList.toggle('has', count > 0);
  $('pending').setAttribute('aria-label', `${count} change${count === 1 ? '' : 's'} pending: open the outbox`);
  const online = navigator.onLine;
  $('net').textContent = online ? 'Online' : 'Offline';
  $('net').classList.toggle('offline', !online);
  const s = await session();
  $('who').textContent = s?.refresh_token ? s.username : '';
  $('logout').hidden = !s?.refresh_token;
}

/**
 * Says out loud (role="alert") when changes need the author: a conflict or a refused change.
 * The text is set only when it changes, so it is announced once.
 * @param {import('./types.js').OutboxItem[]} items
 */
function alertFor(items) {
  const conflicts = items.filter((i) => i.state === 'conflict');
  const refused = items.filter((i) => i.state === 'failed');
  const parts = [];
  if (conflicts.length === 1) parts.push(`“${titleOf(conflicts[0])}” was changed elsewhere too, in the same places. Choose which version to keep.`);
  else if (conflicts.length > 1) parts.push(`${conflicts.length} posts were changed elsewhere too, in the same places. Choose which versions to keep.`);
  if (refused.length) parts.push(`${refused.length} change${refused.length === 1 ? ' was' : 's were'} not accepted by the server.`);
  const text = parts.join(' ');
  const box = $('alert');
  if (box.dataset.text === text) return;
  box.dataset.text = text;
  const target = conflicts.length === 1 && !refused.length ? `#/conflict/${conflicts[0].seq}` : '#/outbox';
  box.replaceChildren(...(text ? [text, ' ', h('a', { href: target, id: 'alert-open' }, conflicts.length ? 'Compare and choose' : 'Open the outbox')] : []));
}

/** @param {import('./types.js').OutboxItem} item */
function titleOf(item) {
  return item.problem?.current?.title ?? item.local?.title ?? item.label;
}

/** Outbox changes come in bursts while it is sent: redraw at once, then at most every 150 ms. */
const REDRAW_MS = 150;
let redraw = 0;
let redrawnAt = 0;
function outboxChanged() {
  if (redraw) return;
  redraw = window.setTimeout(() => {
    redraw = 0;
    redrawnAt = Date.now();
    bus.dispatchEvent(new Event('outbox'));
    updateHeader();
  }, Math.max(0, redrawnAt + REDRAW_MS - Date.now()));
}

let routing = Promise.resolve();
/** Renders the view for the current hash (one at a time). */
function route() {
  routing = routing.then(routeNow).catch((e) => {
    console.warn('view failed', e);
    show('Error', h('h1', {}, 'Something went wrong'), h('p', {}, String(e)), h('a', { href: '#/posts' }, 'Back to posts'));
  });
  return routing;
}

async function routeNow() {
  leave();
  const s = await session();
  const hash = location.hash.replace(/^#\/?/, '');
  const [view, a, b] = hash.split('/').map((p) => decodeURIComponent(p));
  if (!s?.refresh_token && view !== 'outbox') {
    const loggedIn = () => {
      updateHeader();
      keepFresh();
      checkMirrors();
      kick(true);
      if (location.hash === '#/login' || !location.hash) location.hash = '#/posts'; else route();
    };
    if (!s && await setupPending()) setupView(loggedIn);
    else await loginView(loggedIn);
    return;
  }
  switch (view) {
    case 'new': return editorView(null);
    case 'edit': return editorView(a);
    case 'history': return b ? versionView(a, Number(b)) : historyView(a);
    case 'outbox': return outboxView();
    case 'conflict': return conflictView(Number(a));
    case 'tokens': return tokensView();
    default: {
      const refresh = await listView();
      listen(bus, 'outbox', () => { refresh(); });
    }
  }
}

function start() {
  registerServiceWorker();
  try {
    const channel = new BroadcastChannel('quire');
    channel.onmessage = (e) => {
      const type = /** @type {{type?: string}} */ (e.data)?.type;
      if (type === 'outbox') outboxChanged();
      if (type === 'session') { updateHeader(); keepFresh(); checkMirrors(); }
      if (type === 'upload-progress') bus.dispatchEvent(new CustomEvent('upload-progress', { detail: e.data }));
    };
  } catch { /* single-tab browsers */ }
  bus.addEventListener('login-needed', () => {
    session().then((s) => { if (!s?.refresh_token && !location.hash.startsWith('#/outbox')) route(); });
  });
  window.addEventListener('online', () => { updateHeader(); kick(true); });
  window.addEventListener('offline', updateHeader);
  window.addEventListener('hashchange', route);
  $('logout').addEventListener('click', async () => {
    const pending = (await allItems()).filter(isActive).length;
    await logout();
    toast(pending ? `Logged out. ${pending} unsent change${pending === 1 ? ' is' : 's are'} kept and sent after the next login.` : 'Logged out.');
    updateHeader();
    checkMirrors();
    route();
  });
  updateHeader();
  keepFresh();
  watchMirrors();
  route();
  kick(true);
}

start();
