// The mirrors of the content repository (`[[git.remotes]]`) as `/api/v1/status` reports them: a
// notice under the header while pushes to a remote keep failing or a pull from a forge failed
// (diverged, refused files), saying what to do. Posts are safe on the server either way, so it
// informs and never blocks editing.
//
// The status is read at start and after a login, when the network is back, when the page shows
// again, a moment after the outbox sent something, and every minute while the page is visible;
// never while offline, hidden or logged out.

import { getJson, session } from '../api.js';
import { bus } from './bus.js';
import { h, when } from './dom.js';

/** @typedef {import('../types.js').MirrorStatus} MirrorStatus */
/** @typedef {import('../types.js').PullStatus} PullStatus */
/** @typedef {import('../types.js').StatusResponse} StatusResponse */

/** The regular read while the page is visible. */
const INTERVAL_MS = 60000;
/** After the outbox sent something: git commits it and pushes within moments. */
const AFTER_SYNC_MS = 3000;
/** Requests closer than this to the last read wait for it (start, login, online come together). */
const MIN_GAP_MS = 5000;

let timer = 0;
let dueAt = 0;
let lastRead = 0;

/** Starts reading the status, and the triggers for reading it again. */
export function watchMirrors() {
  window.addEventListener('online', () => checkMirrors());
  document.addEventListener('visibilitychange', () => { if (!document.hidden) checkMirrors(); });
  bus.addEventListener('synced', () => checkMirrors(AFTER_SYNC_MS));
  checkMirrors();
}

/**
 * Reads the status in `delay` ms (or when `MIN_GAP_MS` after the last read is over); an earlier
 * read already planned stays.
 * @param {number} [delay]
 */
export function checkMirrors(delay = 0) {
  const at = Math.max(Date.now() + delay, lastRead + MIN_GAP_MS);
  if (timer && dueAt <= at) return;
  clearTimeout(timer);
  dueAt = at;
  timer = window.setTimeout(read, at - Date.now());
}

async function read() {
  timer = 0;
  // Offline or hidden: `online` and `visibilitychange` start the reads again.
  if (!navigator.onLine || document.hidden) return;
  const s = await session();
  if (!s?.refresh_token) {
    // The status is for signed-in users; a login starts the reads again.
    render([]);
    return;
  }
  lastRead = Date.now();
  try {
    const status = /** @type {StatusResponse} */ (await getJson('/status'));
    render(status.git.mirrors.filter(troubled));
  } catch {
    // Server unreachable or the login expired: what is shown stays until a read succeeds.
  }
  checkMirrors(INTERVAL_MS);
}

/** @param {MirrorStatus} m */
function troubled(m) {
  return m.failures > 0 || m.pull?.ok === false;
}

/**
 * Shows one entry per troubled mirror, or nothing. Rebuilt only when its text changes, so the
 * live region announces a change once; a *What to do* the reader opened stays open.
 * @param {MirrorStatus[]} mirrors
 */
function render(mirrors) {
  const box = /** @type {HTMLElement} */ (document.getElementById('mirrors'));
  const text = JSON.stringify(mirrors);
  if (box.dataset.text === text) return;
  box.dataset.text = text;
  const open = new Set([...box.querySelectorAll('.mirror')].filter((e) => e.querySelector('details[open]')).map((e) => e.getAttribute('data-remote')));
  box.replaceChildren(...mirrors.map(entry));
  for (const e of box.querySelectorAll('.mirror')) {
    if (open.has(e.getAttribute('data-remote'))) e.querySelector('details')?.setAttribute('open', '');
  }
}

/**
 * What went wrong, then one *What to do* for all of it.
 * @typedef {object} Trouble
 * @property {Child[]} said
 * @property {Step[]} todo
 */

/** @param {MirrorStatus} m */
function entry(m) {
  const pull = m.pull?.ok === false ? pullTrouble(m, m.pull) : null;
  // A diverged forge refuses the push too; the divergence's steps resolve both.
  const push = m.failures > 0 ? pushTrouble(m, Boolean(pull && m.pull?.diverged)) : null;
  const todo = [...(pull?.todo ?? []), ...(push?.todo ?? [])];
  return h('div', { class: 'mirror', 'data-remote': m.name },
    pull?.said, push?.said,
    h('details', { class: 'todo' }, h('summary', {}, 'What to do'), h('ol', {}, todo.map((s) => h('li', {}, s)))));
}

/**
 * @param {MirrorStatus} m
 * @param {PullStatus} pull
 * @returns {Trouble}
 */
function pullTrouble(m, pull) {
  if (pull.diverged) {
    const conflicts = pull.conflicts ?? [];
    const both = conflicts.length === 0 ? 'both have commits the other lacks'
      : `both changed ${conflicts.length === 1 ? 'the same file' : 'the same files'} since they parted`;
    return {
      said: [
        h('p', { class: 'said', 'data-kind': 'diverged' },
          h('strong', {}, m.name), ` and Quire ${both}: nothing from its branch “${pull.branch}” was taken in, and Quire’s posts are not pushed to it until this is resolved.`),
        conflicts.length ? h('ul', { class: 'paths', 'aria-label': 'Changed on both sides' }, conflicts.map((p) => h('li', {}, h('code', {}, p)))) : null,
      ],
      todo: forgeSteps(m, pull.branch, conflicts.length ? 'Resolve the files listed above' : 'Resolve any conflicting files'),
    };
  }
  if (pull.problems.length) {
    return {
      said: [
        h('p', { class: 'said', 'data-kind': 'refused' },
          h('strong', {}, m.name), `: the latest changes on its branch “${pull.branch}” were not taken in; Quire refused:`),
        h('ul', { class: 'paths' }, pull.problems.map((p) => h('li', {}, p))),
      ],
      todo: [['Fix these files on the forge’s branch “', pull.branch, '” and push there again; the next pull takes the changes in and this notice goes away.']],
    };
  }
  return {
    said: [h('p', { class: 'said', 'data-kind': 'pull' },
      h('strong', {}, m.name), `: pulling its branch “${pull.branch}” failed.`, h('samp', { class: 'git' }, gitSaid(pull.last_error)))],
    todo: [['Check that the server can fetch ', h('code', {}, m.url), ' without a prompt (an SSH key or a credential helper). The next webhook delivery or timed pull tries again.']],
  };
}

/**
 * @param {MirrorStatus} m
 * @param {boolean} diverged  The steps for the divergence resolve this too.
 * @returns {Trouble}
 */
function pushTrouble(m, diverged) {
  const error = gitSaid(m.last_error);
  const retry = m.next_retry_at ? ` Next try ${when(m.next_retry_at)}.` : '';
  const said = [h('p', { class: 'said', 'data-kind': 'push' },
    h('strong', {}, m.name), `: pushing Quire’s posts to it failed ${m.failures === 1 ? 'once' : `${m.failures} times in a row`}.${retry} Your posts are safe on this server.`,
    h('samp', { class: 'git' }, error))];
  if (diverged) return { said, todo: [] };
  // Refused as not a fast-forward: the remote has commits that Quire's `main` lacks.
  if (/rejected|non-fast-forward|fetch first/i.test(error)) {
    return { said, todo: m.pull ? forgeSteps(m, m.pull.branch, 'Resolve any conflicting files') : behindSteps(m) };
  }
  return {
    said,
    todo: [[
      'Check the remote’s URL (', h('code', {}, m.url), ') in the server’s ', h('code', {}, '[[git.remotes]]'),
      ' and that the server can push there without a prompt (an SSH key or a credential helper). Quire keeps trying by itself; this notice goes away after the next successful push.',
    ]],
  };
}

/**
 * git's error without its `hint:` lines (general advice; the steps below are the specific one).
 * @param {string | null} error
 */
function gitSaid(error) {
  const parts = (error ?? '').split('; ');
  const told = parts.filter((p) => !p.startsWith('hint:')).join('; ').trim();
  return told || error || 'git gave no reason';
}

/** Quire's repository, for `git clone` and `git pull`. */
function quireRepo() {
  return `${location.origin}/git/content.git`;
}

/**
 * A forge (a remote that is pulled from) and Quire both have commits the other lacks: merge or
 * rebase on a clone of the forge and push there; the next pull brings Quire up to it, and the
 * push after that has nothing to refuse.
 * @param {MirrorStatus} m
 * @param {string} branch  The forge's branch.
 * @param {string} resolve
 * @returns {Step[]}
 */
function forgeSteps(m, branch, resolve) {
  return [
    ['In a clone of ', h('code', {}, m.url), ', on its branch “', branch, '”, take in Quire’s changes: ',
      h('code', {}, `git pull --rebase ${quireRepo()} main`), ' (or without ', h('code', {}, '--rebase'),
      ' to merge). git asks for your Quire user name and, as the password, an ', h('a', { href: '#/tokens' }, 'API token'), '.'],
    [`${resolve}, `, h('code', {}, 'git add'), ' them and ', h('code', {}, 'git rebase --continue'), ' (or commit the merge).'],
    ['Push to the forge: ', h('code', {}, `git push --force-with-lease origin ${branch}`), ' after a rebase, a plain ', h('code', {}, 'git push'), ' after a merge.'],
    ['The forge’s next webhook delivery (or timed pull) takes the result in; this notice then goes away.'],
  ];
}

/**
 * The mirror has commits Quire lacks: bring them into Quire, then the push is a fast-forward.
 * @param {MirrorStatus} m
 * @returns {Step[]}
 */
function behindSteps(m) {
  return [
    ['The remote has commits that Quire does not have (someone pushed to it directly). In a clone of Quire (',
      h('code', {}, `git clone ${quireRepo()}`), '), take them in: ', h('code', {}, `git pull ${m.url} main`),
      ', resolve any conflicting files and commit.'],
    ['Push the result to Quire: ', h('code', {}, 'git push origin main'), ' (as the password, an ', h('a', { href: '#/tokens' }, 'API token'),
      '). Quire’s next push to the remote then succeeds and this notice goes away.'],
    ['If those commits are not wanted, reset the remote’s ', h('code', {}, 'main'), ' to Quire’s instead.'],
  ];
}

/** @typedef {(string | Node)[]} Step  One step in words, with code and links as elements. */
/** @typedef {import('./dom.js').Child} Child */
