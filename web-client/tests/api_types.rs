//! The editor's hand-written API shapes (`assets/js/types.js`, checked by `tsc --checkJs`) match
//! the OpenAPI document: every property a schema has is declared in the JSDoc typedef and none
//! more, so a new field (like a 403's `missing`) cannot be forgotten by the editor.

use std::collections::BTreeSet;
use std::path::Path;

/// The `@property` names of `@typedef {object} name` in `types.js`.
fn typedef_properties(source: &str, name: &str) -> BTreeSet<String> {
    let start = format!("@typedef {{object}} {name} ");
    let mut lines = source.lines().skip_while(|line| !line.contains(&start)).skip(1);
    let mut names = BTreeSet::new();
    for line in lines.by_ref() {
        let Some(rest) = line.trim_start().strip_prefix("* @property ") else {
            break;
        };
        let after_type = rest.rsplit_once('}').map_or(rest, |(_, after)| after).trim();
        let property = after_type.split_whitespace().next().unwrap_or_default();
        names.insert(property.trim_matches(['[', ']']).to_owned());
    }
    assert!(!names.is_empty(), "types.js has no typedef {name}");
    names
}

fn schema_properties(doc: &serde_json::Value, name: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("openapi.json has no schema {name}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn editor_types_match_the_openapi_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("assets/js/types.js")).expect("types.js");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("../openapi/openapi.json")).expect("openapi.json"))
            .expect("openapi.json is JSON");
    for (typedef, schema) in [
        ("Post", "PostResponse"),
        ("Problem", "Problem"),
        ("Tokens", "TokenResponse"),
        ("TokenInfo", "TokenInfo"),
        ("StatusResponse", "StatusResponse"),
        ("ProjectionState", "ProjectionState"),
        ("GitStatus", "GitStatus"),
        ("MirrorStatus", "MirrorStatus"),
        ("PullStatus", "PullStatus"),
    ] {
        assert_eq!(
            typedef_properties(&source, typedef),
            schema_properties(&doc, schema),
            "types.js typedef {typedef} differs from the OpenAPI schema {schema}"
        );
    }
}

/// Every problem `type` the editor matches on (`problem.type.endsWith(':code')`) is one the API
/// answers with: the `type` enum of the `Problem` schema, made from the server's catalog.
#[test]
fn problem_types_the_editor_matches_are_in_the_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("../openapi/openapi.json")).expect("openapi.json"))
            .expect("openapi.json is JSON");
    let catalog: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
        .as_array()
        .expect("Problem.type is an enum")
        .iter()
        .filter_map(|t| t.as_str()?.rsplit(':').next().map(str::to_owned))
        .collect();
    let mut matched = 0;
    for entry in std::fs::read_dir(root.join("assets/js"))
        .expect("js folder")
        .chain(std::fs::read_dir(root.join("assets/js/ui")).expect("ui folder"))
    {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("js source");
        const NEEDLE: &str = "type.endsWith(':";
        for (at, _) in source.match_indices(NEEDLE) {
            let code = source[at + NEEDLE.len()..].split('\'').next().unwrap_or_default();
            assert!(
                catalog.contains(code),
                "{}: the API has no problem type {code:?}",
                path.display()
            );
            matched += 1;
        }
    }
    assert!(matched >= 2, "the editor matches problem types (found {matched})");
}
