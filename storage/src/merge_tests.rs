//! The merge rules, one rule a test: fields, tags as sets, body hunks by diff3.

use time::macros::datetime;
use ulid::Ulid;

use super::*;
use crate::post::Status;

fn post(title: &str, body: &str, tags: &[&str]) -> Post {
    Post {
        id: Ulid::nil(),
        slug: "a-post".into(),
        title: title.into(),
        body: body.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        status: Status::Draft,
        publish_at: None,
        created_at: datetime!(2026-12-01 10:00 UTC),
        updated_at: datetime!(2026-12-01 10:00 UTC),
        version: 1,
        author: "ada".into(),
        deleted_at: None,
        properties: Default::default(),
    }
}

fn clean(merge: Merge) -> PostPatch {
    match merge {
        Merge::Clean(patch) => patch,
        Merge::Conflicts(c) => panic!("expected a clean merge, got {c:?}"),
    }
}

fn conflicts(merge: Merge) -> Vec<Conflict> {
    match merge {
        Merge::Clean(patch) => panic!("expected conflicts, got {patch:?}"),
        Merge::Conflicts(c) => c,
    }
}

const BODY: &str = "Intro line.\n\nFirst paragraph.\n\nMiddle paragraph.\n\nLast paragraph.\n";

#[test]
fn a_title_changed_here_and_a_body_changed_there_both_stay() {
    let base = post("Title", BODY, &[]);
    let mut theirs = post("Title", &BODY.replace("Last", "Final"), &[]);
    theirs.version = 2;
    let mine = PostPatch {
        title: Some("New title".into()),
        body: Some(BODY.into()),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(patch.title.as_deref(), Some("New title"));
    assert_eq!(patch.body, None, "my body is the base's: theirs stays");
}

#[test]
fn a_field_only_they_changed_is_left_to_them() {
    let base = post("Title", BODY, &[]);
    let theirs = post("Their title", BODY, &[]);
    let mine = PostPatch {
        title: Some("Title".into()),
        ..PostPatch::default()
    };
    assert_eq!(clean(three_way(&base, &theirs, mine).expect("valid")).title, None);
}

#[test]
fn the_same_field_changed_alike_on_both_sides_is_no_conflict() {
    let base = post("Title", BODY, &[]);
    let theirs = post("Same", BODY, &[]);
    let mine = PostPatch {
        title: Some("  Same ".into()),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(patch.title.as_deref(), Some("Same"));
}

#[test]
fn the_same_field_changed_differently_is_a_conflict_with_all_three_values() {
    let base = post("Title", BODY, &[]);
    let theirs = post("Theirs", BODY, &[]);
    let mine = PostPatch {
        title: Some("Mine".into()),
        slug: Some("a-post".into()),
        ..PostPatch::default()
    };
    let found = conflicts(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(
        found,
        vec![Conflict {
            field: "title",
            base: Some("Title".into()),
            mine: Some("Mine".into()),
            theirs: Some("Theirs".into()),
            line: None,
        }]
    );
}

#[test]
fn status_and_publish_at_conflict_as_values() {
    let base = post("Title", BODY, &[]);
    let mut theirs = post("Title", BODY, &[]);
    theirs.status = Status::Published;
    theirs.publish_at = Some(datetime!(2026-12-02 08:00 UTC));
    let mine = PostPatch {
        status: Some(Status::Scheduled),
        publish_at: Some(datetime!(2027-01-01 09:00 UTC)),
        ..PostPatch::default()
    };
    let found = conflicts(three_way(&base, &theirs, mine).expect("valid"));
    let fields: Vec<_> = found
        .iter()
        .map(|c| (c.field, c.mine.as_deref(), c.theirs.as_deref()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("status", Some("scheduled"), Some("published")),
            ("publish_at", Some("2027-01-01T09:00:00Z"), Some("2026-12-02T08:00:00Z")),
        ]
    );
    assert_eq!(found[1].base, None, "the draft had no publish_at");
}

#[test]
fn tags_merge_as_sets_one_added_here_one_removed_there() {
    let base = post("Title", BODY, &["rust", "web"]);
    let theirs = post("Title", BODY, &["rust"]);
    let mine = PostPatch {
        tags: Some(vec!["rust".into(), "web".into(), "sled".into()]),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(patch.tags, Some(vec!["rust".to_owned(), "sled".to_owned()]));
}

#[test]
fn tags_removed_here_and_added_there_both_apply() {
    let base = post("Title", BODY, &["rust", "web"]);
    let theirs = post("Title", BODY, &["web", "rust", "pi"]);
    let mine = PostPatch {
        tags: Some(vec!["rust".into()]),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(patch.tags, Some(vec!["rust".to_owned(), "pi".to_owned()]));
}

#[test]
fn body_changes_in_different_paragraphs_merge() {
    let base = post("Title", BODY, &[]);
    let theirs = post(
        "Title",
        &BODY.replace("Last paragraph.", "Last paragraph, edited there."),
        &[],
    );
    let mine = PostPatch {
        body: Some(BODY.replace("First paragraph.", "First paragraph, edited here.")),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(
        patch.body.as_deref(),
        Some("Intro line.\n\nFirst paragraph, edited here.\n\nMiddle paragraph.\n\nLast paragraph, edited there.\n")
    );
}

#[test]
fn the_same_line_changed_on_both_sides_is_one_conflicting_hunk_with_its_line() {
    let base = post("Title", BODY, &[]);
    let theirs = post(
        "Title",
        &BODY
            .replace("Middle paragraph.", "Middle, theirs.")
            .replace("Intro", "Opening"),
        &[],
    );
    let mine = PostPatch {
        title: Some("Mine".into()),
        body: Some(BODY.replace("Middle paragraph.", "Middle, mine.")),
        ..PostPatch::default()
    };
    let found = conflicts(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(
        found,
        vec![Conflict {
            field: "body",
            base: Some("Middle paragraph.\n".into()),
            mine: Some("Middle, mine.\n".into()),
            theirs: Some("Middle, theirs.\n".into()),
            line: Some(5),
        }],
        "the title only I changed is no conflict"
    );
}

#[test]
fn a_body_without_a_final_newline_keeps_it_that_way() {
    let text = "one\ntwo\nthree";
    let base = post("Title", text, &[]);
    let theirs = post("Title", "one\ntwo\nTHREE", &[]);
    let mine = PostPatch {
        body: Some("ONE\ntwo\nthree".into()),
        ..PostPatch::default()
    };
    let patch = clean(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!(patch.body.as_deref(), Some("ONE\ntwo\nTHREE"));
}

#[test]
fn a_body_holding_conflict_markers_conflicts_as_a_whole() {
    let marker = format!("{}\n", "=".repeat(MARKER_LEN));
    let base = post("Title", &format!("a\n{marker}b\n"), &[]);
    let theirs = post("Title", &format!("A\n{marker}b\n"), &[]);
    let mine = PostPatch {
        body: Some(format!("a\n{marker}B\n")),
        ..PostPatch::default()
    };
    let found = conflicts(three_way(&base, &theirs, mine).expect("valid"));
    assert_eq!((found.len(), found[0].line), (1, Some(1)));
}

#[test]
fn invalid_input_of_mine_fails_like_a_plain_update() {
    let base = post("Title", BODY, &[]);
    let mine = PostPatch {
        // A blank title is a note now; an over-long one is still refused.
        title: Some("t".repeat(301)),
        ..PostPatch::default()
    };
    assert!(matches!(
        three_way(&base, &base, mine),
        Err(crate::Error::Invalid { field: "title", .. })
    ));
}

#[test]
fn keeping_my_changes_in_the_body_keeps_theirs_outside_the_overlap() {
    let mine = BODY.replace("Middle", "My middle").replace("Last", "My last");
    let theirs = BODY.replace("First", "Their first").replace("Middle", "Their middle");
    let kept = body_keeping_mine(BODY, &theirs, Some(&mine)).expect("I changed the body");
    assert_eq!(
        kept,
        "Intro line.\n\nTheir first paragraph.\n\nMy middle paragraph.\n\nMy last paragraph.\n"
    );
    assert_eq!(
        body_keeping_mine(BODY, &theirs, Some(BODY)),
        None,
        "my body is the base's"
    );
    assert_eq!(body_keeping_mine(BODY, &theirs, None), None);
}

#[test]
fn keeping_mine_takes_my_side_of_conflicts_and_merges_tags_as_a_set() {
    let base = post("Title", BODY, &["a", "b"]);
    let mut theirs = post("Their title", BODY, &["a", "b", "theirs"]);
    theirs.version = 2;
    let mine = PostPatch {
        title: Some("My title".into()),
        tags: Some(vec!["a".into(), "mine".into()]),
        ..PostPatch::default()
    };
    let kept = keeping_mine(&base, &theirs, &mine).expect("valid");
    assert_eq!(kept.title.as_deref(), Some("My title"));
    assert_eq!(kept.tags, Some(vec!["a".into(), "theirs".into(), "mine".into()]));
    assert_eq!(kept.body, None);
}
