// Two devices: one published post edited offline in two Chromium profiles on the same server, the
// way a person breaks it. Device A comes back online first, then device B; B's change is merged
// by the server against A's (`Base-Version`), and only changes to the same field or the same
// lines of the body are shown as a conflict, which B decides in the editor's conflict view.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, launch, login, pendingCount, profileDir, startServer, waitFor } from '../harness.js';

const BODY = 'Paragraph one.\n\nParagraph two.\n\nParagraph three.\n';
const NOISE = /ERR_INTERNET_DISCONNECTED|Failed to load resource/;

/** @typedef {Awaited<ReturnType<typeof launch>>} Device */
/** @typedef {Awaited<ReturnType<typeof apiClient>>} Api */

/**
 * A server with one published post, and two devices logged in that both know it.
 * @param {string} name
 * @param {(devices: {server: Awaited<ReturnType<typeof startServer>>, api: Api, id: string, a: Device, b: Device}) => Promise<void>} run
 */
async function withTwoDevices(name, run) {
  const server = await startServer();
  /** @type {Device[]} */
  const devices = [];
  try {
    const api = await apiClient(server.base);
    const created = await api.call('POST', '/posts', { title: 'Shared post', body: BODY, tags: ['shared'], status: 'published' });
    assert.equal(created.status, 201);
    const id = created.body.id;
    for (const side of ['a', 'b']) {
      const device = await launch(profileDir(`devices-${name}-${side}`));
      devices.push(device);
      await login(device.page, server.base);
      await device.page.waitForSelector(`#post-list li[data-key="${id}"]`);
    }
    const [a, b] = devices;
    await run({ server, api, id, a, b });
    for (const d of devices) assert.deepEqual(d.errors.filter((e) => !NOISE.test(e)), []);
  } finally {
    for (const d of devices) await d.context.close();
    await server.stop();
  }
}

/**
 * Edits the post in the editor while the device is offline, and saves.
 * @param {Device} device
 * @param {string} id
 * @param {{title?: string, body?: string, tags?: string}} change
 */
async function editOffline({ context, page }, id, change) {
  await context.setOffline(true);
  await page.evaluate((k) => { location.hash = `#/edit/${k}`; }, id);
  await page.waitForSelector(`form.editor[data-key="${id}"]`);
  if (change.title !== undefined) await page.fill('#title', change.title);
  if (change.body !== undefined) await page.fill('#body', change.body);
  if (change.tags !== undefined) await page.fill('#tags', change.tags);
  await page.click('#save');
  await page.waitForSelector(`form.editor[data-key="${id}"] #save-state[data-state="queued"]`);
  assert.equal(await pendingCount(page), 1);
}

/**
 * Brings the device online and waits until its outbox is empty.
 * @param {Device} device
 */
async function syncClean({ context, page }) {
  await context.setOffline(false);
  await waitFor(async () => (await pendingCount(page)) === 0, { timeout: 30000, message: 'the outbox to be empty' });
}

/**
 * Brings the device online and waits until its change is a conflict; opens the conflict view.
 * @param {Device} device
 */
async function syncIntoConflict({ context, page }) {
  await context.setOffline(false);
  await page.evaluate(() => { location.hash = '#/outbox'; });
  const row = page.locator('#outbox-items li[data-state="conflict"]');
  await waitFor(async () => (await row.count()) === 1, { timeout: 30000, message: 'a conflict in the outbox' });
  const seq = await row.getAttribute('data-seq');
  assert.ok(seq);
  await page.evaluate((s) => { location.hash = `#/conflict/${s}`; }, seq);
  await page.waitForSelector('#keep-mine');
}

/**
 * Opens the outbox and checks that everything was sent: no conflict left to decide.
 * @param {Device} device
 * @param {string} who
 */
async function assertNothingToDecide({ page }, who) {
  await page.evaluate(() => { location.hash = '#/outbox'; });
  await waitFor(async () => (await page.textContent('#outbox-summary')) === 'Everything is on the server.'
    && (await page.locator('#outbox-items li[data-state="sent"]').count()) > 0, { message: `${who}’s outbox to show its change as sent` });
  assert.equal(await page.locator('#outbox-items li[data-state="conflict"]').count(), 0, `no conflict on ${who}`);
}

/**
 * Checks that the post's last change was merged by the server (sent with `Base-Version`).
 * @param {Api} api
 * @param {string} id
 */
async function assertLastChangeMerged(api, id) {
  const history = (await api.call('GET', `/posts/${id}/history`)).body.events;
  assert.equal(history.length, 3);
  assert.equal(history[2].data.merged, true, 'B’s change was merged by the server');
  assert.equal(history[2].data.base_version, 1);
}

test('devices: a title changed on one device and the body on the other both stay, without a conflict', { timeout: 150000 }, async () => {
  await withTwoDevices('fields', async ({ api, id, a, b }) => {
    const body = BODY.replace('Paragraph two.', 'Paragraph two, rewritten on B.');
    await editOffline(a, id, { title: 'Renamed on A' });
    await editOffline(b, id, { body });
    await syncClean(a);
    assert.equal((await api.call('GET', `/posts/${id}`)).body.title, 'Renamed on A');
    await syncClean(b);
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.equal(post.title, 'Renamed on A', 'A’s title stays');
    assert.equal(post.body, body, 'B’s body arrives');
    assert.equal(post.version, 3);
    await assertLastChangeMerged(api, id);
    await assertNothingToDecide(a, 'A');
    await assertNothingToDecide(b, 'B');
  });
});

test('devices: both rename the post; B keeps its title, A’s other changes stay', { timeout: 150000 }, async () => {
  await withTwoDevices('keep-mine', async ({ api, id, a, b }) => {
    const bodyA = BODY.replace('Paragraph three.', 'Paragraph three, from A.');
    await editOffline(a, id, { title: 'Title from A', tags: 'shared, from-a', body: bodyA });
    await editOffline(b, id, { title: 'Title from B' });
    await syncClean(a);
    await syncIntoConflict(b);
    assert.equal(await b.page.textContent('#overlaps'), 'Changed on both sides: title.', 'only the title overlaps');
    assert.equal(await b.page.textContent('#server-side .f-title'), 'Title from A');
    assert.equal(await b.page.textContent('#local-side .f-title'), 'Title from B');
    await b.page.click('#keep-mine');
    await waitFor(async () => (await api.call('GET', `/posts/${id}`)).body.title === 'Title from B', { timeout: 30000, message: 'B’s title on the server' });
    await waitFor(async () => (await pendingCount(b.page)) === 0, { message: 'nothing pending on B' });
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.deepEqual(post.tags, ['shared', 'from-a'], 'A’s tags stay');
    assert.equal(post.body, bodyA, 'A’s body stays');
    await assertNothingToDecide(b, 'B');
  });
});

test('devices: both rename the post; B keeps A’s title and finds its own in a conflict copy', { timeout: 150000 }, async () => {
  await withTwoDevices('keep-theirs', async ({ api, id, a, b }) => {
    const bodyB = BODY.replace('Paragraph two.', 'Paragraph two, only on B.');
    await editOffline(a, id, { title: 'Title from A' });
    await editOffline(b, id, { title: 'Title from B', body: bodyB });
    await syncClean(a);
    await syncIntoConflict(b);
    assert.equal(await b.page.textContent('#overlaps'), 'Changed on both sides: title.', 'only the title overlaps');
    await b.page.click('#keep-server');
    await b.page.waitForSelector('#outbox-items', { state: 'attached' });
    await waitFor(async () => (await pendingCount(b.page)) === 0, { message: 'nothing pending on B' });
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.equal(post.title, 'Title from A');
    assert.equal(post.body, BODY, 'B’s change was not sent');
    assert.equal(post.version, 3, 'only B’s conflict copy was added to the history');
    const copyEvent = (await api.call('GET', `/posts/${id}/history`)).body.events[2];
    assert.equal(copyEvent.type, 'PostConflictCopy');
    assert.deepEqual([copyEvent.data.copy.title, copyEvent.data.copy.body], ['Title from B', bodyB], 'B’s side is in the server’s history');

    await b.page.evaluate(() => { location.hash = '#/posts'; });
    const copy = b.page.locator('#post-list li[data-key]', { hasText: 'Title from B (conflict copy)' });
    await copy.waitFor();
    await copy.locator('a.post').click();
    await b.page.waitForSelector('#copy-notice');
    assert.equal(await b.page.inputValue('#title'), 'Title from B (conflict copy)');
    assert.equal(await b.page.inputValue('#body'), bodyB, 'B’s text is recoverable');
    // And from the post's history on the server, on any device.
    await b.page.evaluate((k) => { location.hash = `#/history/${k}`; }, id);
    await b.page.click('button.restore-copy[data-version="3"]');
    await waitFor(async () => (await api.call('GET', `/posts/${id}`)).body.title === 'Title from B', { timeout: 30000, message: 'the copy brought back' });
    assert.equal((await api.call('GET', `/posts/${id}`)).body.body, bodyB, 'B’s text is back in the post');
  });
});

test('devices: both rename the post and edit different paragraphs; B keeps its title, every paragraph edit stays', { timeout: 150000 }, async () => {
  await withTwoDevices('keep-mine-body', async ({ api, id, a, b }) => {
    await editOffline(a, id, { title: 'Title from A', body: BODY.replace('Paragraph one.', 'Paragraph one, from A.') });
    await editOffline(b, id, { title: 'Title from B', body: BODY.replace('Paragraph three.', 'Paragraph three, from B.') });
    await syncClean(a);
    await syncIntoConflict(b);
    assert.equal(await b.page.textContent('#overlaps'), 'Changed on both sides: title.', 'only the title overlaps');
    await b.page.click('#keep-mine');
    await waitFor(async () => (await api.call('GET', `/posts/${id}`)).body.title === 'Title from B', { timeout: 30000, message: 'B’s title on the server' });
    await waitFor(async () => (await pendingCount(b.page)) === 0, { message: 'nothing pending on B' });
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.equal(post.body, 'Paragraph one, from A.\n\nParagraph two.\n\nParagraph three, from B.\n', 'A’s paragraph 1 and B’s paragraph 3');
    await assertNothingToDecide(b, 'B');
  });
});

test('devices: an overlapping hunk is decided on its own; the server’s side wins there, B’s other edit stays', { timeout: 150000 }, async () => {
  await withTwoDevices('hunk-choice', async ({ api, id, a, b }) => {
    await editOffline(a, id, { body: BODY.replace('Paragraph two.', 'Paragraph two, as A has it.') });
    await editOffline(b, id, { body: BODY.replace('Paragraph two.', 'Paragraph two, as B has it.').replace('Paragraph three.', 'Paragraph three, from B.') });
    await syncClean(a);
    await syncIntoConflict(b);
    assert.equal(await b.page.locator('#choices fieldset.overlap').count(), 1, 'one overlap to decide');
    assert.equal(await b.page.textContent('#overlap-0 .f-mine'), 'Paragraph two, as B has it.\n');
    await b.page.check('#pick-0-theirs');
    await b.page.click('#save-choices');
    const merged = 'Paragraph one.\n\nParagraph two, as A has it.\n\nParagraph three, from B.\n';
    await waitFor(async () => (await api.call('GET', `/posts/${id}`)).body.body === merged, { timeout: 30000, message: 'the decided body on the server' });
    await waitFor(async () => (await pendingCount(b.page)) === 0, { message: 'nothing pending on B' });
    const events = (await api.call('GET', `/posts/${id}/history`)).body.events;
    const copy = events.find((/** @type {{type: string}} */ e) => e.type === 'PostConflictCopy');
    assert.ok(copy, 'B’s losing hunk is in the history');
    assert.match(copy.data.copy.body, /Paragraph two, as B has it\./);
  });
});

test('devices: edits to different paragraphs of the body are merged without a question', { timeout: 150000 }, async () => {
  await withTwoDevices('paragraphs', async ({ api, id, a, b }) => {
    await editOffline(a, id, { body: BODY.replace('Paragraph one.', 'Paragraph one, edited on A.') });
    await editOffline(b, id, { body: BODY.replace('Paragraph three.', 'Paragraph three, edited on B.') });
    await syncClean(a);
    await syncClean(b);
    const post = (await api.call('GET', `/posts/${id}`)).body;
    assert.equal(post.body, 'Paragraph one, edited on A.\n\nParagraph two.\n\nParagraph three, edited on B.\n');
    assert.equal(post.version, 3);
    await assertLastChangeMerged(api, id);
    await assertNothingToDecide(a, 'A');
    await assertNothingToDecide(b, 'B');
  });
});

test('devices: the same line edited differently is a body conflict, merged by hand', { timeout: 150000 }, async () => {
  await withTwoDevices('hunk', async ({ api, id, a, b }) => {
    const bodyA = BODY.replace('Paragraph two.', 'Paragraph two, the way A sees it.');
    const bodyB = BODY.replace('Paragraph two.', 'Paragraph two, the way B sees it.');
    await editOffline(a, id, { body: bodyA });
    await editOffline(b, id, { body: bodyB });
    await syncClean(a);
    await syncIntoConflict(b);
    assert.equal(await b.page.textContent('#overlaps'), 'Changed on both sides: body (line 3).', 'the hunk is named');
    assert.equal(await b.page.textContent('#server-side .f-body'), bodyA);
    assert.equal(await b.page.textContent('#local-side .f-body'), bodyB);
    await b.page.click('#merge');
    const proposed = await b.page.inputValue('#merge-body');
    assert.equal(proposed, 'Paragraph one.\n\n<<<<<<< yours\nParagraph two, the way B sees it.\n=======\nParagraph two, the way A sees it.\n>>>>>>> server\n\nParagraph three.\n',
      'only the hunk is marked');
    const merged = BODY.replace('Paragraph two.', 'Paragraph two, the way A and B see it.');
    await b.page.fill('#merge-body', merged);
    await b.page.click('#save-merge');
    await waitFor(async () => (await api.call('GET', `/posts/${id}`)).body.body === merged, { timeout: 30000, message: 'the merge on the server' });
    await waitFor(async () => (await pendingCount(b.page)) === 0, { message: 'nothing pending on B' });
    assert.equal((await api.call('GET', `/posts/${id}`)).body.title, 'Shared post');
    const copy = (await api.call('GET', `/posts/${id}/history`)).body.events.find((/** @type {{type: string}} */ e) => e.type === 'PostConflictCopy');
    assert.equal(copy?.data.copy.body, bodyB, 'B’s side of the hunk is in the history');
  });
});
