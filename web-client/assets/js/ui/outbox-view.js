// The outbox: every change that still needs sending or a decision, and the recently sent ones,
// each with its state.

import { allItems, putDraft } from '../db.js';
import { isActive, resolve, retry } from '../outbox.js';
import { listen, bus } from './bus.js';
import { h, show, toast } from './dom.js';
import { changed, kick, needsLogin } from './sync.js';

/** @typedef {import('../types.js').OutboxItem} OutboxItem */

export async function outboxView() {
  const list = h('ul', { class: 'outbox', id: 'outbox-items' });
  const summary = h('p', { id: 'outbox-summary', role: 'status' });
  const render = async () => {
    const items = await allItems();
    const active = items.filter(isActive);
    const done = items.filter((i) => i.state === 'sent').slice(-20).reverse();
    summary.textContent = active.length
      ? `${active.length} change${active.length === 1 ? '' : 's'} not yet on the server.${needsLogin ? ' Log in to send them.' : ''}${navigator.onLine ? '' : ' You are offline.'}`
      : 'Everything is on the server.';
    list.replaceChildren(...[...active, ...done].map(row));
  };
  listen(bus, 'outbox', render);
  show('Outbox',
    h('h1', {}, 'Outbox'),
    summary,
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'send-now', onclick: () => kick(true) }, 'Send now')),
    list);
  await render();
}

/** @param {OutboxItem} item */
function row(item) {
  const actions = [];
  if (item.state === 'conflict') actions.push(h('a', { class: 'button primary', href: `#/conflict/${item.seq}` }, 'Compare and choose'));
  if (item.state === 'failed') {
    actions.push(h('button', { type: 'button', onclick: async () => { await retry(/** @type {number} */ (item.seq)); changed(); } }, 'Try again'));
    actions.push(h('button', { type: 'button', class: 'danger', onclick: () => discard(item) }, 'Discard (keep as draft)'));
  }
  return h('li', { 'data-state': item.state, 'data-seq': String(item.seq) },
    h('span', { class: 'what' }, item.label, ' ', h('span', { class: `badge ${item.state}` }, item.state)),
    item.state === 'failed' || item.state === 'conflict' ? h('span', { class: 'detail' }, item.problem?.detail ?? '') : null,
    item.note && item.state !== 'failed' && item.state !== 'conflict' ? h('span', { class: 'meta' }, item.note) : null,
    h('span', { class: 'meta' }, `composed ${new Date(item.createdAt).toLocaleString()} · ${item.attempts} attempt${item.attempts === 1 ? '' : 's'} · key ${item.key}`),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
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
