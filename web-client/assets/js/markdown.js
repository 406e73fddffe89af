// Markdown to HTML for the live preview: CommonMark's common constructs with the extensions the
// site enables (tables with alignment classes, footnotes, strikethrough, task lists, bare-URL
// links, heading ids made like the site's). An approximation of the site's renderer, with one
// deliberate difference: raw HTML is shown as text instead of being sanitized, so nothing typed
// into the editor can run or restyle the editor.

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

/** Only web, mail and relative links survive. @param {string} url */
function safeUrl(url) {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u) || !/^[a-z][a-z0-9+.-]*:/i.test(u)) return escapeHtml(u);
  return '';
}

/**
 * @typedef {object} Ctx
 * @property {string[]} ids  Heading ids used so far.
 * @property {Map<string, number>} notes  Footnote labels in order of first reference.
 * @property {Map<string, string>} defs  Footnote definitions (rendered).
 */

/**
 * Renders `src` to HTML.
 * @param {string} src
 */
export function render(src) {
  /** @type {Ctx} */
  const ctx = { ids: [], notes: new Map(), defs: new Map() };
  const lines = src.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n');
  let html = blocks(lines, ctx);
  if (ctx.defs.size) {
    html += '<section class="footnotes">';
    for (const [label, body] of ctx.defs) {
      html += `<div class="footnote-definition" id="${escapeHtml(label)}"><sup class="footnote-definition-label">${ctx.notes.get(label) ?? '?'}</sup>${body}</div>`;
    }
    html += '</section>';
  }
  return html;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HR = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const ATX = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const BULLET = /^( {0,3})([-*+])(\s+|$)(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})([.)])(\s+|$)(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const FOOTDEF = /^\[\^([^\]]+)\]:\s?(.*)$/;

/**
 * @param {string[]} lines
 * @param {Ctx} ctx
 * @returns {string}
 */
function blocks(lines, ctx) {
  let out = '';
  let i = 0;
  /** @type {string[]} */
  let para = [];
  const flush = () => {
    if (para.length) out += `<p>${inline(para.join('\n').trim(), ctx)}</p>\n`;
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { flush(); i++; continue; }
    if ((m = FENCE.exec(line))) {
      flush();
      const fence = m[1];
      const lang = m[2];
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) code.push(lines[i++]);
      i++;
      const cls = lang && /^[\w+#.-]{1,40}$/.test(lang) ? ` class="language-${escapeHtml(lang)}"` : '';
      out += `<pre><code${cls}>${escapeHtml(code.join('\n'))}${code.length ? '\n' : ''}</code></pre>\n`;
      continue;
    }
    if (!para.length && /^ {4}/.test(line)) {
      const code = [];
      while (i < lines.length && (/^ {4}/.test(lines[i]) || !lines[i].trim())) code.push(lines[i++].slice(4));
      while (code.length && !code[code.length - 1].trim()) code.pop();
      out += `<pre><code>${escapeHtml(code.join('\n'))}\n</code></pre>\n`;
      continue;
    }
    if (HR.test(line) && !(para.length && /^ {0,3}-+\s*$/.test(line))) { flush(); out += '<hr />\n'; i++; continue; }
    if (para.length && /^ {0,3}(=+|-+)\s*$/.test(line)) {
      const level = line.trim()[0] === '=' ? 1 : 2;
      const text = para.join('\n').trim();
      para = [];
      out += heading(level, text, ctx);
      i++;
      continue;
    }
    if ((m = ATX.exec(line))) { flush(); out += heading(m[1].length, m[2] ?? '', ctx); i++; continue; }
    if (/^ {0,3}>/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && lines[i].trim() && (/^ {0,3}>/.test(lines[i]) || quoted.length)) {
        if (!/^ {0,3}>/.test(lines[i]) && (BULLET.test(lines[i]) || FENCE.test(lines[i]))) break;
        quoted.push(lines[i++].replace(/^ {0,3}> ?/, ''));
      }
      out += `<blockquote>\n${blocks(quoted, ctx)}</blockquote>\n`;
      continue;
    }
    if ((m = FOOTDEF.exec(line))) {
      flush();
      const body = [m[2]];
      i++;
      while (i < lines.length && (/^ {4}/.test(lines[i]) || (lines[i].trim() && !FOOTDEF.test(lines[i]) && body[body.length - 1].trim()))) {
        body.push(lines[i++].replace(/^ {4}/, ''));
      }
      ctx.defs.set(m[1], blocks(body, ctx));
      continue;
    }
    if (BULLET.test(line) || (ORDERED.test(line) && (!para.length || /^ {0,3}1[.)]/.test(line)))) {
      flush();
      const r = list(lines, i, ctx);
      out += r.html;
      i = r.next;
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      flush();
      const r = table(lines, i, ctx);
      out += r.html;
      i = r.next;
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return out;
}

/**
 * @param {number} level
 * @param {string} text
 * @param {Ctx} ctx
 */
function heading(level, text, ctx) {
  const plain = text.replace(/[*_`~]/g, '');
  const base = slugify(plain) || 'section';
  let id = base;
  for (let n = 1; ctx.ids.includes(id); n++) id = `${base}-${n}`;
  ctx.ids.push(id);
  return `<h${level} id="${escapeHtml(id)}">${inline(text, ctx)}</h${level}>\n`;
}

/**
 * @param {string[]} lines
 * @param {number} start
 * @param {Ctx} ctx
 */
function list(lines, start, ctx) {
  const first = BULLET.exec(lines[start]) ?? ORDERED.exec(lines[start]);
  const ordered = !BULLET.test(lines[start]);
  const marker = ordered ? (first?.[3] ?? '.') : (first?.[2] ?? '-');
  const startNo = ordered ? Number(first?.[2] ?? 1) : 1;
  /** @type {string[][]} */
  const items = [];
  let loose = false;
  let i = start;
  let indent = 2;
  while (i < lines.length) {
    const line = lines[i];
    const nested = items.length > 0 && line.startsWith(' '.repeat(indent));
    const m = nested ? null : ordered ? ORDERED.exec(line) : BULLET.exec(line);
    const same = m && (ordered ? m[3] === marker : m[2] === marker);
    if (same && m) {
      const content = ordered ? m[5] : m[4];
      const spaces = ordered ? m[4] : m[3];
      indent = m[1].length + (ordered ? m[2].length + 1 : 1) + Math.min(Math.max(spaces.length, 1), 4);
      items.push([content]);
      i++;
      continue;
    }
    if (!line.trim()) {
      const nextLine = lines[i + 1] ?? '';
      if (nextLine.startsWith(' '.repeat(indent)) || (ordered ? ORDERED.test(nextLine) : BULLET.test(nextLine))) {
        loose = loose || Boolean(nextLine.trim());
        items[items.length - 1].push('');
        i++;
        continue;
      }
      break;
    }
    if (line.startsWith(' '.repeat(indent)) || (!HR.test(line) && !BULLET.test(line) && !ORDERED.test(line) && !ATX.test(line) && items[items.length - 1][items[items.length - 1].length - 1] !== '')) {
      items[items.length - 1].push(line.startsWith(' '.repeat(indent)) ? line.slice(indent) : line.trimStart());
      i++;
      continue;
    }
    break;
  }
  const tag = ordered ? 'ol' : 'ul';
  const startAttr = ordered && startNo !== 1 ? ` start="${startNo}"` : '';
  let html = `<${tag}${startAttr}>\n`;
  for (const item of items) {
    while (item.length && !item[item.length - 1].trim()) item.pop();
    let task = '';
    const t = /^\[([ xX])\]\s+/.exec(item[0] ?? '');
    if (t) {
      task = `<input disabled="" type="checkbox"${t[1] === ' ' ? '' : ' checked=""'} />\n`;
      item[0] = item[0].slice(t[0].length);
    }
    let body = blocks(item, ctx);
    if (!loose) body = body.replace(/^<p>([\s\S]*?)<\/p>\n/, '$1').replace(/<p>([\s\S]*?)<\/p>\n$/, '$1');
    html += `<li>${task}${body.replace(/\n$/, '')}</li>\n`;
  }
  return { html: `${html}</${tag}>\n`, next: i };
}

/** @param {string} row */
function cells(row) {
  let r = row.trim();
  if (r.startsWith('|')) r = r.slice(1);
  if (r.endsWith('|') && !r.endsWith('\\|')) r = r.slice(0, -1);
  return r.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/**
 * @param {string[]} lines
 * @param {number} start
 * @param {Ctx} ctx
 */
function table(lines, start, ctx) {
  const head = cells(lines[start]);
  const aligns = cells(lines[start + 1]).map((c) => {
    const l = c.startsWith(':');
    const r = c.endsWith(':');
    return l && r ? ' class="align-center"' : l ? ' class="align-left"' : r ? ' class="align-right"' : '';
  });
  let html = '<table><thead><tr>';
  head.forEach((c, n) => { html += `<th${aligns[n] ?? ''}>${inline(c, ctx)}</th>`; });
  html += '</tr></thead><tbody>\n';
  let i = start + 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes('|')) {
    const row = cells(lines[i]);
    html += '<tr>';
    head.forEach((_, n) => { html += `<td${aligns[n] ?? ''}>${inline(row[n] ?? '', ctx)}</td>`; });
    html += '</tr>\n';
    i++;
  }
  return { html: `${html}</tbody></table>\n`, next: i };
}

/**
 * Inline Markdown: code spans first (their content is literal), then escapes, links, images,
 * autolinks, emphasis, strikethrough and breaks on the escaped text.
 * @param {string} text
 * @param {Ctx} ctx
 * @returns {string}
 */
export function inline(text, ctx) {
  /** @type {string[]} */
  const held = [];
  const hold = (/** @type {string} */ html) => `\u0000${held.push(html) - 1}\u0000`;
  let s = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code) => {
    const c = code.replace(/\n/g, ' ');
    const trimmed = /^ .* $/.test(c) && c.trim() ? c.slice(1, -1) : c;
    return hold(`<code>${escapeHtml(trimmed)}</code>`);
  });
  s = s.replace(/\\([\\`*_{}[\]()#+\-.!|~<>"'])/g, (_, c) => hold(escapeHtml(c)));
  s = s.replace(/<((?:https?|mailto):[^\s<>]+)>/gi, (_, url) => hold(`<a href="${safeUrl(url)}">${escapeHtml(url)}</a>`));
  s = s.replace(/!\[([^\]]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+"([^"]*)")?\s*\)/g, (_, alt, url, title) => {
    const src = safeUrl(url);
    return hold(src ? `<img src="${src}" alt="${escapeHtml(alt)}"${title ? ` title="${escapeHtml(title)}"` : ''} />` : escapeHtml(alt));
  });
  s = s.replace(/\[\^([^\]]+)\]/g, (whole, label) => {
    if (!ctx.notes.has(label)) ctx.notes.set(label, ctx.notes.size + 1);
    return hold(`<sup class="footnote-reference"><a href="#${escapeHtml(label)}">${ctx.notes.get(label)}</a></sup>`);
  });
  s = s.replace(/\[((?:[^\][]|\[[^\]]*\])*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+"([^"]*)")?\s*\)/g, (_, label, url, title) => {
    const href = safeUrl(url);
    const inner = inline(label, ctx);
    return hold(href ? `<a href="${href}"${title ? ` title="${escapeHtml(title)}"` : ''}>${inner}</a>` : inner);
  });
  s = s.replace(/\bhttps?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*_~]/g, (url) => hold(`<a href="${safeUrl(url)}">${escapeHtml(url)}</a>`));
  s = escapeHtml(s);
  s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '<strong>$2</strong>');
  s = s.replace(/(?<![\w*])\*(?=\S)([\s\S]*?\S)\*(?!\*)/g, '<em>$1</em>');
  s = s.replace(/(?<![\w_])_(?=\S)([\s\S]*?\S)_(?![\w_])/g, '<em>$1</em>');
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
  s = s.replace(/(?: {2,}|\\)\n/g, '<br />\n');
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000(\d+)\u0000/g, (_, n) => held[Number(n)]);
}
