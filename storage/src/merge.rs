//! Three-way merge of a post change with what happened to the post since the change's base.
//!
//! Two devices edit offline; each change knows the version it was made from (its base), and
//! the log has every version. A change (mine) is merged with the current post (theirs) field by
//! field: a field only one side changed takes that side's value, a field both changed the same
//! way is fine, and a field both changed differently is a conflict — except `tags`, merged as a
//! set (my additions and removals applied to theirs), and `body`, merged line by line with
//! diff3 (the `diffy` crate), so only overlapping hunks conflict. The merge is pure: it reads
//! no store and checks no rights; [`crate::Posts::update_from_base`] does that around it.

use std::borrow::Cow;

use diffy::{ConflictStyle, IncompleteHunkStyle, MergeOptions};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::post::{normalize_tags, normalize_title, validate_slug, Post};
use crate::posts::PostPatch;
use crate::Result;

/// Length of diffy's conflict markers: far longer than a line anyone types, so a line of a
/// body is never taken for a marker (a body that has one anyway conflicts as a whole).
const MARKER_LEN: usize = 60;

/// One overlapping change: a field (or, for `body`, one hunk of lines) as it was at the base,
/// as the caller changed it (mine) and as it is now (theirs). `None` is an unset value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `title`, `slug`, `status`, `publish_at` or `body`.
    pub field: &'static str,
    pub base: Option<String>,
    pub mine: Option<String>,
    pub theirs: Option<String>,
    /// For a body hunk: the line (from 1) where it starts in the merged body, counting the
    /// caller's lines for the conflicting hunks before it.
    pub line: Option<usize>,
}

/// What a merge decided.
#[derive(Debug, Clone)]
pub enum Merge {
    /// No change overlaps: this patch, applied to theirs, holds both sides' changes.
    Clean(PostPatch),
    /// Every overlapping change, in field order (body hunks in line order).
    Conflicts(Vec<Conflict>),
}

/// Merges `mine` (the fields the caller changed, made from `base`) with `theirs` (the post now).
///
/// Fails only when `mine` itself is invalid (a bad title, slug or tag), as a plain update would.
pub fn three_way(base: &Post, theirs: &Post, mine: PostPatch) -> Result<Merge> {
    let title = mine.title.as_deref().map(normalize_title).transpose()?;
    if let Some(slug) = &mine.slug {
        validate_slug(slug)?;
    }
    let tags = mine.tags.as_deref().map(normalize_tags).transpose()?;
    let mut conflicts = Vec::new();
    let c = &mut conflicts;
    let merged = PostPatch {
        title: scalar("title", &base.title, &theirs.title, title, c, |t| Some(t.clone())),
        slug: scalar("slug", &base.slug, &theirs.slug, mine.slug, c, |s| Some(s.clone())),
        tags: tags.map(|mine| merge_tags(&base.tags, &theirs.tags, mine)),
        status: scalar("status", &base.status, &theirs.status, mine.status, c, |s| {
            Some(s.as_str().to_owned())
        }),
        publish_at: scalar(
            "publish_at",
            &base.publish_at,
            &theirs.publish_at,
            mine.publish_at.map(Some),
            c,
            |at| at.and_then(rfc3339),
        )
        .flatten(),
        body: merge_body(&base.body, &theirs.body, mine.body, c),
        // Extra properties are replaced as a whole (Micropub updates send them so).
        properties: mine.properties,
    };
    Ok(if conflicts.is_empty() {
        Merge::Clean(merged)
    } else {
        Merge::Conflicts(conflicts)
    })
}

/// The change that keeps my side of every conflict and both sides' other changes: what "keep
/// my changes" sends when made from theirs. Tags merge as a set as always; a body conflict's
/// `line` points into this change's body.
pub fn keeping_mine(base: &Post, theirs: &Post, mine: &PostPatch) -> Result<PostPatch> {
    let title = mine.title.as_deref().map(normalize_title).transpose()?;
    let tags = mine.tags.as_deref().map(normalize_tags).transpose()?;
    Ok(PostPatch {
        title: title.filter(|t| *t != base.title),
        slug: mine.slug.clone().filter(|s| *s != base.slug),
        tags: tags.map(|mine| merge_tags(&base.tags, &theirs.tags, mine)),
        status: mine.status.filter(|s| *s != base.status),
        publish_at: mine.publish_at.filter(|at| Some(*at) != base.publish_at),
        body: body_keeping_mine(&base.body, &theirs.body, mine.body.as_deref()),
        properties: mine.properties.clone(),
    })
}

fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&Rfc3339).ok()
}

/// A field merged as one value: mine if only I changed it (or both alike), theirs if only they
/// did (`None`: leave it), a conflict if both changed it differently.
fn scalar<T: PartialEq>(
    field: &'static str,
    base: &T,
    theirs: &T,
    mine: Option<T>,
    conflicts: &mut Vec<Conflict>,
    show: impl Fn(&T) -> Option<String>,
) -> Option<T> {
    let mine = mine.filter(|m| m != base)?;
    if theirs == base || *theirs == mine {
        return Some(mine);
    }
    conflicts.push(Conflict {
        field,
        base: show(base),
        mine: show(&mine),
        theirs: show(theirs),
        line: None,
    });
    None
}

/// Tags as a set: the tags I added and removed since the base, applied to theirs (in their
/// order, my additions at the end). Never a conflict.
fn merge_tags(base: &[String], theirs: &[String], mine: Vec<String>) -> Vec<String> {
    if theirs == base {
        return mine;
    }
    let removed = |t: &String| base.contains(t) && !mine.contains(t);
    let mut out: Vec<String> = theirs.iter().filter(|t| !removed(t)).cloned().collect();
    for tag in mine.iter().filter(|t| !base.contains(t)) {
        if !out.contains(tag) {
            out.push(tag.clone());
        }
    }
    out
}

/// The body merged line by line; overlapping hunks become conflicts.
fn merge_body(base: &str, theirs: &str, mine: Option<String>, conflicts: &mut Vec<Conflict>) -> Option<String> {
    let mine = mine.filter(|m| m != base)?;
    if theirs == base || theirs == mine {
        return Some(mine);
    }
    match diff3(base, &mine, theirs) {
        Ok(merged) => Some(merged),
        Err(hunks) => {
            conflicts.extend(hunks);
            None
        }
    }
}

/// Whether a text's last line is complete (an empty text counts as complete).
fn ends_line(text: &str) -> bool {
    text.is_empty() || text.ends_with('\n')
}

/// The text with its last line completed, so diffy never has to mark a half line.
fn complete(text: &str) -> Cow<'_, str> {
    if ends_line(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{text}\n"))
    }
}

/// diff3 of three texts: the merged text, or the conflicting hunks.
fn diff3(base: &str, mine: &str, theirs: &str) -> Result<String, Vec<Conflict>> {
    let markers = Markers::new();
    if [base, mine, theirs].iter().any(|t| markers.occur_in(t)) {
        return Err(vec![Conflict {
            field: "body",
            base: Some(base.to_owned()),
            mine: Some(mine.to_owned()),
            theirs: Some(theirs.to_owned()),
            line: Some(1),
        }]);
    }
    merge_marked(base, mine, theirs).map_err(|marked| markers.hunks(&marked))
}

/// What "keep my changes" makes of the body: mine merged with theirs as far as they merge, and
/// my lines in each overlapping hunk (a body conflict's `line` points into this text). `None`
/// when `mine` leaves the body as it was at the base.
fn body_keeping_mine(base: &str, theirs: &str, mine: Option<&str>) -> Option<String> {
    let mine = mine.filter(|m| *m != base)?;
    if theirs == base || theirs == mine {
        return Some(mine.to_owned());
    }
    let markers = Markers::new();
    if [base, mine, theirs].iter().any(|t| markers.occur_in(t)) {
        // The whole body is one conflict (see `diff3`): mine as a whole.
        return Some(mine.to_owned());
    }
    Some(match merge_marked(base, mine, theirs) {
        Ok(merged) => merged,
        Err(marked) => last_newline(base, mine, theirs, markers.keep_mine(&marked)),
    })
}

/// diffy's merge of three texts, its last line's newline merged like a field; `Err`: the
/// text with diff3 conflict markers.
fn merge_marked(base: &str, mine: &str, theirs: &str) -> Result<String, String> {
    let mut options = MergeOptions::new();
    options
        .set_conflict_marker_length(MARKER_LEN)
        .set_conflict_style(ConflictStyle::Diff3)
        .set_incomplete_hunk_style(IncompleteHunkStyle::Git);
    let merged = options.merge(&complete(base), &complete(mine), &complete(theirs))?;
    Ok(last_newline(base, mine, theirs, merged))
}

/// The last line's newline merges like a field: mine if I changed it, else theirs.
fn last_newline(base: &str, mine: &str, theirs: &str, mut merged: String) -> String {
    let newline = if ends_line(mine) != ends_line(base) {
        ends_line(mine)
    } else {
        ends_line(theirs)
    };
    if !newline && merged.ends_with('\n') {
        merged.pop();
    }
    merged
}

/// diffy's conflict marker lines (diff3 style, "ours" = mine).
struct Markers {
    open: String,
    base: String,
    theirs: String,
    close: String,
}

/// Where the parser of a marked text is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Merged,
    Mine,
    Base,
    Theirs,
}

impl Markers {
    fn new() -> Self {
        let line = |c: &str, label: &str| format!("{}{label}\n", c.repeat(MARKER_LEN));
        Self {
            open: line("<", " ours"),
            base: line("|", " original"),
            theirs: line("=", ""),
            close: line(">", " theirs"),
        }
    }

    /// Whether a line of `text` reads like a marker (then the hunks could not be told apart).
    fn occur_in(&self, text: &str) -> bool {
        let markers = [&self.open, &self.base, &self.theirs, &self.close];
        text.lines().any(|line| markers.iter().any(|m| m.trim_end() == line))
    }

    /// A text diffy marked with my side of each conflicting hunk kept, theirs and the base's
    /// left out.
    fn keep_mine(&self, marked: &str) -> String {
        let mut part = Part::Merged;
        let mut out = String::with_capacity(marked.len());
        for text in marked.split_inclusive('\n') {
            match part {
                _ if text == self.open => part = Part::Mine,
                Part::Mine if text == self.base => part = Part::Base,
                Part::Base if text == self.theirs => part = Part::Theirs,
                Part::Theirs if text == self.close => part = Part::Merged,
                Part::Merged | Part::Mine => out.push_str(text),
                Part::Base | Part::Theirs => {}
            }
        }
        out
    }

    /// The conflicting hunks of a text diffy marked.
    fn hunks(&self, marked: &str) -> Vec<Conflict> {
        let mut hunks = Vec::new();
        let (mut part, mut line, mut start) = (Part::Merged, 1, 1);
        let (mut base, mut mine, mut theirs) = (String::new(), String::new(), String::new());
        for text in marked.split_inclusive('\n') {
            match part {
                _ if text == self.open => (part, start) = (Part::Mine, line),
                Part::Mine if text == self.base => part = Part::Base,
                Part::Base if text == self.theirs => part = Part::Theirs,
                Part::Theirs if text == self.close => {
                    part = Part::Merged;
                    hunks.push(Conflict {
                        field: "body",
                        base: Some(std::mem::take(&mut base)),
                        mine: Some(std::mem::take(&mut mine)),
                        theirs: Some(std::mem::take(&mut theirs)),
                        line: Some(start),
                    });
                }
                Part::Merged => line += 1,
                Part::Mine => {
                    mine.push_str(text);
                    line += 1;
                }
                Part::Base => base.push_str(text),
                Part::Theirs => theirs.push_str(text),
            }
        }
        hunks
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
