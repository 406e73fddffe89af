// IndieAuth in a real browser: a test client starts authorization with PKCE, the user logs in
// and approves on Quire's consent page, the code is exchanged, the token posts a note with a
// photo through Micropub, and the post's page parses as valid microformats2 with mf2py (a
// maintained parser). Denied consent, a wrong code_verifier, a reused code and a mismatched
// redirect_uri are refused.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN, ROOT, artifact, launch, profileDir, startServer, waitFor } from '../harness.js';

const CLIENT = 'https://app.example/';
const REDIRECT = 'https://app.example/callback';
const PYTHON = join(ROOT, '.venv-mf2', 'bin', 'python');

/** @param {string} verifier */
const challenge = (verifier) => createHash('sha256').update(verifier).digest('base64url');

/**
 * The consent page's URL for a new authorization request.
 * @param {string} base
 * @param {string} verifier
 * @param {string} state
 */
function authorizeUrl(base, verifier, state) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: CLIENT, redirect_uri: REDIRECT, state, scope: 'create media',
    code_challenge: challenge(verifier), code_challenge_method: 'S256', me: base,
  });
  return `${base}/indieauth/auth?${q}`;
}

/**
 * Exchanges a code at the token endpoint.
 * @param {string} base
 * @param {string} code
 * @param {string} verifier
 * @param {string} [redirect]
 */
async function exchange(base, code, verifier, redirect = REDIRECT) {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, client_id: CLIENT, redirect_uri: redirect, code_verifier: verifier });
  const r = await fetch(`${base}/indieauth/token`, { method: 'POST', body });
  return { status: r.status, body: /** @type {Record<string, string>} */ (await r.json()) };
}

test('IndieAuth: consent in the browser, PKCE, a note with a photo, valid microformats2', { timeout: 120000 }, async () => {
  const server = await startServer({ QUIRE_API__WRITE_RATE_PER_MINUTE: '0' });
  const { context, page, errors } = await launch(profileDir('indieauth'));
  try {
    // The client application's callback: the browser lands here with the code.
    await context.route('https://app.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>client</p>' }));
    // Absolute URLs use the site's configured address (`base_url`, by default
    // http://127.0.0.1:8080): send them to this test's server.
    await context.route('http://127.0.0.1:8080/**', (route) => {
      const url = new URL(route.request().url());
      return route.continue({ url: `${server.base}${url.pathname}${url.search}` });
    });
    /** Runs the consent page once; returns where it sent the browser. @param {string} verifier @param {'approve' | 'deny'} decision */
    const consent = async (verifier, decision) => {
      const state = randomBytes(8).toString('hex');
      await page.goto(authorizeUrl(server.base, verifier, state));
      assert.equal(await page.textContent('#client'), CLIENT);
      assert.equal(await page.innerText('#scopes'), 'create\nmedia');
      if (decision === 'approve') {
        await page.fill('#username', ADMIN.username);
        await page.fill('#password', ADMIN.password);
      }
      await page.click(`#${decision}`);
      await page.waitForURL(/^https:\/\/app\.example\/callback/);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('state'), state);
      assert.equal(url.searchParams.get('iss'), new URL('/', 'http://127.0.0.1:8080').href);
      return url;
    };

    const denied = await consent('v'.repeat(50), 'deny');
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('code'), null);

    const verifier = randomBytes(40).toString('base64url');
    await page.goto(authorizeUrl(server.base, verifier, 'shot'));
    await page.screenshot({ path: artifact('indieauth-consent.png') });
    let code = (await consent(verifier, 'approve')).searchParams.get('code') ?? '';
    assert.ok(code, 'a code');
    assert.equal((await exchange(server.base, code, 'w'.repeat(50))).body.error, 'invalid_grant', 'a wrong code_verifier');
    assert.equal((await exchange(server.base, code, verifier)).status, 400, 'the code was used up');
    code = (await consent(verifier, 'approve')).searchParams.get('code') ?? '';
    assert.equal((await exchange(server.base, code, verifier, 'https://app.example/elsewhere')).status, 400, 'a mismatched redirect_uri');
    code = (await consent(verifier, 'approve')).searchParams.get('code') ?? '';
    const granted = await exchange(server.base, code, verifier);
    assert.equal(granted.status, 200);
    assert.equal((await exchange(server.base, code, verifier)).status, 400, 'a reused code');
    const token = granted.body.access_token;

    const form = new FormData();
    form.append('h', 'entry');
    form.append('content', 'A note from the IndieAuth browser test.');
    form.append('category[]', 'indieweb');
    const photo = readFileSync(join(ROOT, 'integration-tests/fixtures/exif-orientation-6-gps.jpg'));
    form.append('photo', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
    const created = await fetch(`${server.base}/micropub`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
    assert.equal(created.status, 201);
    const location = created.headers.get('location') ?? '';
    const path = location.slice(location.indexOf('/posts/'));
    await waitFor(async () => (await fetch(`${server.base}${path}`)).ok, { message: 'the note’s page' });
    await page.goto(`${server.base}${path}`);
    await page.screenshot({ path: artifact('indieauth-note.png'), fullPage: true });
    const html = await page.content();

    const parsed = JSON.parse(execFileSync(PYTHON, ['-c', 'import sys, json, mf2py; print(json.dumps(mf2py.parse(doc=sys.stdin.read(), url=sys.argv[1])))', `${server.base}${path}`], { input: html }).toString());
    const entry = parsed.items.find((/** @type {{type: string[]}} */ i) => i.type.includes('h-entry'));
    assert.ok(entry, 'an h-entry');
    const p = entry.properties;
    assert.equal(p.content[0].value, 'A note from the IndieAuth browser test.');
    assert.equal(p.name, undefined, 'a note has no name');
    assert.deepEqual(p.category, ['indieweb']);
    assert.ok(p.published[0].length >= 10, 'dt-published');
    assert.match(p.url[0], /\/posts\//);
    assert.match(typeof p.photo[0] === 'string' ? p.photo[0] : p.photo[0].value, /\/media\/[0-9a-f]{64}\.jpg$/);
    assert.ok(p.author[0].type.includes('h-card'), 'the author’s h-card');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await server.stop();
  }
});
