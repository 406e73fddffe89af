//! A small HTML tag scanner for the XSS tests: finds every tag and attribute the way a browser
//! would see them in serialized output (quoted values may hold `>`).

#![allow(dead_code)]

/// `(tag, attribute, value)` for every attribute of every start tag, and `(tag, "", "")` for
/// every tag.
pub fn attributes(html: &str) -> Vec<(String, String, String)> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' || i + 1 >= bytes.len() || !bytes[i + 1].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        i += 1;
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/' {
            i += 1;
        }
        let tag = html[start..i].to_ascii_lowercase();
        out.push((tag.clone(), String::new(), String::new()));
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                break;
            }
            let name_start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i]) {
                i += 1;
            }
            let name = html[name_start..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                let quote = bytes.get(i).copied().filter(|q| *q == b'"' || *q == b'\'');
                let value_start = if quote.is_some() { i + 1 } else { i };
                i = value_start;
                while i < bytes.len() {
                    let end = match quote {
                        Some(q) => bytes[i] == q,
                        None => bytes[i].is_ascii_whitespace() || bytes[i] == b'>',
                    };
                    if end {
                        break;
                    }
                    i += 1;
                }
                value = html[value_start..i.min(bytes.len())].to_owned();
                if quote.is_some() {
                    i += 1;
                }
            }
            out.push((tag.clone(), name, value));
        }
    }
    out
}

/// Panics if `html` holds anything that could run code or restyle the page.
pub fn assert_inert(html: &str, context: &str) {
    const FORBIDDEN_TAGS: [&str; 13] = [
        "script", "iframe", "frame", "object", "embed", "svg", "math", "style", "base", "form", "button", "textarea",
        "applet",
    ];
    for (tag, attr, value) in attributes(html) {
        // The page's own `<link>`s (canonical, feeds, stylesheets) point into the site.
        if tag == "link" {
            let own = value.starts_with('/') || value.starts_with("https://notes.example.org/");
            assert!(
                attr != "href" || own,
                "{context}: <link href={value:?}> survived in {html}"
            );
            continue;
        }
        assert!(
            !FORBIDDEN_TAGS.contains(&tag.as_str()),
            "{context}: <{tag}> survived in {html}"
        );
        if tag == "meta" {
            assert!(
                attr != "http-equiv" || context.contains("redirect"),
                "{context}: meta refresh"
            );
        }
        assert!(
            !attr.starts_with("on"),
            "{context}: <{tag} {attr}=…> survived in {html}"
        );
        assert!(attr != "style", "{context}: style attribute survived in {html}");
        assert!(attr != "srcdoc" && attr != "formaction", "{context}: {attr} survived");
        if ["href", "src", "action", "xlink:href", "data", "poster", "background"].contains(&attr.as_str()) {
            let squashed: String = value
                .to_ascii_lowercase()
                .replace("&#x09;", "")
                .replace("&#9;", "")
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect();
            for scheme in ["javascript:", "data:", "vbscript:"] {
                assert!(!squashed.starts_with(scheme), "{context}: {attr}={value:?} survived");
            }
        }
    }
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{context}: <script in {html}");
}
