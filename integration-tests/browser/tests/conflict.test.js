// Conflict: posts edited offline here and online elsewhere, on the same line. Going online, the
// server's merge finds the overlap and the conflict is shown (and announced in an alert);
// keeping mine, keeping the server's and a merge by hand are each saved as chosen. Keeping the
// server's keeps the local text as a conflict copy, which can be put back into the post.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, artifact, launch, login, pendingCount, profileDir, startServer, waitFor } from '../harness.js';

/**
 * @param {import('playwright-core').Page} page
 * @param {string} id
 * @param {string} body
 */
async function editOffline(page, id, body) {
  await page.evaluate((k) => { location.hash = `#/edit/${k}`; }, id);
  await page.waitForSelector(`form.editor[data-key="${id}"]`);
  await page.fill('#body', body);
  await page.click('#save');
  await page.waitForSelector(`form.editor[data-key="${id}"] #save-state[data-state="queued"]`);
}

test('conflict: offline edit vs online change; keep mine, keep the server’s, merge by hand', { timeout: 150000 }, async () => {
  const server = await startServer();
  const { context, page, errors } = await launch(profileDir('conflict'));
  try {
    const api = await apiClient(server.base);
    /** @type {Record<string, string>} */
    const ids = {};
    for (const name of ['mine', 'theirs', 'merge']) {
      const r = await api.call('POST', '/posts', { title: `Post ${name}`, body: 'Original text.', status: 'published' });
      assert.equal(r.status, 201);
      ids[name] = r.body.id;
    }
    await login(page, server.base);
    await page.waitForSelector(`#post-list li[data-key="${ids.merge}"]`);
    await context.setOffline(true);
    for (const name of Object.keys(ids)) await editOffline(page, ids[name], `Local text for ${name}.`);
    for (const name of Object.keys(ids)) {
      // The post kept as "mine" is also renamed on the server: only the body overlaps.
      const change = { body: `Server text for ${name}.`, ...(name === 'mine' ? { title: 'Post mine, renamed' } : {}) };
      const r = await api.call('PATCH', `/posts/${ids[name]}`, change, { 'If-Match': '"1"' });
      assert.equal(r.status, 200);
    }
    await context.setOffline(false);
    await waitFor(async () => (await page.evaluate(() => document.querySelectorAll('#post-list .badge.conflict, .notice.warn').length)) > 0
      || (await pendingCount(page)) === 3, { message: 'the conflicts to show' });
    await page.evaluate(() => { location.hash = '#/outbox'; });
    await waitFor(async () => (await page.locator('#outbox-items li[data-state="conflict"]').count()) === 3, { timeout: 30000, message: 'three conflicts in the outbox' });
    assert.equal(await pendingCount(page), 3);
    // Said out loud, not only a badge.
    await waitFor(async () => /3 posts were changed elsewhere too/.test(await page.textContent('[role="alert"]#alert') ?? ''), { message: 'the conflict alert' });
    assert.ok(await page.isVisible('#alert'));
    assert.doesNotMatch(await page.innerText('#outbox-items'), /If-Match|Base-Version|urn:|Idempotency/, 'no program talk outside the details');
    await page.screenshot({ path: artifact('desktop-outbox-conflicts.png') });

    /** @param {string} name */
    const open = async (name) => {
      await page.evaluate(() => { location.hash = '#/outbox'; });
      await page.waitForSelector('#outbox-items li[data-state="conflict"]');
      const seq = await page.evaluate((n) => [...document.querySelectorAll('#outbox-items li[data-state="conflict"]')]
        .find((li) => li.textContent?.includes(`Post ${n}`))?.getAttribute('data-seq'), name);
      assert.ok(seq, `a conflict for ${name}`);
      await page.evaluate((s) => { location.hash = `#/conflict/${s}`; }, seq);
      await page.waitForSelector('#keep-mine');
      assert.equal(await page.textContent('#server-side .f-body'), `Server text for ${name}.`);
      assert.equal(await page.textContent('#local-side .f-body'), `Local text for ${name}.`);
      assert.equal(await page.textContent('#overlaps'), 'Changed on both sides: body (line 1).', 'the server names what overlaps');
    };

    await open('mine');
    await page.screenshot({ path: artifact('desktop-conflict.png'), fullPage: true });
    await page.click('#keep-mine');
    await waitFor(async () => (await api.call('GET', `/posts/${ids.mine}`)).body.body === 'Local text for mine.', { message: 'mine to be saved' });

    await open('theirs');
    await page.click('#keep-server');
    await page.waitForSelector('#outbox-items');
    // Nothing dropped without a trace: the losing text is kept as a conflict copy, listed and
    // openable.
    await page.evaluate(() => { location.hash = '#/posts'; });
    const copyRow = page.locator('#post-list li[data-key]', { hasText: 'Post theirs (conflict copy)' });
    await copyRow.waitFor();
    assert.equal(await copyRow.locator('.badge.conflict').textContent(), 'conflict copy');
    await copyRow.locator('a.post').click();
    await page.waitForSelector('#copy-notice');
    assert.equal(await page.inputValue('#title'), 'Post theirs (conflict copy)');
    assert.equal(await page.inputValue('#body'), 'Local text for theirs.');
    const copyKey = await page.getAttribute('form.editor', 'data-key');
    await open('merge');
    await page.click('#merge');
    await page.fill('#merge-body', 'Server text and local text, merged.');
    await page.click('#save-merge');
    await waitFor(async () => (await api.call('GET', `/posts/${ids.merge}`)).body.body === 'Server text and local text, merged.', { message: 'the merge to be saved' });
    await waitFor(async () => (await pendingCount(page)) === 0, { message: 'nothing pending' });

    const mine = (await api.call('GET', `/posts/${ids.mine}`)).body;
    const theirs = (await api.call('GET', `/posts/${ids.theirs}`)).body;
    const merged = (await api.call('GET', `/posts/${ids.merge}`)).body;
    assert.equal(mine.version, 3);
    assert.equal(mine.title, 'Post mine, renamed', 'keeping mine keeps what only the server changed');
    assert.equal(theirs.body, 'Server text for theirs.');
    assert.equal(theirs.version, 3, 'keeping the server’s version changes nothing but adds the copy to its history');
    assert.equal(theirs.body, 'Server text for theirs.');
    const history = (await api.call('GET', `/posts/${ids.theirs}/history`)).body.events;
    assert.deepEqual([history[2].type, history[2].data.copy.body], ['PostConflictCopy', 'Local text for theirs.']);
    assert.equal(merged.version, 4, 'the hand merge, and the local side it left out in the history');
    assert.equal(await page.textContent('#alert'), '', 'no alert once everything is decided');

    // The conflict copy is brought back into its post, and saved there.
    await page.evaluate((k) => { location.hash = `#/edit/${k}`; }, copyKey);
    await page.click('#bring-back');
    await page.waitForSelector(`form.editor[data-key="${ids.theirs}"] #draft-notice`);
    assert.equal(await page.inputValue('#title'), 'Post theirs');
    assert.equal(await page.inputValue('#body'), 'Local text for theirs.');
    await page.click('#save');
    await waitFor(async () => (await api.call('GET', `/posts/${ids.theirs}`)).body.body === 'Local text for theirs.', { message: 'the copy to be saved into its post' });
    assert.equal((await api.call('GET', `/posts/${ids.theirs}`)).body.version, 4);
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});
