// First run: a fresh server with no user. Opening the editor shows the setup page (not the
// login); a wrong setup token is refused with the server's words; the printed token creates the
// admin, logs in, and the token cannot be used again; the next visit shows the login.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifact, launch, profileDir, startServer, waitFor } from '../harness.js';

test('first run: the editor sets up the first admin with the printed token', { timeout: 120000 }, async () => {
  const server = await startServer({}, { admin: false });
  const { context, page, errors } = await launch(profileDir('setup'));
  try {
    await waitFor(async () => /setup token:\s+(\S+)/.test(server.output()), { message: 'the setup token on stdout' });
    const token = /setup token:\s+(\S+)/.exec(server.output())?.[1] ?? '';
    assert.ok(token.length > 10, `a token: ${server.output()}`);

    await page.goto(`${server.base}/editor/`);
    await page.waitForSelector('#setup-token');
    assert.equal(await page.locator('#password-again').count(), 1);
    await page.screenshot({ path: artifact('setup.png') });

    // A wrong token: refused, nothing created, the page says why.
    await page.fill('#setup-token', 'not-the-token');
    await page.fill('#username', 'owner');
    await page.fill('#password', 'a long passphrase 1');
    await page.fill('#password-again', 'a long passphrase 1');
    await page.click('button[type="submit"]');
    await waitFor(async () => ((await page.textContent('#setup-error')) ?? '').includes('setup token'), { message: 'the wrong token to be refused' });
    const pending = await (await fetch(`${server.base}/api/v1/auth/setup`)).json();
    assert.equal(pending.pending, true, 'still no user');

    // The printed token: the admin exists and the editor is logged in as them.
    await page.fill('#setup-token', token);
    await page.click('button[type="submit"]');
    await page.waitForSelector('#post-list');
    const after = await (await fetch(`${server.base}/api/v1/auth/setup`)).json();
    assert.equal(after.pending, false);
    const login = await fetch(`${server.base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'owner', password: 'a long passphrase 1' }),
    });
    assert.equal(login.status, 200, 'the new admin can log in');
    const again = await fetch(`${server.base}/api/v1/auth/setup`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ setup_token: token, username: 'second', password: 'another passphrase 2' }),
    });
    assert.equal(again.status, 401, 'the token works once');

    // Logged out, the editor shows the login, not the setup page.
    await page.evaluate(async (module) => {
      /** @type {typeof import('../../../web-client/assets/js/api.js')} */
      const { logout } = await import(module);
      await logout();
    }, './js/api.js');
    await page.goto(`${server.base}/editor/`);
    await page.waitForSelector('#username');
    assert.equal(await page.locator('#setup-token').count(), 0);
    assert.deepEqual(errors.filter((e) => !/401|Unauthorized/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});
