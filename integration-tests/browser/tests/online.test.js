// Online: log in, create, edit, publish; the post is on the server once; history and an older
// version can be viewed; screenshots on a desktop and a phone; no console errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, artifact, launch, login, pendingCount, profileDir, startServer, waitFor, writePost } from '../harness.js';

test('online: log in, create, edit, publish; history; screenshots; no console errors', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page, errors } = await launch(profileDir('online'));
  try {
    await page.goto(`${server.base}/editor/`);
    await page.waitForSelector('#username');
    await page.screenshot({ path: artifact('desktop-login.png') });
    await login(page, server.base);

    // Create a draft.
    await writePost(page, { title: 'Hello from the browser', body: '# Hi\n\nFirst *draft*.', tags: 'news, browser', publish: false });
    await page.waitForSelector('#save-state[data-state="sent"]');
    assert.match(await page.innerHTML('#preview'), /<em>draft<\/em>/);
    const api = await apiClient(server.base);
    let posts = await api.posts();
    assert.equal(posts.length, 1);
    assert.equal(posts[0].status, 'draft');
    assert.deepEqual(posts[0].tags, ['news', 'browser']);

    // Edit with the keyboard shortcut, then publish.
    await page.fill('#body', '# Hi\n\nSecond *draft*, with a [link](https://example.com).');
    await page.keyboard.press('Control+s');
    await waitFor(async () => (await api.posts())[0]?.version === 2, { message: 'the edit to reach the server' });
    await page.click('#publish');
    await waitFor(async () => (await api.posts())[0]?.status === 'published', { message: 'the post to be published' });
    await page.waitForSelector('#save-state[data-state="sent"]');
    await page.screenshot({ path: artifact('desktop-editor.png'), fullPage: true });

    posts = await api.posts();
    assert.equal(posts.length, 1, 'published exactly once');
    assert.equal(posts[0].version, 3);
    assert.match(posts[0].body, /Second \*draft\*/);
    assert.equal(await pendingCount(page), 0);

    // The rendered site, if it is served by now.
    const site = await fetch(`${server.base}/posts/${posts[0].slug}/`);
    if (site.ok) assert.match(await site.text(), /Second/);

    // List, search, history, an older version, the outbox.
    await page.evaluate(() => { location.hash = '#/posts'; });
    await page.waitForSelector('#post-list li[data-key]');
    await page.fill('#search', 'nothing like this');
    await page.waitForSelector('#post-list .empty');
    await page.fill('#search', 'hello');
    await page.waitForSelector('#post-list li[data-key]');
    await page.screenshot({ path: artifact('desktop-list.png') });
    await page.click('#post-list a.post');
    await page.click('#history');
    await page.waitForSelector('ol.history li');
    assert.equal(await page.locator('ol.history li').count(), 3);
    await page.click('ol.history a[href$="/1"]');
    await page.waitForSelector('#version-preview');
    assert.match(await page.innerHTML('#version-preview'), /First <em>draft<\/em>/);
    await page.evaluate(() => { location.hash = '#/outbox'; });
    await page.waitForSelector('#outbox-items li[data-state="sent"]');
    await page.screenshot({ path: artifact('desktop-outbox.png') });

    // Autosave: typing without saving survives a reload.
    await page.evaluate(() => { location.hash = '#/posts'; });
    await page.fill('#search', '');
    await page.click('#post-list a.post >> nth=0');
    await page.waitForSelector('#body');
    await page.fill('#body', 'Typed but never saved.');
    await page.waitForTimeout(600);
    await page.reload();
    await page.waitForSelector('#draft-notice');
    assert.equal(await page.inputValue('#body'), 'Typed but never saved.');
    await page.click('#discard-draft');
    await waitFor(async () => /Second \*draft\*/.test(await page.inputValue('#body')), { message: 'the saved text back' });
    await page.waitForSelector('#draft-notice', { state: 'detached' });

    // Delete, then restore from the deleted posts.
    await page.click('#delete');
    await page.click('#delete');
    await page.waitForSelector('#post-list');
    await waitFor(async () => (await api.posts()).length === 0, { message: 'the post to be deleted' });
    await page.selectOption('#filter-status', 'deleted');
    await page.click('#post-list a.post >> nth=0');
    await page.click('#restore');
    await waitFor(async () => (await api.posts()).length === 1, { message: 'the post to be restored' });
    assert.equal((await api.posts())[0].version, 5);

    // A phone.
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${server.base}/editor/#/posts`);
    await phone.waitForSelector('#post-list li[data-key]');
    await phone.screenshot({ path: artifact('phone-list.png') });
    await phone.click('#post-list a.post');
    await phone.waitForSelector('#body');
    assert.equal(await phone.isVisible('#preview'), false, 'a phone shows one pane at a time');
    await phone.screenshot({ path: artifact('phone-editor.png'), fullPage: true });
    await phone.click('#tab-preview');
    await phone.waitForSelector('#preview h1');
    await phone.screenshot({ path: artifact('phone-preview.png') });
    const small = await phone.evaluate(() => [...document.querySelectorAll('button, .button, input, select')]
      .filter((el) => el instanceof HTMLElement && el.offsetParent !== null)
      .map((el) => ({ id: el.id || el.textContent, h: el.getBoundingClientRect().height }))
      .filter((x) => x.h < 44));
    assert.deepEqual(small, [], 'touch targets are at least 44px high');
    await phone.close();

    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await context.close();
    await server.stop();
  }
});
