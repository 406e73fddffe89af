//! The committed `openapi/openapi.json` is the document the code generates, byte for byte.
//! After changing the API, regenerate it with `UPDATE_OPENAPI=1 cargo test -p quire-openapi`.

#[test]
fn committed_spec_matches_the_code() {
    let generated = quire_openapi::document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(&path).expect("openapi/openapi.json exists");
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p quire-openapi` and commit it"
    );
}

#[test]
fn spec_is_openapi_3_1_with_bearer_security() {
    let doc: serde_json::Value = serde_json::from_str(&quire_openapi::document()).expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let create = &doc["paths"]["/api/v1/posts"]["post"];
    for code in ["201", "400", "401", "409", "413", "415", "422"] {
        assert!(create["responses"][code].is_object(), "POST /posts documents {code}");
    }
}
