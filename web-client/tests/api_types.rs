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
    ] {
        assert_eq!(
            typedef_properties(&source, typedef),
            schema_properties(&doc, schema),
            "types.js typedef {typedef} differs from the OpenAPI schema {schema}"
        );
    }
}
