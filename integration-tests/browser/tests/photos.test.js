// Photos, offline: a post with two images (one picked with the file input, one pasted) written
// with no network survives a browser restart; once online, the images are uploaded before the
// post that shows them, exactly once each even when an upload's answer is lost, and the post's
// Markdown and the site's page carry the server's image URLs.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiClient, artifact, forward, launch, login, outbox, pendingCount, profileDir, ROOT, startServer, waitFor } from '../harness.js';

const JPEG = join(ROOT, 'integration-tests/fixtures/exif-orientation-6-gps.jpg');
const PNG = join(ROOT, 'web-client/assets/icons/icon-192.png');

test('photos: picked and pasted offline, uploaded once each before the post, shown on the site', { timeout: 240000 }, async () => {
  const server = await startServer();
  const profile = profileDir('photos');
  let { context, page, errors } = await launch(profile);
  try {
    await login(page, server.base);
    await context.setOffline(true);
    await page.evaluate(() => { location.hash = '#/new'; });
    await page.waitForSelector('form.editor #body');
    await page.fill('#title', 'Two photos');
    await page.fill('#body', 'Taken on a walk.');
    const alts = ['A flag on a pole', 'The app icon'];
    page.on('dialog', (dialog) => { dialog.accept(alts.shift() ?? ''); });

    // One picked with the file input (a phone offers its camera there)…
    await page.setInputFiles('#image-file', JPEG);
    await waitFor(async () => (await page.inputValue('#body')).includes('![A flag on a pole](/media/pending-'), { message: 'the picked image in the body' });
    // …and one pasted into the body.
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'icon.png', { type: 'image/png' }));
      document.querySelector('#body')?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, readFileSync(PNG).toString('base64'));
    await waitFor(async () => (await page.inputValue('#body')).includes('![The app icon](/media/pending-'), { message: 'the pasted image in the body' });
    // The preview shows both at once, from this device.
    await waitFor(async () => (await page.locator('#preview img[src^="blob:"]').count()) === 2, { message: 'both images in the preview' });
    await page.click('#publish');
    await page.waitForSelector('#save-state[data-state="queued"]');
    await waitFor(async () => (await pendingCount(page)) === 3, { message: 'two uploads and the post pending' });
    await page.screenshot({ path: artifact('photos-offline.png'), fullPage: true });

    // Close the browser; open it again, still offline, with the server down meanwhile.
    await context.close();
    await server.halt();
    ({ context, page, errors } = await launch(profile));
    await context.setOffline(true);
    await page.goto(`${server.base}/editor/`);
    await page.waitForSelector('#post-list li[data-key]');
    await waitFor(async () => (await pendingCount(page)) === 3, { message: 'the pending count after restart' });

    // The first upload's answer is lost after the server stored it; every request is recorded.
    /** @type {{path: string, key: string | undefined, status: number, lost: boolean}[]} */
    const seen = [];
    let loseNext = 1;
    await context.route(/\/api\/v1\/(media|posts)(\?[^/]*)?$/, async (route) => {
      const request = route.request();
      if (request.method() !== 'POST') return route.continue();
      const response = await forward(route);
      const lost = new URL(request.url()).pathname === '/api/v1/media' && loseNext-- > 0;
      seen.push({ path: new URL(request.url()).pathname, key: request.headers()['idempotency-key'], status: response.status(), lost });
      return lost ? route.abort('connectionreset') : route.fulfill({ response });
    });
    await server.resume();
    await context.setOffline(false);
    await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 90000, message: 'the outbox to drain' });

    const api = await apiClient(server.base);
    const posts = await api.posts();
    assert.equal(posts.length, 1, 'one post');
    const media = (await api.call('GET', '/media')).body.items;
    assert.equal(media.length, 2, 'two images, each stored once');
    const uploads = (await api.events()).filter((e) => e.type === 'MediaUploaded');
    assert.equal(uploads.length, 2, 'two upload events');
    const mediaPosts = seen.filter((s) => s.path === '/api/v1/media');
    assert.ok(mediaPosts.some((s) => s.lost), `an upload's answer was lost: ${JSON.stringify(seen)}`);
    assert.equal(new Set(mediaPosts.map((s) => s.key)).size, 2, 'retried with the same keys');
    const postAt = seen.findIndex((s) => s.path === '/api/v1/posts');
    const lastUpload = seen.map((s) => s.path === '/api/v1/media' && !s.lost).lastIndexOf(true);
    assert.ok(postAt > lastUpload, `the post after its images: ${JSON.stringify(seen)}`);

    // The post shows the server's URLs, with the alt texts given.
    const body = posts[0].body;
    for (const m of media) assert.ok(body.includes(`](${m.url})`), `${m.url} in ${body}`);
    assert.ok(!body.includes('pending-'), body);
    assert.deepEqual(media.map((/** @type {{alt: string}} */ m) => m.alt).sort(), ['A flag on a pole', 'The app icon']);
    await waitFor(async () => {
      const res = await fetch(`${server.base}/posts/${posts[0].slug}/`);
      const html = res.ok ? await res.text() : '';
      return media.every((/** @type {{url: string}} */ m) => html.includes(`src="${m.url}"`));
    }, { timeout: 30000, message: 'the page with both images' });
    for (const m of media) assert.equal((await fetch(`${server.base}${m.url}`)).status, 200);
    const items = await outbox(page);
    assert.deepEqual(items.filter((i) => i.state !== 'sent'), [], 'the outbox is empty');
    assert.deepEqual(errors.filter((e) => !/net::ERR|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});
