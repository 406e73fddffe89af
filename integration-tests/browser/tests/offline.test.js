// Offline: 20 posts and an edit written with no network survive a reload and a browser restart
// (same profile), and once online every post is published exactly once and the outbox is empty.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, artifact, launch, login, outbox, pendingCount, profileDir, sleep, startServer, waitFor, writePost } from '../harness.js';

const COUNT = 20;

test('offline: 20 posts and an edit survive reload and browser restart, then publish exactly once', { timeout: 240000 }, async () => {
  const server = await startServer();
  const profile = profileDir('offline');
  let { context, page } = await launch(profile);
  try {
    await login(page, server.base);
    await context.setOffline(true);
    for (let i = 1; i <= COUNT; i++) {
      await writePost(page, { title: `Offline post ${i}`, body: `Written offline, number ${i}.`, tags: 'offline' });
      await page.waitForSelector('#save-state[data-state="queued"]');
    }
    // Edit one of them (still offline, before the server ever saw it).
    await page.evaluate(() => { location.hash = '#/posts'; });
    await page.fill('#search', 'Offline post 7');
    await page.click('#post-list li[data-key] a.post >> nth=0');
    await page.waitForSelector('#body');
    assert.equal(await page.inputValue('#title'), 'Offline post 7');
    await page.fill('#body', 'Written offline, number 7, and edited offline.');
    await page.click('#save');
    // Post 7 is itself queued, so the state says "queued" before this save lands as well: wait
    // for the outbox to hold the edit.
    await waitFor(async () => (await pendingCount(page)) === COUNT + 1, { message: 'the offline edit in the outbox' });
    await page.waitForSelector('#save-state[data-state="queued"]');
    await page.screenshot({ path: artifact('offline-editor.png') });

    // Reload while offline: the app shell comes from the service worker, the outbox from IndexedDB.
    await page.reload();
    await page.waitForSelector('#body');
    assert.equal(await page.inputValue('#body'), 'Written offline, number 7, and edited offline.');
    await page.evaluate(() => { location.hash = '#/posts'; });
    await page.waitForSelector('#post-list li[data-key]');
    await waitFor(async () => (await pendingCount(page)) === COUNT + 1, { message: 'the pending count after reload' });
    assert.equal(await page.locator('#post-list li[data-key]').count(), COUNT);

    // Close the browser and open it again with the same profile, still offline. The server stays
    // down until we go online, so nothing can reach it early (not even a Background Sync that
    // fires as the browser starts).
    await context.close();
    await server.halt();
    ({ context, page } = await launch(profile));
    await context.setOffline(true);
    await page.goto(`${server.base}/editor/`);
    await page.waitForSelector('#post-list li[data-key]');
    assert.equal(await page.locator('#post-list li[data-key]').count(), COUNT);
    await waitFor(async () => (await pendingCount(page)) === COUNT + 1, { message: 'the pending count after restart' });
    assert.equal(await page.textContent('#net'), 'Offline', 'the header says so after a restart while offline');
    await page.screenshot({ path: artifact('offline-list.png') });
    await page.evaluate(() => { location.hash = '#/outbox'; });
    await page.waitForSelector('#outbox-items li[data-state="queued"]');
    assert.equal(await page.textContent('#outbox-items li[data-state="queued"] [data-words] >> nth=0'),
      'You are offline: kept on this device, sent when you are back online.');
    await page.evaluate(() => { location.hash = '#/posts'; });
    await page.waitForSelector('#post-list li[data-key]');
    await server.resume();
    const api = await apiClient(server.base);
    assert.equal((await api.posts()).length, 0, 'nothing reached the server while offline');

    // Online: everything is sent.
    await context.setOffline(false);
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 90000, message: 'the outbox to drain' });
    const posts = (await api.posts()).filter((p) => p.title.startsWith('Offline post '));
    assert.equal(posts.length, COUNT, 'every post exactly once');
    assert.equal(new Set(posts.map((p) => p.title)).size, COUNT);
    assert.ok(posts.every((p) => p.status === 'published'));
    const edited = posts.find((p) => p.title === 'Offline post 7');
    assert.equal(edited?.body, 'Written offline, number 7, and edited offline.');
    assert.equal(edited?.version, 2);
    const created = (await api.events()).filter((e) => e.type === 'PostCreated');
    assert.equal(created.length, COUNT, 'no create was applied twice');
    const items = await outbox(page);
    assert.deepEqual(items.filter((i) => i.state !== 'sent'), [], 'the outbox is empty');
    assert.equal(items.length, COUNT + 1);
  } finally {
    await context.close();
    await server.stop();
  }
});

test('background sync: changes written offline are sent after the tab is closed', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('bgsync'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    await writePost(page, { title: 'Sent by the service worker 1', body: 'One.' });
    await writePost(page, { title: 'Sent by the service worker 2', body: 'Two.' });
    await page.close();
    await context.setOffline(false);
    const api = await apiClient(server.base);
    await waitFor(async () => (await api.posts()).length === 2, { timeout: 60000, message: 'Background Sync to send the outbox' });
    await sleep(1000);
    assert.equal((await api.posts()).length, 2);
  } finally {
    await context.close();
    await server.stop();
  }
});
