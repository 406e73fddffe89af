//! The one TLS setup of Quire's outgoing HTTPS (webhook deliveries, publishing to S3): rustls
//! with the *ring* provider (no C toolchain beyond ring's own, no aws-lc) and the Mozilla roots
//! of `webpki-roots`, compiled in, so a container without a CA bundle still verifies servers.
//! An extra PEM file of CAs can be trusted on top (a private CA, a test's self-signed one).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

/// Makes ring the process's default rustls provider (idempotent). reqwest is built without a
/// provider of its own (that would be aws-lc-rs), so every client it builds without
/// [`http_client`] needs this first; `main` and [`crate::start`] call it.
pub fn install_default_provider() {
    // An error means a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls client configuration trusting the webpki roots and the CAs in `extra_ca` (PEM).
pub fn client_config(extra_ca: Option<&Path>) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(file) = extra_ca {
        let mut added = 0;
        for cert in
            CertificateDer::pem_file_iter(file).with_context(|| format!("reading the CA file {}", file.display()))?
        {
            let cert = cert.with_context(|| format!("a certificate in {} is malformed", file.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("a certificate in {} is not a usable CA", file.display()))?;
            added += 1;
        }
        anyhow::ensure!(added > 0, "the CA file {} holds no PEM certificate", file.display());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A reqwest client builder that speaks HTTPS with [`client_config`].
pub fn http_client(extra_ca: Option<&Path>) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut tls = client_config(extra_ca)?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_roots_are_trusted_and_a_bad_ca_file_is_explained() {
        client_config(None).expect("the webpki roots make a configuration");
        http_client(None).expect("builder").build().expect("a client");
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let error = client_config(Some(&empty)).expect_err("no certificate").to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
        let missing = client_config(Some(&dir.path().join("missing.pem"))).expect_err("missing");
        assert!(format!("{missing:#}").contains("missing.pem"), "{missing:#}");
    }
}
