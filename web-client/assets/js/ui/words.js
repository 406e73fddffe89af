// What an outbox item's state means, in the author's words. The program's own account (status
// codes, problem details, headers, keys) stays out of the sentence; `rawDetails` puts it behind a
// "Details" toggle for whoever needs it.

import { h } from './dom.js';

/** @typedef {import('../types.js').OutboxItem} OutboxItem */
/** @typedef {import('../types.js').Problem} Problem */

/**
 * One sentence for an item's state. The network words follow `online` (the header's Online or
 * Offline), so a row never says "offline" while the header says "Online".
 * @param {OutboxItem} item
 * @param {boolean} [online]
 * @returns {string}
 */
export function stateWords(item, online = navigator.onLine) {
  switch (item.state) {
    case 'queued': return waiting(item, online);
    case 'sending': return 'Sending…';
    case 'sent': return item.result?.status === 'published' ? 'Published.' : 'Saved on the server.';
    case 'conflict': return 'Changed elsewhere meanwhile, in the same places as here: compare and choose.';
    case 'failed': return refusal(item.problem);
    case 'superseded': return 'Replaced by what you chose in a conflict.';
    case 'discarded': return 'Discarded; the server’s version was kept.';
  }
}

/**
 * @param {OutboxItem} item
 * @param {boolean} online
 */
function waiting(item, online) {
  if (!online) return 'You are offline: kept on this device, sent when you are back online.';
  switch (item.reason) {
    case 'unreachable': return 'The server is not reachable right now; will retry.';
    case 'server': return 'The server had a problem; will retry.';
    case 'busy': return 'The server is still working on it; will check again.';
    case 'login': return 'Waiting for you to log in.';
    case 'merging': return 'Changed elsewhere meanwhile; merging both changes.';
    default: return 'Waiting to be sent.';
  }
}

/**
 * Why the server will not take a change, and what the author can do.
 * @param {Problem | null} problem
 */
export function refusal(problem) {
  const status = problem?.status ?? 0;
  // The editor's own reasons (status 0) are written in the author's words already.
  if (status === 0) return `This change cannot be sent: ${problem?.detail ?? 'it depends on a change that is gone'}.`;
  if (status === 401 || status === 403) return 'Your account is not allowed to make this change.';
  if (status === 404 || status === 410) return 'This post is no longer on the server.';
  if (status === 413) return 'This change is too large for the server.';
  if (status === 400 || status === 422) {
    const field = problem?.field ? ` Check the ${problem.field}.` : '';
    return `The server did not accept this change.${field}`;
  }
  return 'The server refused this change.';
}

/**
 * The program's account of an item, folded away.
 * @param {OutboxItem} item
 */
export function rawDetails(item) {
  const problem = item.problem ? `${item.problem.status} ${item.problem.title}: ${item.problem.detail}` : '';
  const lines = [
    problem,
    item.problem?.type ?? '',
    item.note === problem ? '' : item.note,
    `Idempotency-Key: ${item.key}`,
  ].filter(Boolean);
  return h('details', { class: 'raw' }, h('summary', {}, 'Details'), h('pre', {}, lines.join('\n')));
}
