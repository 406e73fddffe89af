// Apps and tokens in the editor: the tokens of the logged-in user (a script's, and one an app
// got through IndieAuth) are listed with their rights; revoking one makes it stop working.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, launch, login, profileDir, startServer } from '../harness.js';

test('apps and tokens: listed with their rights, revoked from the editor', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page } = await launch(profileDir('tokens'));
  try {
    const api = await apiClient(server.base);
    const script = await api.call('POST', '/tokens', { name: 'backup script', scopes: ['posts:read'] });
    const app = await api.call('POST', '/tokens', { name: 'IndieAuth: https://quill.example/', scopes: ['posts:read', 'posts:write', 'media:write'] });
    assert.equal(script.status, 201);
    assert.equal(app.status, 201);
    const works = async (/** @type {string} */ secret) =>
      (await fetch(`${server.base}/api/v1/posts`, { headers: { Authorization: `Bearer ${secret}` } })).status;
    assert.equal(await works(app.body.secret), 200);

    await login(page, server.base);
    await page.click('#tokens-link');
    await page.waitForSelector('#token-list li');
    assert.equal(await page.locator('#token-list li').count(), 2);
    const appRow = page.locator(`#token-list li[data-token="${app.body.id}"]`);
    assert.match(await appRow.textContent() ?? '', /IndieAuth: https:\/\/quill\.example\/.*posts:read, posts:write, media:write.*last used/s);
    assert.match(await page.locator(`#token-list li[data-token="${script.body.id}"]`).textContent() ?? '', /backup script.*posts:read.*never used/s);
    await appRow.locator('button[data-revoke]').click();
    await page.waitForSelector(`#token-list li[data-token="${app.body.id}"]`, { state: 'detached' });
    assert.equal(await works(app.body.secret), 401, 'the revoked token stops working');
    assert.equal(await works(script.body.secret), 200, 'the other one still works');
    await page.reload();
    await page.waitForSelector('#token-list li');
    assert.equal(await page.locator('#token-list li').count(), 1);
  } finally {
    await context.close();
    await server.stop();
  }
});
