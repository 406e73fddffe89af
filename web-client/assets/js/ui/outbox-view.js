// The outbox: every change that still needs sending or a decision, and the recently sent ones,
// each with its state.

import { allItems, putDraft } from '../db.js';
import { isActive, resolve, retry } from '../outbox.js';
import { listen, bus } from './bus.js';
import { h, show, toast } from './dom.js';
import { changed, kick, needsLogin } from './sync.js';
import { rawDetails, stateWords } from './words.js';

/** @typedef {import('../types.js').OutboxItem} OutboxItem */

export async function outboxView() {
  const list = h('ul', { class: 'outbox', id: 'outbox-items' });
  const summary = h('p', { id: 'outbox-summary', role: 'status' });
  const render = async () => {
    const items = await allItems();
    const active = items.filter(isActive);
    const done = items.filter((i) => i.state === 'sent').slice(-20).reverse();
    summary.textContent = summarize(active);
    list.replaceChildren(...[...active, ...done].map(row));
  };
  listen(bus, 'outbox', render);
  // An upload's progress, as the context sending it reports it (not stored).
  listen(bus, 'upload-progress', (e) => {
    const { key, sent, total } = /** @type {CustomEvent<{key: string, sent: number, total: number}>} */ (e).detail;
    const words = list.querySelector(`li[data-key="${CSS.escape(key)}"][data-state="sending"] [data-words]`);
    if (words) words.textContent = `Uploading… ${Math.floor((100 * sent) / Math.max(total, 1))}% (${megabytes(sent)} of ${megabytes(total)})`;
  });
  // The rows' words follow the network state shown in the header.
  listen(window, 'online', render);
  listen(window, 'offline', render);
  show('Outbox',
    h('h1', {}, 'Outbox'),
    summary,
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'send-now', onclick: () => kick(true) }, 'Send now')),
    list);
  await render();
}

/**
 * The line above the list.
 * @param {OutboxItem[]} active
 */
function summarize(active) {
  if (active.length === 0) return 'Everything is on the server.';
  const n = active.length;
  const refused = active.filter((i) => i.state === 'failed').length;
  return [
    `${n} change${n === 1 ? '' : 's'} not yet on the server.`,
    needsLogin ? 'Log in to send them.' : '',
    navigator.onLine ? '' : 'You are offline.',
    refused ? `${refused} ${refused === 1 ? 'was' : 'were'} not accepted by the server and need${refused === 1 ? 's' : ''} you.` : '',
  ].filter(Boolean).join(' ');
}

/** @param {OutboxItem} item */
function row(item) {
  const actions = [];
  if (item.state === 'conflict') actions.push(h('a', { class: 'button primary', href: `#/conflict/${item.seq}` }, 'Compare and choose'));
  if (item.state === 'failed') {
    actions.push(h('button', { type: 'button', onclick: async () => { await retry(/** @type {number} */ (item.seq)); changed(); } }, 'Try again'));
    actions.push(h('button', { type: 'button', class: 'danger', onclick: () => discard(item) }, 'Discard (keep as draft)'));
  }
  const trouble = item.state === 'failed' || item.state === 'conflict';
  return h('li', { 'data-state': item.state, 'data-seq': String(item.seq), 'data-key': item.key },
    h('span', { class: 'what' }, item.label, ' ', h('span', { class: `badge ${item.state}` }, item.state)),
    h('span', { class: trouble ? 'detail' : 'meta', 'data-words': '' }, stateWords(item)),
    h('span', { class: 'meta' }, `written ${new Date(item.createdAt).toLocaleString()} · ${item.attempts} attempt${item.attempts === 1 ? '' : 's'}`),
    item.problem || item.note ? rawDetails(item) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

/** @param {number} bytes */
function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Drops a failed change but keeps what was written as a draft, so nothing is lost.
 * @param {OutboxItem} item
 */
async function discard(item) {
  if (item.local) await putDraft({ key: item.post, fields: item.local, base: null, savedAt: Date.now() });
  await resolve(/** @type {number} */ (item.seq), { keep: 'server' });
  toast(item.local ? 'Discarded; your text is kept as a draft of the post.' : 'Discarded.');
}
