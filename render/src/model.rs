//! The plain input types the renderer works from.
//!
//! The renderer knows nothing about the event log or HTTP: the caller hands it the site's
//! settings and the list of *published* posts, and gets pages back.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Settings of the public site. Changing any of them changes every page: re-render everything
/// with [`crate::Site::render_all`] after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name, shown in every page header and used as the feeds' title.
    pub title: String,
    /// One sentence about the site: the home page's meta description and the feeds' subtitle.
    pub description: String,
    /// The public address of the site's root, e.g. `https://blog.example.org` or
    /// `https://example.org/blog`; used for canonical links, feeds and the sitemap.
    pub base_url: String,
    /// The author shown in the feeds when a post has none.
    pub author: String,
    /// The BCP 47 language tag of the content, e.g. `en` or `pt-BR`.
    pub language: String,
    /// Links shown in the header of every page.
    pub nav: Vec<NavLink>,
    /// Extra CSS text, written to `/custom.css` and linked after `/style.css` when set.
    pub custom_css: Option<String>,
    /// Posts per home page (`/`, `/page/2/`, …).
    pub page_size: usize,
    /// Posts in the Atom and JSON feeds (the newest ones).
    pub feed_size: usize,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            title: "Quire".to_owned(),
            description: "A site published with Quire.".to_owned(),
            base_url: "http://127.0.0.1:8080".to_owned(),
            author: String::new(),
            language: "en".to_owned(),
            nav: Vec::new(),
            custom_css: None,
            page_size: 10,
            feed_size: 20,
        }
    }
}

impl SiteConfig {
    /// Checks the settings and explains what to change when one is unusable.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        let base = self.base_url.trim_end_matches('/');
        let rest = base.strip_prefix("https://").or_else(|| base.strip_prefix("http://"));
        match rest {
            None => return invalid("base_url", "must start with http:// or https://"),
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                return invalid("base_url", "must name a host, e.g. https://example.org")
            }
            Some(rest) if rest.contains(['?', '#', ' ', '"', '<', '>', '\\']) => {
                return invalid("base_url", "must be a plain URL without query or fragment")
            }
            Some(_) => {}
        }
        if self.page_size == 0 {
            return invalid("page_size", "must be at least 1");
        }
        if self.feed_size == 0 {
            return invalid("feed_size", "must be at least 1");
        }
        let lang_ok = !self.language.is_empty() && self.language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !lang_ok {
            return invalid("language", "must be a language tag such as `en` or `pt-BR`");
        }
        Ok(())
    }

    /// The base URL without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The path part of the base URL (`""` or e.g. `/blog`), prefixed to every internal link so
    /// that a site served below a sub-path still works.
    pub(crate) fn base_path(&self) -> &str {
        let base = self.base();
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        base[after_scheme..].find('/').map_or("", |i| &base[after_scheme + i..])
    }
}

/// One link of the site's navigation bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavLink {
    /// The text of the link.
    pub label: String,
    /// Where it points: an absolute `http(s)://` or `mailto:` URL, or a path on this site.
    pub url: String,
}

/// Where the renderer finds the bodies of posts whose [`PostInput::body_key`] is set.
pub trait Bodies: Sync {
    /// The Markdown body kept under `key`, or why it cannot be read.
    fn body(&self, key: u64) -> std::result::Result<String, String>;
}

/// For posts that carry their bodies: asking for one is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBodies;

impl Bodies for NoBodies {
    fn body(&self, key: u64) -> std::result::Result<String, String> {
        Err(format!("no body source was given for body {key}"))
    }
}

/// `post`'s whole body: its `body_markdown`, or what `bodies` has under its `body_key`.
pub(crate) fn whole_body<'p>(bodies: &dyn Bodies, post: &'p PostInput) -> Result<std::borrow::Cow<'p, str>> {
    match post.body_key {
        None => Ok(std::borrow::Cow::Borrowed(&post.body_markdown)),
        Some(key) => bodies
            .body(key)
            .map(std::borrow::Cow::Owned)
            .map_err(|reason| Error::Body {
                post: post.id.clone(),
                reason,
            }),
    }
}

/// One published post, as the renderer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostInput {
    /// The stable post id; feeds use it so a renamed post is not a new entry for readers.
    pub id: String,
    /// The current slug: the post lives at `/posts/<slug>/`.
    pub slug: String,
    /// The title, plain text.
    pub title: String,
    /// The body in Markdown; raw HTML in it is sanitized. Left empty by a caller that keeps
    /// bodies elsewhere and says where in `body_key`.
    pub body_markdown: String,
    /// Where the whole body is when `body_markdown` is left empty: the renderer asks the
    /// [`Bodies`] it is given for this key when a page shows the whole body (the post's own
    /// page, the feeds). `None`: the body is `body_markdown`.
    pub body_key: Option<u64>,
    /// The start of the body's plain text ([`crate::Lead::of`] the body), which lists,
    /// summaries and descriptions show: required with `body_key`; `None` computes it from
    /// `body_markdown` where it is needed.
    pub lead: Option<crate::Lead>,
    /// Tags as the author wrote them; pages group them by [`crate::tag_slug`].
    pub tags: Vec<String>,
    /// When the post was published; orders every list, newest first.
    pub published_at: OffsetDateTime,
    /// When the post last changed.
    pub updated_at: OffsetDateTime,
    /// The author's display name; empty means the site's author.
    pub author: String,
    /// Slugs the post had before: each gets a redirect page to the current URL.
    pub old_slugs: Vec<String>,
    /// Extra properties (Micropub's `in-reply-to`, `like-of`, `repost-of`, `photo`…): name →
    /// array of values, as the client sent them. An empty title makes the post a note.
    pub properties: std::collections::BTreeMap<String, serde_json::Value>,
}

impl PostInput {
    /// The start of the body's plain text: `lead`, or computed from `body_markdown`.
    pub fn lead(&self) -> std::borrow::Cow<'_, crate::Lead> {
        match &self.lead {
            Some(lead) => std::borrow::Cow::Borrowed(lead),
            None => std::borrow::Cow::Owned(crate::Lead::of(&self.body_markdown)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        SiteConfig::default().validate().expect("default is valid");
    }

    #[test]
    fn base_path_is_the_path_of_the_base_url() {
        let mut config = SiteConfig::default();
        assert_eq!(config.base_path(), "");
        config.base_url = "https://example.org/blog/".into();
        assert_eq!(config.base(), "https://example.org/blog");
        assert_eq!(config.base_path(), "/blog");
    }

    #[test]
    fn bad_values_are_explained() {
        let bad = [
            SiteConfig {
                base_url: "javascript:alert(1)".into(),
                ..SiteConfig::default()
            },
            SiteConfig {
                page_size: 0,
                ..SiteConfig::default()
            },
            SiteConfig {
                language: "en\"><script>".into(),
                ..SiteConfig::default()
            },
        ];
        for config in bad {
            assert!(matches!(config.validate(), Err(Error::InvalidConfig { .. })));
        }
    }
}
