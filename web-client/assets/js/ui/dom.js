// A tiny DOM builder and the page-level helpers the views share.

/**
 * @typedef {string | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>} Attrs
 */

/**
 * `h('button', {type: 'button', onclick: f}, 'Save')`. Attributes starting with `on` are
 * listeners; `true` sets an empty attribute, `false`/`null` leaves it out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** The view area. */
export function main() {
  return /** @type {HTMLElement} */ (document.getElementById('main'));
}

/**
 * Replaces the view, sets the title and moves focus to the new view for screen readers.
 * @param {string} title
 * @param {...(Child | Child[])} children
 */
export function show(title, ...children) {
  const m = main();
  m.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'string' ? document.createTextNode(c) : /** @type {Node} */ (c))));
  document.title = `${title} · Quire`;
  if (!m.contains(document.activeElement)) m.focus({ preventScroll: true });
}

let toastTimer = 0;
/** @param {string} text */
export function toast(text) {
  const t = /** @type {HTMLElement} */ (document.getElementById('toast'));
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => t.classList.remove('show'), 4000);
}

/** @param {string | null} iso */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** `datetime-local` value for an ISO time. @param {string | null} iso */
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** ISO time (UTC) for a `datetime-local` value. @param {string} value */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** @param {string} text */
export function parseTags(text) {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}
