// The editor's entry point: registers the service worker, keeps the header (network, pending
// count, login) current, routes `#/…` to the views and starts the outbox replay.

import { logout, session } from './api.js';
import { activeCount } from './outbox.js';
import { bus, leave, listen } from './ui/bus.js';
import { conflictView } from './ui/conflict.js';
import { h, show, toast } from './ui/dom.js';
import { editorView } from './ui/editor.js';
import { historyView, versionView } from './ui/history.js';
import { listView } from './ui/list.js';
import { loginView } from './ui/login.js';
import { outboxView } from './ui/outbox-view.js';
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
  const count = await activeCount();
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
    await loginView(() => {
      updateHeader();
      keepFresh();
      kick(true);
      if (location.hash === '#/login' || !location.hash) location.hash = '#/posts'; else route();
    });
    return;
  }
  switch (view) {
    case 'new': return editorView(null);
    case 'edit': return editorView(a);
    case 'history': return b ? versionView(a, Number(b)) : historyView(a);
    case 'outbox': return outboxView();
    case 'conflict': return conflictView(Number(a));
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
      if (type === 'outbox') { bus.dispatchEvent(new Event('outbox')); updateHeader(); }
      if (type === 'session') { updateHeader(); keepFresh(); }
    };
  } catch { /* single-tab browsers */ }
  bus.addEventListener('login-needed', () => {
    session().then((s) => { if (!s?.refresh_token && !location.hash.startsWith('#/outbox')) route(); });
  });
  window.addEventListener('online', () => { updateHeader(); kick(true); });
  window.addEventListener('offline', updateHeader);
  window.addEventListener('hashchange', route);
  $('logout').addEventListener('click', async () => {
    const pending = await activeCount();
    await logout();
    toast(pending ? `Logged out. ${pending} unsent change${pending === 1 ? ' is' : 's are'} kept and sent after the next login.` : 'Logged out.');
    updateHeader();
    route();
  });
  updateHeader();
  keepFresh();
  route();
  kick(true);
}

start();
