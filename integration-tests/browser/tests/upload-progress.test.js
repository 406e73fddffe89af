// Upload progress: a photo dropped on the body, on a slow uplink; the outbox shows how far its
// upload got while it is being sent, then the photo is on the server once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, launch, login, profileDir, startServer } from '../harness.js';

test('upload progress: the outbox shows the percentage while a photo is sent', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('progress'));
  try {
    await login(page, server.base);
    await page.evaluate(() => { location.hash = '#/new'; });
    await page.waitForSelector('form.editor #body');
    page.on('dialog', (dialog) => { dialog.accept('Noise'); });
    // A slow uplink: about 300 kB/s.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 300 * 1024 });
    // A photo that does not compress: ~1 MB of noise as PNG, dropped on the body.
    await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 600; canvas.height = 500;
      const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
      const pixels = ctx.createImageData(600, 500);
      crypto.getRandomValues(pixels.data.subarray(0, 65536));
      for (let i = 65536; i < pixels.data.length; i += 65536) crypto.getRandomValues(pixels.data.subarray(i, i + 65536));
      for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
      ctx.putImageData(pixels, 0, 0);
      const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/png'));
      const data = new DataTransfer();
      data.items.add(new File([/** @type {Blob} */ (blob)], 'noise.png', { type: 'image/png' }));
      const body = document.querySelector('#body');
      const over = new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true });
      body?.dispatchEvent(over);
      if (!over.defaultPrevented) throw new Error('the body does not take a dragged file');
      body?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.evaluate(() => { location.hash = '#/outbox'; });
    const seen = await page.waitForFunction(() => {
      const words = document.querySelector('#outbox-items li[data-state="sending"] [data-words]')?.textContent ?? '';
      const m = /Uploading… (\d+)% \(([\d.]+) MB of ([\d.]+) MB\)/.exec(words);
      return m && Number(m[1]) > 0 && Number(m[1]) < 100 ? words : null;
    }, undefined, { timeout: 30000 });
    const words = String(await seen.jsonValue());
    assert.match(words, /Uploading… \d+% \([\d.]+ MB of 0\.[5-9]\d* MB|Uploading… \d+% \([\d.]+ MB of 1\.\d MB/);
    await page.waitForSelector('#outbox-items li[data-state="sent"]', { timeout: 60000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const api = await apiClient(server.base);
    const media = (await api.call('GET', '/media')).body.items;
    assert.equal(media.length, 1, 'the photo is on the server once');
    assert.equal(media[0].alt, 'Noise');
  } finally {
    await context.close();
    await server.stop();
  }
});
