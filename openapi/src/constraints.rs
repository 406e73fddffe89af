//! What the Rust types cannot say in the OpenAPI document: the exact string rules the domain
//! checks (so a client, or a fuzzer, knows which values are valid), the rule that a scheduled
//! post needs `publish_at`, and the links from a created resource to what can be done with it.

use serde_json::{json, Value};

/// A tag: 1–64 printable characters with at least one that is not a space.
const TAG: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// A cursor: a post id (ULID), or empty for the first page.
const ULID: &str = "^([0-7][0-9A-HJKMNP-TV-Z]{25})?$";
const SLUG: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
const USERNAME: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
/// Alt text: no control characters but line breaks (at most 1000 characters).
const ALT: &str = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$";

fn merge(target: &mut Value, patch: Value) {
    if let (Some(target), Value::Object(patch)) = (target.as_object_mut(), patch) {
        target.extend(patch);
    }
}

fn schema_props<'a>(doc: &'a mut Value, schema: &str) -> Option<&'a mut Value> {
    doc.pointer_mut(&format!("/components/schemas/{schema}/properties"))
}

fn post_fields(doc: &mut Value, schema: &str) {
    let Some(props) = schema_props(doc, schema) else { return };
    merge(
        &mut props["title"],
        json!({"minLength": 1, "maxLength": 300, "pattern": r"\S"}),
    );
    merge(&mut props["slug"], json!({"maxLength": 80, "pattern": SLUG}));
    merge(&mut props["tags"], json!({"maxItems": 32}));
    merge(
        &mut props["tags"]["items"],
        json!({"minLength": 1, "maxLength": 64, "pattern": TAG}),
    );
}

fn account_fields(doc: &mut Value, schema: &str, username: &str, password: &str) {
    let Some(props) = schema_props(doc, schema) else { return };
    if !username.is_empty() {
        merge(
            &mut props[username],
            json!({"pattern": USERNAME, "minLength": 1, "maxLength": 64}),
        );
    }
    merge(&mut props[password], json!({"minLength": 8, "maxLength": 1024}));
}

/// A dataset's name where one is made (`PUT`), and its title.
fn dataset_fields(doc: &mut Value) {
    if let Some(params) = doc
        .pointer_mut("/paths/~1api~1v1~1datasets~1{name}/put/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut().filter(|p| p["name"] == "name") {
            merge(&mut p["schema"], json!({"pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}));
        }
    }
    if let Some(props) = schema_props(doc, "PatchDatasetRequest") {
        merge(&mut props["title"], json!({"pattern": TAG}));
    }
}

fn limits(doc: &mut Value, path: &str, max: u64) {
    if let Some(params) = doc
        .pointer_mut(&format!("/paths/{path}/get/parameters"))
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut().filter(|p| p["name"] == "limit") {
            merge(&mut p["schema"], json!({"minimum": 1, "maximum": max}));
        }
    }
}

/// The alt text rules wherever alt text is sent: the PATCH body, the upload's query and form.
fn media_alt(doc: &mut Value) {
    let rule = json!({"maxLength": 1000, "pattern": ALT});
    for schema in ["PatchMediaRequest", "UploadForm"] {
        if let Some(props) = schema_props(doc, schema) {
            merge(&mut props["alt"], rule.clone());
        }
    }
    // The form's fields are `file` and `alt`; field names must be ASCII tokens to parse.
    if let Some(form) = doc.pointer_mut("/components/schemas/UploadForm") {
        merge(form, json!({"additionalProperties": false}));
    }
    if let Some(params) = doc
        .pointer_mut("/paths/~1api~1v1~1media/post/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut().filter(|p| p["name"] == "alt") {
            merge(&mut p["schema"], rule.clone());
        }
    }
}

/// The event types a webhook may subscribe to (`quire_storage::webhooks::EVENT_TYPES`) and `*`.
const WEBHOOK_EVENTS: [&str; 13] = [
    "*",
    "post.created",
    "post.updated",
    "post.published",
    "post.scheduled",
    "post.unpublished",
    "post.deleted",
    "post.restored",
    "post.conflict_copy",
    "media.uploaded",
    "media.updated",
    "media.deleted",
    "dataset.updated",
];

fn webhook_fields(doc: &mut Value, schema: &str) {
    let Some(props) = schema_props(doc, schema) else { return };
    merge(&mut props["url"], json!({"pattern": "^http://", "maxLength": 2048}));
    merge(&mut props["events"], json!({"minItems": 1}));
    merge(&mut props["events"]["items"], json!({"enum": WEBHOOK_EVENTS}));
    merge(&mut props["description"], json!({"maxLength": 500}));
}

fn header_rules(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            for p in params.iter_mut() {
                match p["name"].as_str() {
                    Some("Idempotency-Key") => merge(&mut p["schema"], json!({"pattern": "^[!-~]{1,255}$"})),
                    Some("If-Match") => merge(&mut p["schema"], json!({"minLength": 1, "pattern": r"\S"})),
                    // A header is never null: a version number from 1.
                    Some("Base-Version") => p["schema"] = json!({"type": "integer", "format": "int64", "minimum": 1}),
                    Some("cursor") => merge(&mut p["schema"], json!({"pattern": ULID})),
                    _ => {}
                }
            }
        }
    }
}

fn link(doc: &mut Value, path: &str, status: &str, links: Value) {
    if let Some(response) = doc.pointer_mut(&format!("/paths/{path}/post/responses/{status}")) {
        response["links"] = links;
    }
}

fn post_links(doc: &mut Value) {
    let id = json!({"id": "$response.body#/id"});
    let with_etag = json!({"id": "$response.body#/id", "header.If-Match": "$response.header.ETag"});
    link(
        doc,
        "~1api~1v1~1posts",
        "201",
        json!({
            "GetPost": {"operationId": "get_post", "parameters": id},
            "PatchPost": {"operationId": "patch_post", "parameters": with_etag},
            "DeletePost": {"operationId": "delete_post", "parameters": with_etag},
            "PostHistory": {"operationId": "post_history", "parameters": id},
            "PostVersion": {"operationId": "post_version", "parameters": {"id": "$response.body#/id", "n": "$response.body#/version"}},
        }),
    );
    link(
        doc,
        "~1api~1v1~1tokens",
        "201",
        json!({"RevokeToken": {"operationId": "revoke_token", "parameters": {"id": "$response.body#/id"}}}),
    );
    link(
        doc,
        "~1api~1v1~1users",
        "201",
        json!({
            "PatchUser": {"operationId": "patch_user", "parameters": {"id": "$response.body#/id"}},
            "SetPassword": {"operationId": "set_password", "parameters": {"id": "$response.body#/id"}},
        }),
    );
}

/// Adds validation keywords and links to the generated document (as JSON: some keywords, such
/// as `if`/`then`, have no place in utoipa's model).
pub(crate) fn apply(doc: &mut Value) {
    post_fields(doc, "CreatePostRequest");
    post_fields(doc, "PatchPostRequest");
    if let Some(create) = doc.pointer_mut("/components/schemas/CreatePostRequest") {
        create["if"] = json!({"properties": {"status": {"const": "scheduled"}}, "required": ["status"]});
        create["then"] = json!({"required": ["publish_at"], "properties": {"publish_at": {"type": "string"}}});
    }
    account_fields(doc, "SetupRequest", "username", "password");
    account_fields(doc, "CreateUserRequest", "username", "password");
    account_fields(doc, "PasswordRequest", "", "new_password");
    if let Some(props) = schema_props(doc, "CreateTokenRequest") {
        merge(
            &mut props["name"],
            json!({"minLength": 1, "maxLength": 100, "pattern": r"\S"}),
        );
        merge(&mut props["scopes"], json!({"minItems": 1}));
        merge(
            &mut props["scopes"]["items"],
            json!({"enum": ["posts:read", "posts:write", "posts:publish", "media:write", "admin"]}),
        );
    }
    dataset_fields(doc);
    limits(doc, "~1api~1v1~1posts", 200);
    limits(doc, "~1api~1v1~1media", 200);
    media_alt(doc);
    limits(doc, "~1api~1v1~1events", 1000);
    limits(doc, "~1api~1v1~1webhooks~1{id}~1deliveries", 200);
    webhook_fields(doc, "CreateWebhookRequest");
    webhook_fields(doc, "PatchWebhookRequest");
    header_rules(doc);
    post_links(doc);
    // Logout works without a body (it then only ends the access token's use of this call).
    if let Some(body) = doc.pointer_mut("/paths/~1api~1v1~1auth~1logout/post/requestBody") {
        body["required"] = json!(false);
    }
}
