//! The addresses of the site's pages: which file each page is written to, which URL it answers
//! at, and how slugs and tags become safe path segments.

use std::fmt;

/// One output of the site: a page, a feed or an asset, named by where it lives.
///
/// `Post(slug)` covers both a post's page and the redirect page of an old slug: both live at
/// `/posts/<slug>/`, and a current slug always wins over an old one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PagePath {
    /// `/index.html`: the newest posts, between one and two `page_size`s of them.
    Home,
    /// `/page/<n>/index.html`, `n` ≥ 1: the `n`-th bucket of older posts counted from the
    /// oldest, so its address and content stay put while newer posts are published.
    Page(usize),
    /// `/posts/<slug>/index.html`: a post, or a redirect from an old slug.
    Post(String),
    /// `/tags/index.html`: every tag with its number of posts.
    TagIndex,
    /// `/tags/<tag-slug>/index.html`: the posts of one tag.
    Tag(String),
    /// `/archive/index.html`: every post, grouped by year.
    Archive,
    /// `/feed.xml`: the Atom feed.
    AtomFeed,
    /// `/feed.json`: the JSON Feed 1.1.
    JsonFeed,
    /// `/sitemap.xml`: every public page, or, past [`crate::SITEMAP_MAX_URLS`] of them, an
    /// index of the [`PagePath::SitemapPart`]s that list them.
    Sitemap,
    /// `/sitemap-<n>.xml`, `n` ≥ 1: the `n`-th part of a sitemap too long for one file.
    SitemapPart(usize),
    /// `/robots.txt`, pointing to the sitemap.
    Robots,
    /// `/404.html`, for the web server's error page.
    NotFound,
    /// `/style.css`, the default stylesheet.
    Stylesheet,
    /// `/custom.css`, the site's own CSS when [`crate::SiteConfig::custom_css`] is set.
    CustomCss,
}

impl PagePath {
    /// The file of this page, relative to the output folder, with `/` separators.
    pub fn file_path(&self) -> String {
        match self {
            PagePath::Home => "index.html".to_owned(),
            PagePath::Page(n) => format!("page/{n}/index.html"),
            PagePath::Post(slug) => format!("posts/{slug}/index.html"),
            PagePath::TagIndex => "tags/index.html".to_owned(),
            PagePath::Tag(slug) => format!("tags/{slug}/index.html"),
            PagePath::Archive => "archive/index.html".to_owned(),
            PagePath::AtomFeed => "feed.xml".to_owned(),
            PagePath::JsonFeed => "feed.json".to_owned(),
            PagePath::Sitemap => "sitemap.xml".to_owned(),
            PagePath::SitemapPart(n) => format!("sitemap-{n}.xml"),
            PagePath::Robots => "robots.txt".to_owned(),
            PagePath::NotFound => "404.html".to_owned(),
            PagePath::Stylesheet => "style.css".to_owned(),
            PagePath::CustomCss => "custom.css".to_owned(),
        }
    }

    /// The URL path of this page below the site's base, percent-encoded, e.g. `/posts/hello/`.
    pub fn url_path(&self) -> String {
        match self {
            PagePath::Home => "/".to_owned(),
            PagePath::Page(n) => format!("/page/{n}/"),
            PagePath::Post(slug) => format!("/posts/{}/", encode_segment(slug)),
            PagePath::TagIndex => "/tags/".to_owned(),
            PagePath::Tag(slug) => format!("/tags/{}/", encode_segment(slug)),
            PagePath::Archive => "/archive/".to_owned(),
            other => format!("/{}", other.file_path()),
        }
    }

    /// The page written to `file` (relative to the output folder), if it is one of ours.
    pub fn from_file_path(file: &str) -> Option<PagePath> {
        let single = ["index.html", "tags/index.html", "archive/index.html"];
        let fixed = [PagePath::Home, PagePath::TagIndex, PagePath::Archive];
        if let Some(i) = single.iter().position(|s| *s == file) {
            return Some(fixed[i].clone());
        }
        if let Some(n) = file.strip_prefix("sitemap-").and_then(|rest| rest.strip_suffix(".xml")) {
            // Only the spelling `file_path` writes: no sign, no leading zero.
            let canonical = !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit());
            return n
                .parse()
                .ok()
                .filter(|n| canonical && *n >= 1)
                .map(PagePath::SitemapPart);
        }
        let mut parts = file.split('/');
        let page = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("page"), Some(n), Some("index.html"), None) => PagePath::Page(n.parse().ok().filter(|n| *n >= 1)?),
            (Some("posts"), Some(slug), Some("index.html"), None) if is_valid_slug(slug) => {
                PagePath::Post(slug.to_owned())
            }
            (Some("tags"), Some(slug), Some("index.html"), None) if is_valid_slug(slug) => {
                PagePath::Tag(slug.to_owned())
            }
            _ => return None,
        };
        Some(page)
    }
}

impl fmt::Display for PagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file_path())
    }
}

/// Whether `slug` can name a folder of the site: one non-empty path segment without
/// separators, whitespace or control characters, not hidden, at most 200 bytes. Posts with
/// another slug are left out of the site rather than written outside the output folder.
pub fn is_valid_slug(slug: &str) -> bool {
    let bad = |c: char| c == '/' || c == '\\' || c.is_whitespace() || c.is_control();
    !slug.is_empty()
        && slug.len() <= 200
        && !slug.starts_with('.')
        // Checked for every post at every event of a catch-up: bytes first, where they are ASCII
        // (the same test: the one ASCII whitespace `u8` does not know, \x0B, is a control).
        && if slug.is_ascii() {
            !slug
                .bytes()
                .any(|b| b == b'/' || b == b'\\' || b.is_ascii_whitespace() || b.is_ascii_control())
        } else {
            !slug.chars().any(bad)
        }
}

/// The slug of a tag: lowercase letters and digits joined by `-` (`"Rust Lang"` → `rust-lang`,
/// `"C++"` → `cplusplus`). `None` when nothing usable is left, e.g. for `"!!!"`; such a tag
/// gets no page.
pub fn tag_slug(tag: &str) -> Option<String> {
    let slug = slugify(tag, 80);
    (!slug.is_empty()).then_some(slug)
}

/// Lowercase alphanumerics, other runs of characters collapsed into one `-`, at most `max`
/// characters. Shared by tag slugs and heading ids.
pub(crate) fn slugify(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars() {
        let word = match c {
            '+' => Some("plus"),
            '#' => Some("sharp"),
            _ => None,
        };
        if c.is_alphanumeric() || c == '_' || word.is_some() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            match word {
                Some(word) => out.push_str(word),
                None => out.extend(c.to_lowercase()),
            }
        } else {
            dash = true;
        }
        if out.chars().count() >= max {
            break;
        }
    }
    out
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters.
pub(crate) fn encode_segment(segment: &str) -> String {
    let unreserved = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    // Slugs are almost always unreserved already: one copy, no byte-by-byte rebuild.
    if segment.bytes().all(unreserved) {
        return segment.to_owned();
    }
    let mut out = String::with_capacity(segment.len() * 3);
    for byte in segment.bytes() {
        if unreserved(byte) {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded_only_where_needed() {
        assert_eq!(encode_segment("plain-slug_1.x~"), "plain-slug_1.x~");
        assert_eq!(encode_segment("a b/é%"), "a%20b%2F%C3%A9%25");
        assert_eq!(PagePath::Post("a b".into()).url_path(), "/posts/a%20b/");
    }

    #[test]
    fn file_paths_round_trip() {
        let pages = [
            PagePath::Home,
            PagePath::Page(1),
            PagePath::Page(3),
            PagePath::Post("hello-world".into()),
            PagePath::TagIndex,
            PagePath::Tag("rust".into()),
            PagePath::Archive,
            PagePath::SitemapPart(1),
            PagePath::SitemapPart(12),
        ];
        for page in pages {
            assert_eq!(PagePath::from_file_path(&page.file_path()), Some(page));
        }
        assert_eq!(PagePath::from_file_path("page/0/index.html"), None);
        for other in [
            "sitemap-0.xml",
            "sitemap-01.xml",
            "sitemap-+1.xml",
            "sitemap-.xml",
            "sitemap-1.xml.tmp",
        ] {
            assert_eq!(PagePath::from_file_path(other), None, "{other}");
        }
        assert_eq!(PagePath::SitemapPart(2).url_path(), "/sitemap-2.xml");
        assert_eq!(PagePath::from_file_path("media/x.png"), None);
    }

    #[test]
    fn slugs_stay_inside_their_folder() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "a b", "a\nb"] {
            assert!(!is_valid_slug(bad), "{bad:?}");
        }
        assert!(is_valid_slug("héllo-wörld_2"));
        // Non-ASCII whitespace and controls, in an otherwise ASCII slug.
        for bad in ["a\u{a0}b", "a\u{2028}b", "a\u{85}b", "a\u{3000}"] {
            assert!(!is_valid_slug(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_ascii_test_of_slugs_agrees_with_the_unicode_one() {
        for byte in 0u8..0x80 {
            let c = char::from(byte);
            let slug = format!("a{c}b");
            let bad = c == '/' || c == '\\' || c.is_whitespace() || c.is_control();
            assert_eq!(is_valid_slug(&slug), !bad, "{slug:?}");
            // The same character beside a non-ASCII one takes the other path.
            assert_eq!(is_valid_slug(&format!("é{slug}")), !bad, "é{slug:?}");
        }
    }

    #[test]
    fn tag_slugs() {
        assert_eq!(tag_slug("Rust Lang").as_deref(), Some("rust-lang"));
        assert_eq!(tag_slug("  C++ ").as_deref(), Some("cplusplus"));
        assert_eq!(tag_slug("Café/Bar").as_deref(), Some("café-bar"));
        assert_eq!(tag_slug("<script>").as_deref(), Some("script"));
        assert_eq!(tag_slug("!!!"), None);
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(PagePath::Tag("café".into()).url_path(), "/tags/caf%C3%A9/");
        assert_eq!(PagePath::Page(2).url_path(), "/page/2/");
        assert_eq!(PagePath::AtomFeed.url_path(), "/feed.xml");
    }
}
