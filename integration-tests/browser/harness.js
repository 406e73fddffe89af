// Test harness: the real `quire` binary on a free port with a temporary data folder, Debian's
// Chromium driven by playwright-core with a persistent profile (so the service worker, its
// cache and IndexedDB survive closing the browser), and a small API client to count posts.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'target', 'browser-artifacts');
export const ADMIN = { username: 'admin', password: 'admin-password-1' };
const QUIRE = process.env.QUIRE_BIN ?? join(ROOT, 'target', 'debug', 'quire');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns something truthy; fails after `timeout` ms.
 * @template T
 * @param {() => Promise<T> | T} check
 * @param {{timeout?: number, interval?: number, message?: string}} [options]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(check, { timeout = 15000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return /** @type {NonNullable<T>} */ (v);
      last = v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${String(last)})`);
    await sleep(interval);
  }
}

/**
 * A started `quire serve`; with `admin: false` it has no user yet and prints a setup token.
 * @param {Record<string, string>} [env]
 * @param {{admin?: boolean}} [options]
 */
export async function startServer(env = {}, { admin = true } = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'quire-browser-'));
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const run = async () => {
    const accounts = admin ? { QUIRE_ADMIN_USER: ADMIN.username, QUIRE_ADMIN_PASSWORD: ADMIN.password } : {};
    const inherited = { ...process.env };
    delete inherited.QUIRE_ADMIN_USER;
    delete inherited.QUIRE_ADMIN_PASSWORD;
    const child = spawn(QUIRE, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', data], {
      env: { ...inherited, ...accounts, QUIRE_LOG: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout?.on('data', (chunk) => { output += String(chunk); });
    /** @type {Promise<void>} */
    const exited = new Promise((r) => child.once('exit', () => r()));
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, { timeout: 30000, message: `${QUIRE} to answer /healthz` });
    return async () => {
      // Graceful stop waits for idle keep-alive connections (the test's own fetches); acknowledged
      // writes are durable anyway, so do not wait long for it.
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(2000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    };
  };
  /** @type {(() => Promise<void>) | null} */
  let halt = await run();
  return {
    base,
    data,
    /** What the server printed on stdout so far. */
    output: () => output,
    /** Stops the process and keeps the data folder. */
    async halt() { if (halt) await halt(); halt = null; },
    /** Starts it again on the same port and data folder. */
    async resume() { if (!halt) halt = await run(); },
    async stop() {
      if (halt) await halt();
      halt = null;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** An API client logged in as the admin (another device, for the tests' checks). */
export async function apiClient(/** @type {string} */ base) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  const { access_token: token } = /** @type {{access_token: string}} */ (await res.json());
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {Record<string, string>} [headers]
   */
  const call = async (method, path, body, headers = {}) => {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null, etag: r.headers.get('etag') };
  };
  return {
    call,
    /** Every live post (all pages). @returns {Promise<any[]>} */
    async posts() {
      const all = [];
      let cursor = '';
      for (let i = 0; i < 50; i++) {
        const r = await call('GET', `/posts?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        all.push(...r.body.items);
        if (!r.body.next_cursor) break;
        cursor = r.body.next_cursor;
      }
      return all;
    },
    /** Every event of the log. @returns {Promise<any[]>} */
    async events() {
      const all = [];
      let after = 0;
      for (let i = 0; i < 50; i++) {
        const r = await call('GET', `/events?after=${after}&limit=1000`);
        all.push(...r.body.events);
        if (r.body.next_after === after) break;
        after = r.body.next_after;
      }
      return all;
    },
  };
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/**
 * A browser with a persistent profile. `errors` collects console errors and page errors.
 * @param {string} profile
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function launch(profile, options = {}) {
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 860 },
    timeout: 30000, ...options,
  });
  context.setDefaultTimeout(15000);
  /** @type {string[]} */
  const errors = [];
  /** @param {import('playwright-core').Page} page */
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? await context.newPage();
  return { context, page, errors };
}

/** A fresh profile folder. @param {string} name */
export function profileDir(name) {
  return mkdtempSync(join(tmpdir(), `quire-profile-${name}-`));
}

/**
 * Opens the editor and logs in as the admin; waits until the service worker controls the page.
 * @param {import('playwright-core').Page} page
 * @param {string} base
 */
export async function login(page, base) {
  await page.goto(`${base}/editor/`);
  await page.fill('#username', ADMIN.username);
  await page.fill('#password', ADMIN.password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#post-list');
  await waitForServiceWorker(page);
}

/**
 * Waits until the service worker is active and controls the page. `clients.claim()` normally
 * takes over the page that registered the worker; on a loaded machine Chromium sometimes leaves
 * that first page uncontrolled, and (as for a user) the next load of the page is controlled.
 * @param {import('playwright-core').Page} page
 */
export async function waitForServiceWorker(page) {
  const controlled = () => page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    return Boolean(navigator.serviceWorker.controller);
  });
  try {
    await waitFor(controlled, { timeout: 10000, message: 'the service worker to control the page' });
  } catch {
    await page.reload();
    await page.waitForSelector('#post-list');
    await waitFor(controlled, { timeout: 20000, message: 'the service worker to control the page after a reload' });
  }
}

/** @param {import('playwright-core').Page} page */
export async function pendingCount(page) {
  return Number(await page.textContent('#pending-count'));
}

/**
 * Writes a new post in the editor and saves it (Publish or Save).
 * @param {import('playwright-core').Page} page
 * @param {{title: string, body: string, tags?: string, publish?: boolean}} post
 */
export async function writePost(page, post) {
  const before = await page.evaluate(() => location.hash);
  await page.evaluate(() => { location.hash = '#/new'; });
  await waitFor(() => page.evaluate((old) => location.hash !== old && location.hash.startsWith('#/edit/local-'), before), { message: 'a new editor' });
  const key = await page.evaluate(() => decodeURIComponent(location.hash.slice('#/edit/'.length)));
  await page.waitForSelector(`form.editor[data-key="${key}"]`);
  await page.fill('#title', post.title);
  await page.fill('#body', post.body);
  if (post.tags) await page.fill('#tags', post.tags);
  await page.click(post.publish === false ? '#save' : '#publish');
  await page.waitForSelector(`form.editor[data-key="${key}"] #save-state[data-state]`);
  return key;
}

/**
 * The outbox as stored in IndexedDB.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{state: string, key: string, kind: string}[]>}
 */
export function outbox(page) {
  return page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open('quire-editor');
    r.onerror = () => fail(r.error);
    r.onsuccess = () => {
      const q = r.result.transaction('outbox').objectStore('outbox').getAll();
      q.onsuccess = () => { ok(q.result); r.result.close(); };
      q.onerror = () => fail(q.error);
    };
  }));
}

/** Makes the artifacts folder and returns a path in it. @param {string} name */
export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * Sends a routed request on to the server, as the browser would have. Playwright keeps the
 * connection open between requests, like a browser; when the server closes an idle one at the
 * moment it is reused (its keep-alive runs out after 5 s, the editor's least gap between status
 * reads), the request fails with ECONNRESET before the server read it, and a browser sends it
 * again: so does this (writes carry an `Idempotency-Key`, so even a repeat is applied once).
 * @param {import('playwright-core').Route} route
 */
export function forward(route) {
  return route.fetch({ maxRetries: 2 });
}
