// Mirrors in the editor: a `[[git.remotes]]` mirror that refuses Quire's push (it has a commit
// Quire lacks) is shown under the header with the remote's name, git's error and what to do,
// without blocking editing, and the notice goes once the remote takes the push. A forge that
// diverged (served by a route: a real divergence needs a forge webhook round trip) is shown
// with the files both sides changed, as text, and the steps to resolve it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiClient, artifact, forward, launch, login, profileDir, startServer, waitFor, writePost } from '../harness.js';

/** @param {...string} args */
function git(...args) {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A bare repository at `path` whose `main` has one commit (made by hand, unknown to Quire). */
function remoteWithForeignCommit(/** @type {string} */ path, /** @type {string} */ work) {
  git('init', '--quiet', '--bare', '--initial-branch=main', path);
  git('init', '--quiet', work);
  writeFileSync(join(work, 'notes.txt'), 'pushed by hand\n');
  git('-C', work, 'add', 'notes.txt');
  git('-C', work, '-c', 'user.name=Someone', '-c', 'user.email=someone@example.invalid', 'commit', '--quiet', '-m', 'By hand');
  git('-C', work, 'push', '--quiet', path, 'HEAD:refs/heads/main');
}

/**
 * Counts the editor's reads of `/api/v1/status`.
 * @param {import('playwright-core').BrowserContext} context
 */
function countStatusReads(context) {
  const reads = { count: 0, since: Date.now() };
  context.on('request', (r) => { if (new URL(r.url()).pathname === '/api/v1/status') reads.count++; });
  return reads;
}

/**
 * At most one read per 5 s (the editor's least gap), plus the first: never a tight loop.
 * @param {{count: number, since: number}} reads
 */
function assertNoTightLoop(reads) {
  const bound = Math.ceil((Date.now() - reads.since) / 5000) + 1;
  assert.ok(reads.count >= 1 && reads.count <= bound, `${reads.count} status reads (at most ${bound})`);
}

test('mirrors: a rejected push is shown until the remote takes it', { timeout: 150000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-mirror-'));
  const remote = join(dir, 'backup.git');
  remoteWithForeignCommit(remote, join(dir, 'work'));
  const config = join(dir, 'quire.toml');
  writeFileSync(config, [
    '[git]', 'push_retry_initial_secs = 1', 'push_retry_max_secs = 1',
    '[[git.remotes]]', 'name = "backup"', `url = ${JSON.stringify(remote)}`, '',
  ].join('\n'));
  const server = await startServer({ QUIRE_CONFIG: config });
  const { context, page, errors } = await launch(profileDir('mirrors'));
  try {
    const api = await apiClient(server.base);
    assert.equal((await api.call('POST', '/posts', { title: 'Mirrored', body: 'Pushed to the backup.', status: 'published' })).status, 201);
    const failing = await waitFor(async () => {
      const mirror = (await api.call('GET', '/status')).body.git.mirrors[0];
      return mirror.failures >= 1 && mirror.last_error ? mirror : null;
    }, { timeout: 30000, message: 'the push to the backup to fail' });
    assert.match(failing.last_error, /rejected/, 'git refuses a push that is not a fast-forward');

    const reads = countStatusReads(context);
    await login(page, server.base);
    const notice = page.locator('#mirrors [data-remote="backup"]');
    await notice.waitFor();
    assert.equal(await page.getAttribute('#mirrors', 'role'), 'status');
    const said = await notice.locator('[data-kind="push"]').innerText();
    assert.match(said, /^backup: pushing Quire’s posts to it failed/);
    assert.match(said, /\[rejected\]/, 'git’s own words');
    assert.doesNotMatch(said, /hint:/, 'without git’s general hints');
    assert.match(said, /Next try /);
    // What to do for a remote that has commits Quire lacks: take them into Quire.
    await notice.locator('details.todo summary').click();
    const todo = await notice.locator('details.todo').innerText();
    assert.ok(todo.includes(`git pull ${remote} main`), todo);
    assert.ok(todo.includes(`git clone ${server.base}/git/content.git`), todo);
    await page.screenshot({ path: artifact('desktop-mirror-push-failing.png') });

    // The remote takes Quire's history again (its foreign commit is gone).
    rmSync(remote, { recursive: true, force: true });
    git('init', '--quiet', '--bare', '--initial-branch=main', remote);
    await waitFor(async () => {
      const status = (await api.call('GET', '/status')).body;
      return status.git.mirrors[0].failures === 0 && status.git.mirrors[0].pushed_seq === status.head;
    }, { timeout: 30000, message: 'the push to the backup to succeed' });
    assert.equal(await notice.count(), 1, 'still shown until the editor reads the status again');
    // Editing is not blocked; the outbox sending the post makes the editor read the status.
    await writePost(page, { title: 'Written meanwhile', body: 'The notice is no obstacle.' });
    await page.waitForSelector('#save-state[data-state="sent"]', { timeout: 30000 });
    await waitFor(async () => (await page.locator('#mirrors > *').count()) === 0, { timeout: 20000, message: 'the notice to go' });
    assert.equal(await page.isVisible('#mirrors'), false);
    assertNoTightLoop(reads);
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirrors: a diverged forge is shown with the files both sides changed, as text', { timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, page, errors } = await launch(profileDir('mirrors-diverged'));
  try {
    const hostile = 'content/posts/2026/<img src=x onerror="window.pwned=1">.md';
    const forge = {
      name: 'forge', url: 'https://forge.invalid/me/blog.git', pushed_seq: 1, failures: 3,
      last_error: '! refs/heads/main:refs/heads/main [rejected] (non-fast-forward)',
      last_attempt_at: '2026-12-02T10:00:00Z', last_success_at: '2026-12-02T09:00:00Z', next_retry_at: '2026-12-02T10:00:08Z',
      pull: {
        branch: 'trunk', ok: false, last_pull_at: '2026-12-02T10:00:00Z',
        last_error: "diverged: the forge's branch and Quire's main both have commits the other lacks",
        diverged: true, conflicts: ['content/posts/2026/hello.md', hostile], problems: [], commit: null, imported_events: 0,
      },
    };
    const refusing = {
      name: 'gitea', url: 'https://gitea.invalid/me/blog.git', pushed_seq: 1, failures: 0, last_error: null,
      last_attempt_at: null, last_success_at: null, next_retry_at: null,
      pull: {
        branch: 'main', ok: false, last_pull_at: '2026-12-02T10:00:00Z', last_error: 'the import was refused',
        diverged: false, conflicts: [], problems: ['content/posts/2026/bad.md: <b>front matter</b> is not valid YAML'], commit: null, imported_events: 0,
      },
    };
    let healthy = false;
    // The real status, with the two troubled remotes added (the server has none configured).
    await context.route(/\/api\/v1\/status$/, async (route) => {
      const response = await forward(route);
      const json = await response.json();
      if (!healthy) json.git.mirrors.push(forge, refusing);
      await route.fulfill({ response, json });
    });
    const reads = countStatusReads(context);
    await login(page, server.base);
    const notice = page.locator('#mirrors [data-remote="forge"]');
    await notice.waitFor();
    const said = await notice.locator('[data-kind="diverged"]').innerText();
    assert.match(said, /^forge and Quire both changed the same files since they parted: nothing from its branch “trunk” was taken in/);
    assert.deepEqual(await notice.locator('.paths li').allInnerTexts(), ['content/posts/2026/hello.md', hostile], 'the paths, as text');
    assert.match(await notice.locator('[data-kind="push"]').innerText(), /failed 3 times in a row\.[\s\S]*\[rejected\] \(non-fast-forward\)/);
    assert.equal(await notice.locator('details.todo').count(), 1, 'the divergence’s steps resolve the refused push too');
    await notice.locator('details.todo summary').click();
    const todo = await notice.locator('details.todo').innerText();
    assert.ok(todo.includes(`git pull --rebase ${server.base}/git/content.git main`), todo);
    assert.ok(todo.includes('git push --force-with-lease origin trunk'), todo);
    assert.match(todo, /Resolve the files listed above/);

    const refused = page.locator('#mirrors [data-remote="gitea"]');
    assert.match(await refused.locator('[data-kind="refused"]').innerText(), /^gitea: the latest changes on its branch “main” were not taken in/);
    assert.deepEqual(await refused.locator('.paths li').allInnerTexts(), [refusing.pull.problems[0]]);
    // Server text is text: no element made from it, no script run.
    assert.equal(await page.locator('#mirrors img, #mirrors b').count(), 0);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).pwned), undefined);
    await page.screenshot({ path: artifact('desktop-mirror-diverged.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: artifact('phone-mirror-diverged.png') });

    // Editing goes on underneath it.
    await page.click('#new-post');
    await page.waitForSelector('form.editor #title');

    // Another failed push: the next read (here: when the network is back) updates the notice, and
    // the steps the reader opened stay open.
    forge.failures = 4;
    await context.setOffline(true);
    await context.setOffline(false);
    await waitFor(async () => /failed 4 times in a row/.test(await notice.locator('[data-kind="push"]').innerText()), { timeout: 20000, message: 'the notice to follow the status' });
    assert.equal(await notice.locator('details.todo[open]').count(), 1);

    // Healthy again: the next read takes the notice away.
    healthy = true;
    await context.setOffline(true);
    await context.setOffline(false);
    await waitFor(async () => (await page.locator('#mirrors > *').count()) === 0, { timeout: 20000, message: 'the notice to go' });
    assertNoTightLoop(reads);
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)), []);
  } finally {
    await context.close();
    await server.stop();
  }
});
