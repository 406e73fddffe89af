// The REST API: login and token refresh, authenticated requests, problem+json. Shared by the
// page and the service worker (IndexedDB, fetch and Web Locks only).
//
// Refresh tokens rotate and a reused one revokes the whole session, so at most one refresh may
// run at a time across every tab and the service worker: it happens under the Web Lock
// `quire-auth`, and re-reads the stored session first in case another context already did it.

import { kvGet, kvSet } from './db.js';

/** @typedef {import('./types.js').Session} Session */
/** @typedef {import('./types.js').Tokens} Tokens */
/** @typedef {import('./types.js').Problem} Problem */

export const API = '/api/v1';
/** How long one request may take before it counts as lost. */
const REQUEST_TIMEOUT_MS = 20000;

/** The network failed or timed out: nothing is known about the server's side. */
export class NetworkError extends Error {}

/** There is no usable login: the user must log in again. */
export class LoginRequired extends Error {}

/** An error answer. */
export class ProblemError extends Error {
  /** @param {Problem} problem */
  constructor(problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }
}

/** @returns {Promise<Session | undefined>} */
export async function session() {
  return /** @type {Session | undefined} */ (await kvGet('session'));
}

/** Notifies every tab that the login changed. */
function announce() {
  try {
    const channel = new BroadcastChannel('quire');
    channel.postMessage({ type: 'session' });
    channel.close();
  } catch { /* no BroadcastChannel: tabs refresh on their own */ }
}

/**
 * @param {string} username
 * @param {Tokens} tokens
 */
async function store(username, tokens) {
  /** @type {Session} */
  const s = {
    username,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    lifetime: tokens.expires_in,
  };
  await kvSet('session', s);
  announce();
  return s;
}

/**
 * `fetch` that turns network failures and timeouts into `NetworkError`.
 * @param {string} url
 * @param {RequestInit} init
 * @param {number} [timeout]  Milliseconds before the request counts as lost.
 * @returns {Promise<Response>}
 */
export async function send(url, init, timeout = REQUEST_TIMEOUT_MS) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  try {
    return await fetch(url, { ...init, signal: abort.signal, cache: 'no-store' });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The problem in an error answer (or one made up from the status).
 * @param {Response} res
 * @returns {Promise<Problem>}
 */
export async function problemOf(res) {
  try {
    const body = await res.json();
    if (body && typeof body === 'object' && typeof body.status === 'number') return /** @type {Problem} */ (body);
  } catch { /* not JSON */ }
  return { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail: `the server answered ${res.status}` };
}

/**
 * @param {string} username
 * @param {string} password
 */
export async function login(username, password) {
  const res = await send(`${API}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new ProblemError(await problemOf(res));
  return store(username, /** @type {Tokens} */ (await res.json()));
}

/**
 * Whether the server still waits for its first admin (a fresh install); false when it cannot
 * be asked (offline), so the login shows.
 * @returns {Promise<boolean>}
 */
export async function setupPending() {
  try {
    const res = await send(`${API}/auth/setup`, { method: 'GET' });
    if (!res.ok) return false;
    const status = /** @type {import('./types.js').SetupStatus} */ (await res.json());
    return status.pending === true;
  } catch {
    return false;
  }
}

/**
 * Creates the first admin with the setup token the server printed at its first start, and
 * logs in as them.
 * @param {string} setupToken
 * @param {string} username
 * @param {string} password
 */
export async function setup(setupToken, username, password) {
  const res = await send(`${API}/auth/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ setup_token: setupToken, username, password }),
  });
  if (!res.ok) throw new ProblemError(await problemOf(res));
  return store(username, /** @type {Tokens} */ (await res.json()));
}

/** Seconds before expiry at which a token counts as expiring: a fifth of its life, at most a minute. */
function margin(/** @type {Session} */ s) {
  return Math.min(60, Math.max(2, s.lifetime * 0.2)) * 1000;
}

/** @param {Session} s */
export function expiring(s) {
  return !s.access_token || Date.now() > s.expires_at - margin(s);
}

/** When the page should refresh next (ms since the epoch), or null without a session. */
export async function nextRefreshAt() {
  const s = await session();
  if (!s || !s.refresh_token) return null;
  return s.expires_at - margin(s);
}

/**
 * Rotates the refresh token, once across all contexts. `stale` is the access token that was
 * found expired or refused; if the stored one differs, someone else refreshed already.
 * @param {string | null} stale
 * @returns {Promise<Session>}
 */
export async function refresh(stale) {
  return navigator.locks.request('quire-auth', async () => {
    const s = await session();
    if (!s || !s.refresh_token) throw new LoginRequired('not logged in');
    if (s.access_token && s.access_token !== stale && !expiring(s)) return s;
    const res = await send(`${API}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: s.refresh_token }),
    });
    if (res.status === 401) {
      // The refresh token is gone (expired, revoked or used): keep the name, drop the tokens.
      await kvSet('session', { ...s, access_token: null, refresh_token: null });
      announce();
      throw new LoginRequired((await problemOf(res)).detail);
    }
    if (!res.ok) throw new ProblemError(await problemOf(res));
    return store(s.username, /** @type {Tokens} */ (await res.json()));
  });
}

/** A session with an access token that is not about to expire. */
export async function validSession() {
  const s = await session();
  if (!s || !s.refresh_token) throw new LoginRequired('not logged in');
  if (!expiring(s)) return s;
  return refresh(s.access_token);
}

/**
 * An authenticated request; refreshes before expiry and once after a 401.
 * @param {string} path  Below /api/v1, e.g. `/posts`.
 * @param {RequestInit & {headers?: Record<string, string>}} [init]
 * @param {number} [timeout]  Milliseconds before the request counts as lost.
 * @returns {Promise<Response>}
 */
export async function authed(path, init = {}, timeout = REQUEST_TIMEOUT_MS) {
  let s = await validSession();
  for (let attempt = 0; ; attempt++) {
    const res = await send(`${API}${path}`, {
      ...init,
      headers: { ...(init.headers ?? {}), Authorization: `Bearer ${s.access_token}` },
    }, timeout);
    if (res.status !== 401 || attempt > 0) return res;
    s = await refresh(s.access_token);
  }
}

/**
 * `authed` for a large body with progress: `onProgress(sent, total)` as the bytes leave.
 * Uses XMLHttpRequest where there is one (a page; `fetch` reports no upload progress), `fetch`
 * elsewhere (the service worker). Network failures and timeouts are `NetworkError`s.
 * @param {string} path
 * @param {{method: string, headers: Record<string, string>, body: Blob}} init
 * @param {number} timeout
 * @param {(sent: number, total: number) => void} onProgress
 * @returns {Promise<Response>}
 */
export async function authedUpload(path, init, timeout, onProgress) {
  if (typeof XMLHttpRequest === 'undefined') return authed(path, init, timeout);
  let s = await validSession();
  for (let attempt = 0; ; attempt++) {
    const token = s.access_token;
    const res = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(init.method, `${API}${path}`);
      xhr.timeout = timeout;
      xhr.responseType = 'blob';
      for (const [k, v] of Object.entries({ ...init.headers, Authorization: `Bearer ${token}` })) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
      xhr.onload = () => {
        const headers = new Headers();
        for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
          const at = line.indexOf(':');
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
        }
        resolve(new Response(xhr.response, { status: xhr.status, statusText: xhr.statusText, headers }));
      };
      xhr.onerror = () => reject(new NetworkError('the upload broke off'));
      xhr.ontimeout = () => reject(new NetworkError('the upload timed out'));
      xhr.onabort = () => reject(new NetworkError('the upload was aborted'));
      xhr.send(init.body);
    });
    if (res.status !== 401 || attempt > 0) return res;
    s = await refresh(s.access_token);
  }
}

/**
 * GET as JSON; throws `ProblemError` on an error answer.
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export async function getJson(path) {
  const res = await authed(path);
  if (!res.ok) throw new ProblemError(await problemOf(res));
  return /** @type {T} */ (await res.json());
}

/** Logs out: revokes the session on the server when reachable, forgets the tokens here. */
export async function logout() {
  const s = await session();
  if (s?.refresh_token) {
    try {
      await authed('/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
    } catch { /* offline or already invalid: forgetting the tokens is what matters */ }
  }
  if (s) await kvSet('session', { ...s, access_token: null, refresh_token: null });
  announce();
}
