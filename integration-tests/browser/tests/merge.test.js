// Merge: a post's body edited offline here while its title is changed elsewhere. Going online,
// the outbox's 412 is sent again with Base-Version and the server merges both changes: no
// conflict is shown, and the history records the merge.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, launch, login, pendingCount, profileDir, startServer, waitFor } from '../harness.js';

test('merge: an offline body edit and an online title change both stay, without a conflict', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page, errors } = await launch(profileDir('merge'));
  try {
    const api = await apiClient(server.base);
    const created = await api.call('POST', '/posts', { title: 'Post merge', body: 'First line.\n\nSecond line.\n' });
    assert.equal(created.status, 201);
    const id = created.body.id;
    await login(page, server.base);
    await page.waitForSelector(`#post-list li[data-key="${id}"]`);

    await context.setOffline(true);
    await page.evaluate((k) => { location.hash = `#/edit/${k}`; }, id);
    await page.waitForSelector(`form.editor[data-key="${id}"]`);
    await page.fill('#body', 'First line.\n\nSecond line, edited offline.\n');
    await page.click('#save');
    await page.waitForSelector(`form.editor[data-key="${id}"] #save-state[data-state="queued"]`);
    const title = await api.call('PATCH', `/posts/${id}`, { title: 'Renamed elsewhere' }, { 'If-Match': '"1"' });
    assert.equal(title.status, 200);

    await context.setOffline(false);
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the edit to be merged and sent' });
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.equal(post.title, 'Renamed elsewhere', 'the change made elsewhere stays');
    assert.equal(post.body, 'First line.\n\nSecond line, edited offline.\n', 'the offline edit arrives');
    assert.equal(post.version, 3);
    const history = (await api.call('GET', `/posts/${id}/history`)).body.events;
    assert.deepEqual(history[2].data, { body: post.body, base_version: 1, merged: true });
    await page.evaluate(() => { location.hash = '#/outbox'; });
    assert.equal(await page.locator('#outbox-items li[data-state="conflict"]').count(), 0, 'no conflict to decide');
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});
