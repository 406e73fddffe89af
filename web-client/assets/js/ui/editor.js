// The editor: title, Markdown body with live preview, tags, status. Typing autosaves a draft
// on this device; Save turns it into an outbox item (and removes the draft in the same
// transaction), which is sent now or as soon as the network allows.

import { session } from '../api.js';
import { allItems, deleteDraft, getItem, putDraft, transact, req } from '../db.js';
import { render } from '../markdown.js';
import { compose, composeUpload, createBody, isActive, newKey, patchBody, pendingUploads, serverId, announce, uploadedUrls, withUploadedUrls, PENDING_MEDIA } from '../outbox.js';
import { emptyFields, entry as loadEntry } from '../posts.js';
import { bus, listen, onLeave } from './bus.js';
import { fromLocalInput, h, parseTags, show, toast, toLocalInput, when } from './dom.js';
import { changed } from './sync.js';
import { stateWords } from './words.js';

/** @typedef {import('../types.js').Fields} Fields */
/** @typedef {import('../types.js').OutboxItem} OutboxItem */

const AUTOSAVE_MS = 300;

/** @param {string | null} keyParam  null: a new post */
export async function editorView(keyParam) {
  let key = keyParam ?? `local-${newKey()}`;
  if (!keyParam) history.replaceState(null, '', `#/edit/${encodeURIComponent(key)}`);
  const { entry, draft } = await loadEntry(key);
  if (keyParam && !entry && !draft) {
    show('Not found', h('h1', {}, 'Post not found'), h('p', {}, 'This device does not know this post (yet). '), h('a', { href: '#/posts' }, 'Back to posts'));
    return;
  }
  /** The fields the edit started from: saving sends what differs from these. */
  let start = entry ? { ...entry.fields } : emptyFields();
  /** The server version the edit started from (null: chain after our own earlier change). */
  let base = draft ? draft.base : entry?.version ?? null;
  const initial = draft?.fields ?? start;

  const title = h('input', { id: 'title', name: 'title', value: initial.title, placeholder: 'none: a note', autocomplete: 'off' });
  const status = h('select', { id: 'status', name: 'status' },
    ['draft', 'published', 'scheduled'].map((v) => h('option', { value: v, selected: initial.status === v }, v[0].toUpperCase() + v.slice(1))));
  const publishAt = h('input', { id: 'publish-at', name: 'publish_at', type: 'datetime-local', value: toLocalInput(initial.publish_at) });
  const whenLabel = h('label', { for: 'publish-at', id: 'publish-at-label' }, 'Publish at', publishAt);
  const tags = h('input', { id: 'tags', name: 'tags', value: initial.tags.join(', '), placeholder: 'comma, separated', autocomplete: 'off' });
  const slug = h('input', { id: 'slug', name: 'slug', value: initial.slug, placeholder: 'made from the title', autocomplete: 'off', autocapitalize: 'none' });
  const body = h('textarea', { id: 'body', name: 'body', spellcheck: 'true', 'aria-describedby': 'shortcuts' });
  body.value = initial.body;
  const preview = h('div', { id: 'preview', class: 'prose' });
  const saveState = h('span', { id: 'save-state', class: 'hint', role: 'status', 'aria-live': 'polite' });
  const autosaved = h('span', { id: 'autosave', class: 'hint' });
  const notices = h('div', {});
  const wide = window.matchMedia('(min-width: 56rem)');
  /** @type {'write' | 'preview' | 'split'} */
  let view = wide.matches ? 'split' : 'write';

  /** @returns {Fields} */
  const read = () => ({
    title: title.value.trim(),
    body: body.value,
    tags: parseTags(tags.value),
    status: /** @type {Fields['status']} */ (status.value),
    publish_at: status.value === 'scheduled' ? fromLocalInput(publishAt.value) : null,
    slug: slug.value.trim(),
  });
  const same = (/** @type {Fields} */ a, /** @type {Fields} */ b) => JSON.stringify(a) === JSON.stringify(b);

  /** Images still in the outbox (or uploaded meanwhile), by outbox key: what the preview shows. */
  /** @type {Map<string, string>} */
  const localImages = new Map();
  let frame = 0;
  const renderPreview = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      preview.innerHTML = render(body.value) || '<p class="hint">Nothing to preview yet.</p>';
      for (const img of preview.querySelectorAll(`img[src^="${PENDING_MEDIA}"]`)) {
        const key = `upload-${(img.getAttribute('src') ?? '').slice(PENDING_MEDIA.length)}`;
        const src = localImages.get(key);
        if (src) img.setAttribute('src', src);
      }
    });
  };
  /** Finds what the pending images of the body show: their blobs here, or their server URLs. */
  const loadLocalImages = async () => {
    const keys = pendingUploads(body.value).filter((k) => !localImages.has(k));
    if (keys.length === 0) return;
    const items = await allItems();
    const urls = await uploadedUrls(keys, items);
    for (const key of keys) {
      const blob = items.find((i) => i.post === key && i.upload?.blob.size)?.upload?.blob;
      const src = urls.get(key) ?? (blob ? URL.createObjectURL(blob) : null);
      if (src) localImages.set(key, src);
    }
    renderPreview();
  };
  onLeave(() => { for (const src of localImages.values()) if (src.startsWith('blob:')) URL.revokeObjectURL(src); });
  let autosaveTimer = 0;
  const autosave = async () => {
    clearTimeout(autosaveTimer);
    const fields = read();
    if (same(fields, start)) {
      await deleteDraft(key);
      autosaved.textContent = '';
    } else {
      await putDraft({ key, fields, base, savedAt: Date.now(), ...(draft?.copy ? { copy: draft.copy } : {}) });
      autosaved.textContent = `Draft kept on this device ${new Date().toLocaleTimeString()}`;
    }
  };
  const onInput = () => {
    clearTimeout(autosaveTimer);
    autosaveTimer = window.setTimeout(autosave, AUTOSAVE_MS);
    whenLabel.hidden = status.value !== 'scheduled';
  };

  const form = h('form', { class: 'editor', id: 'editor', 'data-key': key, 'data-view': view, novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } });
  const tabs = ['write', 'preview', 'split'].map((v) => h('button', {
    type: 'button', role: 'tab', id: `tab-${v}`, 'aria-selected': String(view === v), class: v === 'split' ? 'wide-only' : null,
    onclick: () => setView(/** @type {'write' | 'preview' | 'split'} */ (v)),
  }, { write: 'Write', preview: 'Preview', split: 'Both' }[v]));
  const setView = (/** @type {'write' | 'preview' | 'split'} */ v) => {
    view = v === 'split' && !wide.matches ? 'write' : v;
    form.dataset.view = view;
    for (const t of tabs) t.setAttribute('aria-selected', String(t.id === `tab-${view}`));
  };

  // Images: picked (a phone offers its camera), dropped on the body or pasted into it. Each goes
  // into the outbox at once, with its own key; the body shows it by an outbox URL until then.
  const picker = h('input', { type: 'file', id: 'image-file', accept: 'image/jpeg,image/png,image/webp,image/gif', multiple: true, hidden: true,
    onchange: async () => { for (const file of picker.files ?? []) await addImage(file); picker.value = ''; } });
  const addImageButton = h('button', { type: 'button', id: 'add-image', onclick: () => picker.click() }, 'Add image');
  /** @param {DataTransfer | null} data */
  const imagesIn = (data) => [...(data?.files ?? [])].filter((f) => f.type.startsWith('image/'));
  body.addEventListener('paste', (e) => {
    const files = imagesIn(/** @type {ClipboardEvent} */ (e).clipboardData);
    if (files.length === 0) return;
    e.preventDefault();
    (async () => { for (const file of files) await addImage(file); })();
  });
  body.addEventListener('dragover', (e) => { if (imagesIn(/** @type {DragEvent} */ (e).dataTransfer).length || /** @type {DragEvent} */ (e).dataTransfer?.types.includes('Files')) e.preventDefault(); });
  body.addEventListener('drop', (e) => {
    const files = imagesIn(/** @type {DragEvent} */ (e).dataTransfer);
    if (files.length === 0) return;
    e.preventDefault();
    (async () => { for (const file of files) await addImage(file); })();
  });

  /**
   * Puts `file` in the outbox and its Markdown at the cursor; asks for its alt text.
   * @param {File} file
   */
  async function addImage(file) {
    const s = await session();
    if (!s) { toast('Log in first.'); return; }
    const alt = window.prompt(`Describe “${file.name || 'the image'}” for people who cannot see it (alt text). Leave it empty only for a decorative image.`, '');
    if (alt === null) return;
    const { item, url } = await composeUpload({ blob: file, name: file.name, alt: alt.trim(), user: s.username });
    localImages.set(item.post, URL.createObjectURL(file));
    const markdown = `![${alt.trim().replace(/[[\]]/g, '')}](${url})`;
    const at = body.selectionEnd ?? body.value.length;
    const before = body.value.slice(0, at);
    const gap = before && !before.endsWith('\n\n') ? (before.endsWith('\n') ? '\n' : '\n\n') : '';
    body.value = `${before}${gap}${markdown}\n${body.value.slice(at)}`;
    body.selectionStart = body.selectionEnd = before.length + gap.length + markdown.length + 1;
    onInput();
    renderPreview();
    changed();
  }

  const deleteButton = h('button', { type: 'button', class: 'danger', id: 'delete', onclick: () => remove() }, 'Delete');
  const restoreButton = h('button', { type: 'button', id: 'restore', onclick: () => restore() }, 'Restore');
  const deleted = Boolean(entry?.deleted);
  form.append(
    h('h1', {}, keyParam ? 'Edit post' : 'New post'),
    notices,
    h('label', { for: 'title' }, 'Title', title),
    h('div', { class: 'row' },
      h('label', { for: 'status' }, 'Status', status),
      whenLabel,
      h('label', { for: 'tags' }, 'Tags', tags),
      h('label', { for: 'slug' }, 'Slug', slug)),
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Editor view' }, tabs),
    h('div', { class: 'panes' },
      h('div', { class: 'pane write' },
        h('label', { for: 'body' }, 'Body (Markdown)', body),
        h('div', { class: 'actions' }, addImageButton, picker)),
      h('section', { class: 'pane preview', 'aria-label': 'Preview' }, preview)),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'save' }, 'Save'),
      h('button', { type: 'button', id: 'publish', onclick: () => { status.value = 'published'; onInput(); save(); } }, 'Publish'),
      deleted ? restoreButton : deleteButton,
      entry?.id ? h('a', { class: 'button', href: `#/history/${encodeURIComponent(entry.id)}`, id: 'history' }, 'History') : null,
      saveState),
    h('p', { class: 'hint', id: 'shortcuts' }, 'Ctrl+S (⌘S) saves, Ctrl+E (⌘E) switches to the preview. ', autosaved));
  whenLabel.hidden = initial.status !== 'scheduled';

  if (draft?.copy) {
    const { fields: was } = draft.copy;
    // The text as edited here; title, slug and status as they were (the copy's are its own).
    notices.append(copyNotice(draft.copy, () => ({ ...read(), title: was.title, slug: was.slug, status: was.status, publish_at: was.publish_at }), key));
  } else if (draft) {
    notices.append(h('p', { class: 'notice', id: 'draft-notice' }, `Restored your unsaved changes from ${when(new Date(draft.savedAt).toISOString())}. `,
      h('button', { type: 'button', id: 'discard-draft', onclick: async () => {
        await deleteDraft(key);
        title.value = start.title; body.value = start.body; tags.value = start.tags.join(', ');
        status.value = start.status; slug.value = start.slug; publishAt.value = toLocalInput(start.publish_at);
        base = entry?.version ?? null;
        notices.replaceChildren();
        renderPreview();
      } }, 'Discard them')));
  }
  if (entry?.conflict) {
    notices.append(h('p', { class: 'notice warn' }, 'A change of this post needs your decision. ', h('a', { href: '#/outbox' }, 'Open the outbox')));
  }
  if (deleted) notices.append(h('p', { class: 'notice warn' }, 'This post is deleted. Restore it to edit it.'));

  for (const el of [title, status, publishAt, tags, slug, body]) el.addEventListener('input', onInput);
  body.addEventListener('input', renderPreview);
  listen(document, 'keydown', (e) => {
    const k = /** @type {KeyboardEvent} */ (e);
    if (!(k.ctrlKey || k.metaKey) || k.altKey) return;
    if (k.key === 's' || k.key === 'S') { k.preventDefault(); save(); }
    if (k.key === 'e' || k.key === 'E') { k.preventDefault(); setView(view === 'preview' ? (wide.matches ? 'split' : 'write') : 'preview'); }
  });
  const flush = () => { if (autosaveTimer) autosave(); };
  listen(window, 'pagehide', flush);
  listen(document, 'visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  onLeave(flush);

  /** @type {number | null} */
  let watching = null;
  const showItem = async () => {
    if (watching === null) return;
    const item = await getItem(watching);
    if (!item) return;
    saveState.dataset.state = item.state;
    saveState.replaceChildren(...describe(item));
  };
  listen(bus, 'outbox', showItem);

  async function save() {
    clearTimeout(autosaveTimer);
    const fields = read();
    if (!fields.title && !fields.body.trim()) { toast('Write something: a note needs text, an article a title.'); body.focus(); return; }
    if (fields.status === 'scheduled' && !fields.publish_at) { toast('Choose when to publish.'); publishAt.focus(); return; }
    const s = await session();
    if (!s) { toast('Log in first.'); return; }
    const items = await allItems();
    // Images already on the server get their URLs now; the others are sent first (`after`).
    const known = await uploadedUrls(pendingUploads(fields.body), items);
    if (known.size) {
      fields.body = withUploadedUrls(fields.body, (k) => known.get(k));
      body.value = fields.body;
    }
    const after = pendingUploads(fields.body);
    const id = await serverId(key, items);
    const active = items.some((i) => i.post === key && isActive(i));
    if (id && id !== key && !active) {
      // The server created this post: continue under its id (and keep the draft with it).
      await transact(['drafts'], 'readwrite', async (tx) => {
        const store = tx.objectStore('drafts');
        const d = await req(store.get(key));
        if (d) { store.delete(key); store.put({ ...d, key: id }); }
      });
      key = id;
      form.dataset.key = key;
      history.replaceState(null, '', `#/edit/${encodeURIComponent(key)}`);
    }
    const created = key.startsWith('local-') ? items.some((i) => i.post === key && i.kind === 'create' && i.state !== 'discarded' && i.state !== 'superseded') : true;
    /** @type {OutboxItem} */
    let item;
    if (!created) {
      item = await compose({ kind: 'create', post: key, body: createBody(fields), base: null, local: fields, label: `${fields.status === 'published' ? 'publish' : 'create'} “${fields.title}”`, user: s.username, draftKey: key, after });
    } else {
      const patch = patchBody(fields, start);
      if (Object.keys(patch).length === 0) { await deleteDraft(key); toast('Nothing changed.'); return; }
      const verb = patch.status === 'published' ? 'publish' : 'edit';
      item = await compose({ kind: 'update', post: key, body: patch, base, local: fields, label: `${verb} “${fields.title}”`, user: s.username, draftKey: key, after });
    }
    start = fields;
    base = null; // the next save builds on this one
    notices.querySelector('#draft-notice')?.remove();
    autosaved.textContent = '';
    watching = item.seq ?? null;
    await showItem();
    changed();
  }

  async function remove() {
    if (deleteButton.dataset.armed !== 'yes') {
      deleteButton.dataset.armed = 'yes';
      deleteButton.textContent = 'Really delete?';
      setTimeout(() => { deleteButton.dataset.armed = ''; deleteButton.textContent = 'Delete'; }, 5000);
      return;
    }
    const s = await session();
    if (!s) return;
    const items = await allItems();
    const mine = items.filter((i) => i.post === key && isActive(i));
    if (!entry?.id && mine.every((i) => i.state === 'queued' && i.attempts === 0 && !i.request)) {
      // Never left this device: forget it instead of creating and deleting it.
      await transact(['outbox', 'drafts'], 'readwrite', (tx) => {
        for (const i of mine) tx.objectStore('outbox').put({ ...i, state: 'discarded', updatedAt: Date.now() });
        tx.objectStore('drafts').delete(key);
      });
      announce();
      toast('Discarded the unsent post.');
      location.hash = '#/posts';
      return;
    }
    await compose({ kind: 'delete', post: key, body: null, base: entry?.version ?? null, local: null, label: `delete “${read().title}”`, user: s.username, draftKey: key });
    changed();
    toast('Deleted (restore it from the deleted posts).');
    location.hash = '#/posts';
  }

  async function restore() {
    const s = await session();
    if (!s) return;
    await compose({ kind: 'restore', post: key, body: null, base: entry?.version ?? null, local: null, label: `restore “${read().title}”`, user: s.username });
    changed();
    toast('Restoring…');
    location.hash = '#/posts';
  }

  show(keyParam ? `Edit ${initial.title || 'post'}` : 'New post', form);
  setView(view);
  renderPreview();
  loadLocalImages();
  body.addEventListener('input', () => { loadLocalImages(); });
  (keyParam ? body : title).focus();
}

/**
 * The notice on a conflict copy: where it came from, and a way to put it back into that post
 * (as unsaved changes there, based on the server's version that was kept; saving sends them).
 * @param {import('../types.js').ConflictCopy} copy
 * @param {() => Fields} fields  What to put back.
 * @param {string} key  The copy's own key (its draft goes once it is put back).
 */
function copyNotice(copy, fields, key) {
  const bringBack = async () => {
    await putDraft({ key: copy.of, fields: fields(), base: copy.version, savedAt: Date.now() });
    await deleteDraft(key);
    toast('Your version is back in the post, as unsaved changes: check it and save.');
    location.hash = `#/edit/${encodeURIComponent(copy.of)}`;
  };
  return h('p', { class: 'notice warn', id: 'copy-notice' },
    `This is a conflict copy: your version of “${copy.fields.title}”, kept when the server’s version (${copy.version}) was chosen instead. `,
    'Save it as a new post, or ',
    h('button', { type: 'button', id: 'bring-back', onclick: bringBack }, 'Put it back into the post'));
}

/**
 * What an outbox item's state means for the author.
 * @param {OutboxItem} item
 * @returns {(string | Node)[]}
 */
export function describe(item) {
  switch (item.state) {
    case 'conflict': return ['Changed elsewhere meanwhile: ', h('a', { href: `#/conflict/${item.seq}` }, 'compare and choose')];
    case 'failed': return [`Not saved. ${stateWords(item)} `, h('a', { href: '#/outbox' }, 'Outbox')];
    case 'queued': return [item.attempts === 0 && navigator.onLine ? 'Sending…' : stateWords(item)];
    default: return [stateWords(item)];
  }
}
