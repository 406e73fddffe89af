//! The OpenAPI document is served, and every operation it declares is routed by the server.

use quire_integration_tests::TestServer;
use reqwest::Method;

#[tokio::test]
async fn every_declared_operation_is_served() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", server.base))
        .await
        .expect("get spec")
        .json()
        .await
        .expect("spec json");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 12, "all routes are documented");
    let mut checked = 0;
    for (path, operations) in paths {
        let concrete = path.replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV").replace("{n}", "1");
        for method in operations.as_object().expect("operations").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = client.request(method.clone(), &concrete).send().await.expect("send");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is declared but not routed");
            assert!(
                !body.contains("nothing at"),
                "{method} {path} is declared but not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15);
    server.stop().await;
}

/// The reverse direction: every route of the server's table is declared in the document, so
/// the contract (and the authorization matrix, which walks the same table) covers it.
#[test]
fn every_served_route_is_declared() {
    let doc: serde_json::Value = serde_json::from_str(&quire_openapi::document()).expect("spec json");
    for &(path, allow) in quire_api::routes::ROUTES {
        for method in allow.split(", ") {
            let declared = &doc["paths"][path][method.to_lowercase()];
            assert!(
                declared.is_object(),
                "{method} {path} is served but not in openapi.json"
            );
        }
    }
}

/// The webhook event types the document offers are exactly those the server sends, plus `*`
/// (the document's list is written out in the openapi crate, which knows no storage types).
#[test]
fn webhook_event_types_in_the_document_are_the_servers() {
    let doc: serde_json::Value = serde_json::from_str(&quire_openapi::document()).expect("spec json");
    let offered: std::collections::BTreeSet<&str> = doc["components"]["schemas"]["CreateWebhookRequest"]["properties"]
        ["events"]["items"]["enum"]
        .as_array()
        .expect("events enum")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let sent: std::collections::BTreeSet<&str> = quire_storage::webhooks::EVENT_TYPES
        .iter()
        .copied()
        .chain(["*"])
        .collect();
    assert_eq!(offered, sent);
}
