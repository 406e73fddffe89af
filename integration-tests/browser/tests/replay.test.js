// Replay at scale: 100 posts written offline reach the server exactly once, sent a few at a time
// (the time is printed); one change the server will never accept among them is marked failed,
// shown in words, and holds back nothing else; an item that names another key (`after`) waits
// for it, and only it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, ADMIN, artifact, forward, launch, login, outbox, pendingCount, profileDir, sleep, startServer, waitFor } from '../harness.js';

const COUNT = 100;

/**
 * Composes `titles` as new published posts, offline, through the editor's own outbox module
 * (as Save does; typing 100 posts would only measure the typing).
 * @param {import('playwright-core').Page} page
 * @param {string[]} titles
 */
async function composeOffline(page, titles) {
  await page.evaluate(async ({ titles, user, module }) => {
    /** @type {typeof import('../../../web-client/assets/js/outbox.js')} */
    const { compose, createBody } = await import(module);
    for (const title of titles) {
      /** @type {import('../../../web-client/assets/js/types.js').Fields} */
      const fields = { title, body: `Body of ${title}.`, tags: ['bulk'], status: 'published', publish_at: null, slug: '' };
      await compose({ kind: 'create', post: `local-${crypto.randomUUID()}`, body: createBody(fields), base: null, local: fields, label: `publish “${title}”`, user });
    }
  }, { titles, user: ADMIN.username, module: './js/outbox.js' });
  await waitFor(async () => (await pendingCount(page)) === titles.length, { message: `${titles.length} pending` });
}

/**
 * Goes online and waits until the server has `count` posts; returns the milliseconds it took.
 * @param {import('playwright-core').BrowserContext} context
 * @param {ReturnType<typeof apiClient> extends Promise<infer A> ? A : never} api
 * @param {number} count
 */
async function drain(context, api, count) {
  const started = Date.now();
  await context.setOffline(false);
  await waitFor(async () => (await api.posts()).length >= count, { timeout: 120000, interval: 50, message: `${count} posts on the server` });
  return Date.now() - started;
}

test('replay: 100 posts written offline reach the server exactly once, quickly', { timeout: 240000 }, async () => {
  const server = await startServer();
  const { context, page, errors } = await launch(profileDir('replay'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    const titles = Array.from({ length: COUNT }, (_, n) => `Bulk post ${n + 1}`);
    await composeOffline(page, titles);
    const api = await apiClient(server.base);
    assert.equal((await api.posts()).length, 0);

    const ms = await drain(context, api, COUNT);
    console.log(`replayed ${COUNT} offline creates in ${ms} ms`);
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the outbox to drain' });
    await sleep(500);
    const posts = await api.posts();
    assert.equal(posts.length, COUNT, 'every post exactly once');
    assert.deepEqual(posts.map((p) => p.title).sort(), [...titles].sort());
    assert.equal((await api.events()).filter((e) => e.type === 'PostCreated').length, COUNT, 'no create applied twice');
    assert.ok((await outbox(page)).every((i) => i.state === 'sent'));
    // Generous: the machine these tests run on is small and shared (measured 1–3 s).
    assert.ok(ms < 10000, `100 creates took ${ms} ms`);
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});

test('replay: one change the server refuses is marked failed; the 99 others are published once', { timeout: 240000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('replay-refused'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    // The 50th has a title over 300 characters: the server answers 400 however often it is
    // sent. (An empty title is a note now, which the server accepts.)
    const titles = Array.from({ length: COUNT }, (_, n) => (n === 49 ? 'x'.repeat(301) : `Good post ${n + 1}`));
    await composeOffline(page, titles);
    const api = await apiClient(server.base);

    const ms = await drain(context, api, COUNT - 1);
    console.log(`replayed ${COUNT - 1} creates past a refused one in ${ms} ms`);
    await waitFor(async () => (await pendingCount(page)) === 1, { timeout: 30000, message: 'only the refused one left' });
    await sleep(500);
    const posts = await api.posts();
    assert.equal(posts.length, COUNT - 1, 'the good ones exactly once');
    assert.equal(new Set(posts.map((p) => p.title)).size, COUNT - 1);
    const states = (await outbox(page)).map((i) => i.state);
    assert.equal(states.filter((s) => s === 'failed').length, 1);
    assert.equal(states.filter((s) => s === 'sent').length, COUNT - 1);

    // In the outbox: said in words, the server's own account behind "Details", an alert above.
    await page.evaluate(() => { location.hash = '#/outbox'; });
    const row = page.locator('#outbox-items li[data-state="failed"]');
    await row.waitFor();
    assert.equal(await row.locator('[data-words]').textContent(), 'The server did not accept this change. Check the title.');
    assert.doesNotMatch(await row.innerText(), /If-Match|Idempotency|urn:|400/, 'no program talk outside the details');
    assert.equal(await row.locator('details.raw').getAttribute('open'), null, 'details are folded');
    assert.match(await row.locator('details.raw pre').textContent() ?? '', /^400 Invalid field: title/);
    assert.match(await page.textContent('#alert') ?? '', /1 change was not accepted by the server/);
    assert.match(await page.textContent('#outbox-summary') ?? '', /1 was not accepted by the server/);
    await page.screenshot({ path: artifact('outbox-refused.png') });
  } finally {
    await context.close();
    await server.stop();
  }
});

test('replay: an item sent `after` another key waits for it; unrelated items do not', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('replay-after'));
  try {
    await login(page, server.base);
    await context.setOffline(true);
    await page.evaluate(async ({ user, module }) => {
      /** @type {typeof import('../../../web-client/assets/js/outbox.js')} */
      const { compose, createBody } = await import(module);
      /** @param {string} title @param {string} post @param {string[]} [after] */
      const create = (title, post, after) => {
        /** @type {import('../../../web-client/assets/js/types.js').Fields} */
        const fields = { title, body: `${title}.`, tags: [], status: 'published', publish_at: null, slug: '' };
        return compose({ kind: 'create', post, body: createBody(fields), base: null, local: fields, label: title, user, after });
      };
      // As an upload and the post that shows it: "Depends" names the key of "Slow".
      await create('Slow', 'local-slow');
      await create('Depends', 'local-depends', ['local-slow']);
      await create('Unrelated', 'local-unrelated');
    }, { user: ADMIN.username, module: './js/outbox.js' });
    await waitFor(async () => (await pendingCount(page)) === 3, { message: '3 pending' });

    /** @type {Record<string, {sent: number, answered: number}>} */
    const times = {};
    await context.route(/\/api\/v1\/posts$/, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const title = route.request().postDataJSON().title;
      times[title] = { sent: Date.now(), answered: 0 };
      if (title === 'Slow') await sleep(1500);
      const response = await forward(route);
      times[title].answered = Date.now();
      return route.fulfill({ response });
    });
    const api = await apiClient(server.base);
    await drain(context, api, 3);
    assert.ok(times.Depends.sent >= times.Slow.answered, 'sent only once the key it names is on the server');
    assert.ok(times.Unrelated.sent < times.Slow.answered, 'an unrelated item does not wait');
    await waitFor(async () => (await pendingCount(page)) === 0, { message: 'nothing pending' });
  } finally {
    await context.close();
    await server.stop();
  }
});
