// Markdown to HTML for the live preview, made as the site makes it: marked (CommonMark with the
// GitHub extensions the site enables: tables, strikethrough, task lists, bare-URL links) with
// footnotes (marked-footnote) and heading ids made like the site's, then sanitized by DOMPurify
// with an allow-list like the site's (ammonia): no script, event handlers, `javascript:` or
// `data:` URLs, frames, objects, forms or inline styles, so nothing typed into the editor can run
// in it. Both libraries are vendored in `vendor/` (versions and licenses in its README).

import { Marked } from './vendor/marked.esm.js';
import markedFootnote from './vendor/marked-footnote.js';
import DOMPurify from './vendor/purify.es.js';

/** @param {string} s */
export function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Heading ids like the site's: lowercase words joined by hyphens (`+` is plus, `#` sharp). */
export function slugify(/** @type {string} */ text, max = 60) {
  let out = '';
  let dash = false;
  for (const c of text) {
    const word = c === '+' ? 'plus' : c === '#' ? 'sharp' : null;
    if (/[\p{L}\p{N}_]/u.test(c) || word) {
      if (dash && out) out += '-';
      dash = false;
      out += word ?? c.toLowerCase();
    } else {
      dash = true;
    }
    if ([...out].length >= max) break;
  }
  return out;
}

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use(markedFootnote());

/** The tags the site's sanitizer keeps (ammonia's defaults and the task-list checkbox). */
const TAGS = ['a', 'abbr', 'acronym', 'area', 'article', 'aside', 'b', 'bdi', 'bdo', 'blockquote', 'br', 'caption',
  'center', 'cite', 'code', 'col', 'colgroup', 'data', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em',
  'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'i', 'img',
  'input', 'ins', 'kbd', 'li', 'map', 'mark', 'nav', 'ol', 'p', 'pre', 'q', 'rp', 'rt', 'rtc', 'ruby', 's', 'samp',
  'section', 'small', 'span', 'strike', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'th', 'thead',
  'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr'];
const ATTRS = ['href', 'src', 'alt', 'title', 'lang', 'id', 'class', 'align', 'colspan', 'rowspan', 'start',
  'checked', 'disabled', 'type', 'width', 'height', 'datetime', 'cite', 'open', 'value', 'reversed'];
/** Classes the site's renderer writes; any other class is dropped. */
const CLASS = /^(language-[\w+#.-]{1,40}|footnotes?|footnote-[\w-]+|data-footnote-backref|sr-only|align-(left|center|right))$/;

DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName === 'class') {
    const kept = data.attrValue.split(/\s+/).filter((c) => CLASS.test(c));
    if (kept.length) data.attrValue = kept.join(' '); else data.keepAttr = false;
  }
  // The site keeps no data: URLs (an SVG image can carry script).
  if ((data.attrName === 'src' || data.attrName === 'href') && /^\s*data:/i.test(data.attrValue)) data.keepAttr = false;
  if (node.nodeName === 'INPUT' && data.attrName === 'type' && data.attrValue !== 'checkbox') data.keepAttr = false;
});
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'INPUT') node.setAttribute('disabled', '');
});

/**
 * Renders Markdown to sanitized HTML.
 * @param {string} src
 * @returns {string}
 */
export function render(src) {
  const html = /** @type {string} */ (marked.parse(src));
  const clean = DOMPurify.sanitize(html, {
    ALLOWED_TAGS: TAGS, ALLOWED_ATTR: ATTRS, ALLOW_DATA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  });
  // Heading ids as the site makes them: from the text, unique in the post.
  const box = document.createElement('template');
  box.innerHTML = clean;
  /** @type {string[]} */
  const used = [];
  for (const heading of box.content.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const base = slugify(heading.textContent ?? '') || 'section';
    let id = base;
    for (let n = 1; used.includes(id); n++) id = `${base}-${n}`;
    used.push(id);
    heading.id = id;
  }
  return box.innerHTML;
}
