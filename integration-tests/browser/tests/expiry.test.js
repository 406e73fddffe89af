// Tokens: an access token that expired while offline is refreshed before the replay, with no
// login prompt; when the refresh token is gone too, the outbox waits for a login and then sends,
// still exactly once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, apiClient, launch, login, pendingCount, profileDir, sleep, startServer, waitFor, writePost } from '../harness.js';

test('an access token that expired offline is refreshed before the replay', { timeout: 150000 }, async () => {
  const server = await startServer({ QUIRE_AUTH__ACCESS_TOKEN_TTL_SECS: '30' });
  const { context, page } = await launch(profileDir('expiry'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    await writePost(page, { title: 'Written while the token expired', body: 'Offline for a while.' });
    await writePost(page, { title: 'Second one', body: 'Also offline.' });
    const expiresAt = await page.evaluate(() => new Promise((ok) => {
      const r = indexedDB.open('quire-editor');
      r.onsuccess = () => {
        const q = r.result.transaction('kv').objectStore('kv').get('session');
        q.onsuccess = () => { ok(q.result.expires_at); r.result.close(); };
      };
    }));
    const wait = Number(expiresAt) - Date.now() + 6000;
    assert.ok(wait < 40000);
    await sleep(Math.max(0, wait));
    await context.setOffline(false);
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the outbox to drain' });
    assert.equal(await page.locator('#username').count(), 0, 'no login prompt');
    const api = await apiClient(server.base);
    assert.equal((await api.posts()).length, 2);
  } finally {
    await context.close();
    await server.stop();
  }
});

test('without a refresh token the outbox waits for login, then sends once', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('relogin'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    await writePost(page, { title: 'Waiting for a login', body: 'Kept until someone logs in.' });
    // The session is revoked elsewhere meanwhile (and so the stored refresh token is useless).
    await page.evaluate(() => new Promise((ok) => {
      const r = indexedDB.open('quire-editor');
      r.onsuccess = () => {
        const store = r.result.transaction('kv', 'readwrite').objectStore('kv');
        const q = store.get('session');
        q.onsuccess = () => {
          store.put({ ...q.result, access_token: 'expired', expires_at: 0, refresh_token: 'revoked-elsewhere' }, 'session');
          ok(undefined);
        };
      };
    }));
    await context.setOffline(false);
    await page.waitForSelector('#username', { timeout: 30000 });
    const api = await apiClient(server.base);
    assert.equal((await api.posts()).length, 0, 'nothing sent without a login');
    assert.equal(await pendingCount(page), 1);
    await page.fill('#password', ADMIN.password);
    await page.click('form.login button[type=submit]');
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the outbox to drain after login' });
    const posts = await api.posts();
    assert.equal(posts.length, 1, 'sent exactly once');
    assert.equal(posts[0].title, 'Waiting for a login');
  } finally {
    await context.close();
    await server.stop();
  }
});
