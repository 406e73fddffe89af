//! Webhooks over HTTPS: a receiver with a certificate from a test CA (made with `openssl`)
//! gets signed deliveries when the CA is trusted through `webhooks.ca_file`; without it the
//! certificate is refused and the delivery fails, so the check is real.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quire_integration_tests::{Client, TestServer};
use quire_openapi::{DeliveryList, WebhookCreated};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use crate::webhook_receiver::{Answer, Receiver};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`ca.pem`) and a certificate for 127.0.0.1 signed by it (`leaf.pem`, `leaf.key`).
pub(crate) fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=Quire test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ];
    ca.extend(ec);
    openssl(dir, &ca);
    let mut csr = vec![
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ];
    csr.extend(ec);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
}

pub(crate) fn server_tls(dir: &Path) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
        .expect("leaf.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).expect("leaf.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    Arc::new(config)
}

async fn register(client: &Client, url: &str) -> WebhookCreated {
    let response = client
        .post_json("/api/v1/webhooks", &json!({"url": url, "events": ["*"]}), &[])
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.expect("webhook json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_receivers_get_deliveries_when_their_ca_is_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let receiver = Receiver::start_tls(&[], server_tls(dir.path())).await;
    let ca = dir.path().join("ca.pem");
    let server = TestServer::start_with(|config| {
        config.webhooks.allow_private_addresses = true;
        config.webhooks.retry_schedule_secs = vec![3600];
        config.webhooks.timeout_secs = 5;
        config.webhooks.ca_file = Some(ca.clone());
    })
    .await;
    let client = server.admin().await;
    let hook = register(&client, &format!("{}/tls", receiver.base)).await;
    client.create_post(json!({"title": "Over TLS", "body": "b"})).await;
    let hits = receiver.wait_for("/tls", 1).await;
    assert_eq!(hits[0].json()["type"], "post.created");
    assert!(hits[0].headers["webhook-signature"].starts_with("v1,"));
    assert!(hits[0].headers["webhook-id"].ends_with(&hook.webhook.id));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_the_delivery() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let receiver = Receiver::start_tls(&[Answer::Status(200)], server_tls(dir.path())).await;
    let server = TestServer::start_with(|config| {
        config.webhooks.allow_private_addresses = true;
        config.webhooks.retry_schedule_secs = vec![3600];
        config.webhooks.timeout_secs = 5;
    })
    .await;
    let client = server.admin().await;
    let hook = register(&client, &format!("{}/untrusted", receiver.base)).await;
    client.create_post(json!({"title": "Not trusted", "body": "b"})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        let list: DeliveryList = client
            .get(&format!("/api/v1/webhooks/{}/deliveries", hook.webhook.id))
            .await
            .json()
            .await
            .expect("deliveries");
        if let Some(error) = list.items.iter().find_map(|d| d.last_error.clone()) {
            break error;
        }
        assert!(Instant::now() < deadline, "no failed attempt recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert!(receiver.hits("/untrusted").is_empty(), "no request got through");
    server.stop().await;
}
