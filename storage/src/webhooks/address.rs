//! Where a webhook may send: `http` and `https` URLs whose host resolves only to public addresses,
//! unless private ones are allowed. The sender connects to the addresses checked here (not to a
//! second lookup), so a DNS answer that changes in between (rebinding) cannot reach inside.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};

/// A checked URL: the host to name in the request and the addresses to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// Parses `url`, resolves its host (blocking) and checks every address; the error says why not.
pub fn check_url(url: &str, allow_private: bool) -> Result<Target, String> {
    let url = check_syntax(url)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let lookup = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (lookup, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private {
        if let Some(addr) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private, loopback, link-local or unspecified address; \
                 webhooks.allow_private_addresses is off",
                addr.ip()
            ));
        }
    }
    Ok(Target { url, host, addrs })
}

/// The checks that need no lookup: an absolute `http` or `https` URL with a host and no user
/// info.
pub fn check_syntax(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no credentials in the URL; check the signature instead".into());
    }
    Ok(parsed)
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_unspecified_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        assert!(is_public("93.184.216.34".parse().expect("ip")));
        assert!(is_public("2606:4700::1111".parse().expect("ip")));
    }

    #[test]
    fn a_loopback_url_is_refused_unless_allowed() {
        let refused = check_url("http://127.0.0.1:9/hook", false).expect_err("loopback");
        assert!(refused.contains("allow_private_addresses"), "{refused}");
        let target = check_url("http://127.0.0.1:9/hook", true).expect("allowed");
        assert_eq!(target.addrs, ["127.0.0.1:9".parse().expect("addr")]);
        assert!(check_url("ftp://example.com/", true).is_err());
        let https = check_url("https://127.0.0.1/hook", true).expect("https is allowed");
        assert_eq!(https.addrs, ["127.0.0.1:443".parse().expect("addr")]);
        let refused = check_url("https://127.0.0.1/hook", false).expect_err("loopback over https");
        assert!(refused.contains("allow_private_addresses"), "{refused}");
        assert!(check_url("http://user:pw@127.0.0.1/", true).is_err());
    }
}
