// A flaky network: the server commits a write, then its response is lost on the way back. The
// outbox sends the same request with the same Idempotency-Key again; the server replays its
// first answer, and nothing is applied twice. A server that does not answer (or answers 5xx)
// while the browser is online is said to be unreachable, never "offline".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, forward, launch, login, pendingCount, profileDir, sleep, startServer, waitFor, writePost } from '../harness.js';

test('flaky network: a lost response is retried with the same key and applied once', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('flaky'));
  try {
    await login(page, server.base);
    /** @type {{method: string, key: string | undefined, status: number, lost: boolean}[]} */
    const seen = [];
    let loseNext = 0;
    // Lose the response of the next `loseNext` writes, after the server has answered them.
    await context.route(/\/api\/v1\/posts(\/[^/?]+)?$/, async (route) => {
      const request = route.request();
      if (request.method() === 'GET') return route.continue();
      const response = await forward(route);
      const lost = loseNext > 0;
      seen.push({ method: request.method(), key: request.headers()['idempotency-key'], status: response.status(), lost });
      if (lost) {
        loseNext--;
        return route.abort('connectionreset');
      }
      return route.fulfill({ response });
    });

    loseNext = 1;
    await writePost(page, { title: 'Lost and found', body: 'The first answer never arrived.' });
    await page.waitForSelector('#save-state[data-state="sent"]', { timeout: 30000 });
    const api = await apiClient(server.base);
    let posts = await api.posts();
    assert.equal(posts.length, 1, 'created once');
    const creates = seen.filter((s) => s.method === 'POST');
    assert.ok(creates.length >= 2, 'the create was sent again');
    assert.equal(creates[0].lost, true);
    assert.equal(new Set(creates.map((s) => s.key)).size, 1, 'with the same key');
    assert.ok(creates.every((s) => s.status === 201), 'the server replayed its answer');

    // The same for an edit.
    loseNext = 1;
    await page.fill('#body', 'The first answer never arrived. Edited once.');
    await page.click('#save');
    await waitFor(async () => (await api.posts())[0].version === 2 && (await pendingCount(page)) === 0, { timeout: 30000, message: 'the edit to be sent' });
    await sleep(500);
    posts = await api.posts();
    assert.equal(posts[0].version, 2, 'edited once');
    const patches = seen.filter((s) => s.method === 'PATCH');
    assert.ok(patches.length >= 2);
    assert.equal(new Set(patches.map((s) => s.key)).size, 1);
    assert.ok(patches.every((s) => s.status === 200), 'no 412 for the retry: the first answer is replayed');
    const events = await api.events();
    assert.equal(events.length, 2, 'one create, one update');
    assert.equal(await pendingCount(page), 0);
  } finally {
    await context.close();
    await server.stop();
  }
});

test('a server that does not answer, then answers 503, is not called "offline" while the browser is online', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('unreachable'));
  try {
    await login(page, server.base);
    /** @type {'refuse' | 'fail' | 'pass'} */
    let mode = 'refuse';
    await context.route(/\/api\/v1\/posts$/, async (route) => {
      if (route.request().method() !== 'POST' || mode === 'pass') return route.continue();
      if (mode === 'refuse') return route.abort('connectionrefused');
      return route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'If-Match internals the author should not read' }) });
    });
    await writePost(page, { title: 'Sent through a bad line', body: 'Eventually.' });
    await page.evaluate(() => { location.hash = '#/outbox'; });
    const words = page.locator('#outbox-items li[data-state="queued"] [data-words]');
    await waitFor(async () => (await words.textContent()) === 'The server is not reachable right now; will retry.', { timeout: 30000, message: 'the row to say the server is not reachable' });
    assert.equal(await page.textContent('#net'), 'Online');
    assert.doesNotMatch(await page.innerText('#outbox-items'), /offline/i);

    mode = 'fail';
    await waitFor(async () => (await words.textContent()) === 'The server had a problem; will retry.', { timeout: 30000, message: 'the row to say the server had a problem' });
    assert.doesNotMatch(await page.innerText('#outbox-items'), /offline|If-Match/i);

    mode = 'pass';
    await page.click('#send-now');
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the post to be sent' });
    const api = await apiClient(server.base);
    assert.equal((await api.posts()).length, 1, 'sent once');
  } finally {
    await context.close();
    await server.stop();
  }
});
