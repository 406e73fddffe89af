// Resolving a merge conflict hunk by hunk, on top of the server's merge. A 409 merge conflict
// carries `keep_mine`: the author's change as "keep my changes" makes it — their side of every
// conflict, and both sides' other changes (tags merged as a set, the body merged line by line,
// with the author's lines in each overlapping hunk, where a body conflict's `line` points). The
// author picks, per conflict, mine, theirs or an edited text; the result is sent as a change to
// the server's current version, so nothing of the other side outside the conflicts is lost.
// Whatever side of a conflict loses is named in `lost`, to be kept as a conflict copy.

/** @typedef {import('./types.js').MergeConflict} MergeConflict */
/** @typedef {{pick: 'mine' | 'theirs' | 'edit', text?: string}} Choice */
/** @typedef {Record<string, unknown>} Patch */

/**
 * A text as lines, each with its newline (the last one may have none).
 * @param {string} text
 * @returns {string[]}
 */
export function lines(text) {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * The body of `keepMine` with each body conflict replaced by what `hunk` makes of it, from the
 * last hunk to the first so that earlier line numbers stay right.
 * @param {string} body
 * @param {{c: MergeConflict, i: number}[]} hunks
 * @param {(c: MergeConflict, i: number) => string | null} hunk  The text for the hunk, or null to keep mine.
 */
function replaceHunks(body, hunks, hunk) {
  const out = lines(body);
  for (const { c, i } of [...hunks].sort((a, b) => (b.c.line ?? 1) - (a.c.line ?? 1))) {
    const text = hunk(c, i);
    if (text === null) continue;
    out.splice((c.line ?? 1) - 1, lines(c.mine ?? '').length, ...lines(text));
  }
  return out.join('');
}

/**
 * The body conflicts of a conflict list, with their index.
 * @param {MergeConflict[]} conflicts
 */
function bodyHunks(conflicts) {
  return conflicts.map((c, i) => ({ c, i })).filter(({ c }) => c.field === 'body');
}

/**
 * The change to send for the author's choices, and the losing side (null if none lost).
 * @param {Patch} keepMine  `keep_mine` of the 409.
 * @param {MergeConflict[]} conflicts
 * @param {Choice[]} choices  One per conflict (missing: mine).
 * @returns {{patch: Patch, lost: Patch | null}}
 */
export function resolution(keepMine, conflicts, choices) {
  /** @type {Patch} */
  const patch = { ...keepMine };
  /** @type {Patch} */
  const lost = {};
  const pick = (/** @type {number} */ i) => choices[i] ?? { pick: 'mine' };
  conflicts.forEach((c, i) => {
    const choice = pick(i);
    if (c.field === 'body' || choice.pick === 'mine') return;
    lost[c.field] = keepMine[c.field];
    if (choice.pick === 'theirs') delete patch[c.field];
    else patch[c.field] = choice.text ?? '';
  });
  const hunks = bodyHunks(conflicts);
  if (typeof keepMine.body === 'string' && hunks.some(({ i }) => pick(i).pick !== 'mine')) {
    lost.body = keepMine.body;
    patch.body = replaceHunks(keepMine.body, hunks, (c, i) => {
      const choice = pick(i);
      if (choice.pick === 'mine') return null;
      if (choice.pick === 'theirs') return c.theirs ?? '';
      const text = choice.text ?? '';
      return text && !text.endsWith('\n') && (c.mine ?? '').endsWith('\n') ? `${text}\n` : text;
    });
  }
  return { patch, lost: Object.keys(lost).length ? lost : null };
}

/**
 * What of the author's side of the overlaps a hand-merged `patch` leaves out (null: nothing).
 * @param {Patch} keepMine
 * @param {MergeConflict[]} conflicts
 * @param {Patch} patch
 * @returns {Patch | null}
 */
export function lostSide(keepMine, conflicts, patch) {
  /** @type {Patch} */
  const lost = {};
  for (const c of conflicts) {
    if (JSON.stringify(patch[c.field]) !== JSON.stringify(keepMine[c.field])) lost[c.field] = keepMine[c.field];
  }
  return Object.keys(lost).length ? lost : null;
}

/**
 * The merged body with both sides of each overlapping hunk marked, for merging by hand.
 * @param {string} body  `keep_mine.body`.
 * @param {MergeConflict[]} conflicts
 */
export function markedBody(body, conflicts) {
  const nl = (/** @type {string | null} */ t) => (t && !t.endsWith('\n') ? `${t}\n` : t ?? '');
  return replaceHunks(body, bodyHunks(conflicts), (c) =>
    `<<<<<<< yours\n${nl(c.mine)}=======\n${nl(c.theirs)}>>>>>>> server\n`);
}
