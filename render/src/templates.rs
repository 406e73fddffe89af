//! The HTML frame every page shares (head, header, footer) and the fragments several pages
//! reuse: post lists, dates, tag links. maud escapes every interpolated value, so titles, tags
//! and settings are text, never markup.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::index::post_tags;
use crate::mf2::{display_title, photo_markup, responses};
use crate::model::{PostInput, SiteConfig};
use crate::paths::{encode_segment, PagePath};

/// What the `<head>` says about one page.
pub(crate) struct PageMeta<'a> {
    /// The page's own title; the site's title is appended in `<title>`.
    pub title: &'a str,
    pub description: &'a str,
    pub page: &'a PagePath,
    /// `website` or `article` (Open Graph).
    pub og_type: &'static str,
    /// Keep the page out of search engines (the 404 page).
    pub noindex: bool,
}

/// The link to `page` from inside the site, honoring a base URL with a path.
pub(crate) fn href(config: &SiteConfig, page: &PagePath) -> String {
    format!("{}{}", config.base_path(), page.url_path())
}

/// The absolute URL of `page`, for canonical links, feeds and the sitemap.
pub(crate) fn absolute(config: &SiteConfig, page: &PagePath) -> String {
    format!("{}{}", config.base(), page.url_path())
}

/// Where [`frame`] leaves room for a page's content. It cannot come out of anything the frame
/// escapes (a `<` in text or an attribute becomes `&lt;`) and is no tag the frame writes, so it
/// occurs exactly once.
const SLOT: &str = "<quire-content-slot></quire-content-slot>";

/// A whole HTML document around `content`. The frame is put around the content's own buffer,
/// so a long page (the archive of 100,000 posts is ~25 MB) is not held twice.
pub(crate) fn layout(config: &SiteConfig, meta: &PageMeta<'_>, content: Markup) -> String {
    let frame = frame(config, meta);
    let mut page = content.into_string();
    match frame.split_once(SLOT) {
        Some((start, end)) => {
            page.reserve_exact(start.len() + end.len());
            page.insert_str(0, start);
            page.push_str(end);
            page
        }
        None => frame.replace(SLOT, &page),
    }
}

/// The HTML document every page shares, with [`SLOT`] where the page's content goes.
fn frame(config: &SiteConfig, meta: &PageMeta<'_>) -> String {
    let full_title = if meta.title.is_empty() || meta.title == config.title {
        config.title.clone()
    } else {
        format!("{} – {}", meta.title, config.title)
    };
    let url = absolute(config, meta.page);
    let base = config.base_path();
    let markup = html! {
        (DOCTYPE)
        html lang=(config.language) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                meta name="description" content=(meta.description);
                @if meta.noindex {
                    meta name="robots" content="noindex";
                } @else {
                    link rel="canonical" href=(url);
                }
                meta property="og:title" content=(if meta.title.is_empty() { &config.title } else { meta.title });
                meta property="og:description" content=(meta.description);
                meta property="og:url" content=(url);
                meta property="og:type" content=(meta.og_type);
                meta property="og:site_name" content=(config.title);
                link rel="micropub" href={ (base) "/micropub" };
                link rel="indieauth-metadata" href={ (base) "/.well-known/oauth-authorization-server" };
                link rel="authorization_endpoint" href={ (base) "/indieauth/auth" };
                link rel="token_endpoint" href={ (base) "/indieauth/token" };
                link rel="alternate" type="application/atom+xml" title=(config.title) href={ (base) "/feed.xml" };
                link rel="alternate" type="application/feed+json" title=(config.title) href={ (base) "/feed.json" };
                link rel="stylesheet" href={ (base) "/style.css" };
                @if config.custom_css.is_some() {
                    link rel="stylesheet" href={ (base) "/custom.css" };
                }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site-header {
                    a.site-title href=(href(config, &PagePath::Home)) { (config.title) }
                    nav aria-label="Site" {
                        ul {
                            @for link in &config.nav {
                                @if let Some(url) = safe_nav_url(&link.url) {
                                    li { a href=(url) { (link.label) } }
                                }
                            }
                            li { a href=(href(config, &PagePath::Archive)) { "Archive" } }
                            li { a href=(href(config, &PagePath::TagIndex)) { "Tags" } }
                        }
                    }
                }
                main #main { (PreEscaped(SLOT)) }
                footer.site-footer {
                    p {
                        a href={ (base) "/feed.xml" } { "Atom feed" } " · "
                        a href={ (base) "/feed.json" } { "JSON feed" } " · "
                        "Published with Quire"
                    }
                }
            }
        }
    };
    markup.into_string()
}

/// Navigation links may point to the web or to this site, never run code.
fn safe_nav_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let scheme_end = lower.find(':');
    let path_start = lower.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(c), Some(p)) => c < p,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let allowed = ["http://", "https://", "mailto:"];
    (!url.is_empty() && (!has_scheme || allowed.iter().any(|s| lower.starts_with(s)))).then_some(url)
}

/// `2025-01-31`, in the post's own offset.
pub(crate) fn date_text(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// RFC 3339, for `datetime` attributes and feeds.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A `<time>` element.
pub(crate) fn time_tag(at: OffsetDateTime) -> Markup {
    html! { time datetime=(rfc3339(at)) { (date_text(at)) } }
}

/// A `dt-published` `<time>` element.
pub(crate) fn mf2_time(at: OffsetDateTime) -> Markup {
    html! { time.dt-published datetime=(rfc3339(at)) { (date_text(at)) } }
}

/// Links to the pages of a post's tags.
pub(crate) fn tag_links(config: &SiteConfig, post: &PostInput) -> Markup {
    let tags = post_tags(post);
    html! {
        @if !tags.is_empty() {
            ul.tags aria-label="Tags" {
                @for (slug, name) in &tags {
                    li { a.p-category href=(href(config, &PagePath::Tag(slug.clone()))) rel="tag" { (name) } }
                }
            }
        }
    }
}

/// A post in a list with its summary: the home pages.
pub(crate) fn post_summary(config: &SiteConfig, post: &PostInput) -> Markup {
    let url = href(config, &PagePath::Post(post.slug.clone()));
    html! {
        article.summary.h-entry {
            @if post.title.is_empty() {
                (responses(post))
                p.p-summary { (post.lead().excerpt(280)) }
                (photo_markup(post))
                p.meta { a.u-url href=(url) { (mf2_time(post.published_at)) } }
            } @else {
                h2 { a.u-url.p-name href=(url) { (post.title) } }
                p.meta { (mf2_time(post.published_at)) }
                p.p-summary { (post.lead().excerpt(280)) }
            }
            (tag_links(config, post))
        }
    }
}

/// Posts as a compact list of dates and titles: tag and archive pages.
pub(crate) fn post_list<'a>(config: &SiteConfig, posts: impl Iterator<Item = &'a PostInput>) -> Markup {
    // What `href` makes of a post's page, without a page value and two strings per post (the
    // archive lists every post, and is rendered at every publish).
    let base = config.base_path();
    html! {
        ul.post-list {
            @for post in posts {
                li {
                    (time_tag(post.published_at)) " "
                    a href={ (base) "/posts/" (encode_segment(&post.slug)) "/" } { (display_title(post)) }
                }
            }
        }
    }
}

/// The page left at an old slug: sends browsers and crawlers to the post's current URL.
pub(crate) fn redirect_page(config: &SiteConfig, post: &PostInput) -> String {
    let target = absolute(config, &PagePath::Post(post.slug.clone()));
    html! {
        (DOCTYPE)
        html lang=(config.language) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (display_title(post)) " – " (config.title) }
                meta name="robots" content="noindex";
                link rel="canonical" href=(target);
                meta http-equiv="refresh" content={ "0; url=" (target) };
            }
            body {
                p { "This post has moved to " a href=(target) { (target) } "." }
            }
        }
    }
    .into_string()
}

/// Trusted HTML (already sanitized) into a template.
pub(crate) fn trusted(html: String) -> PreEscaped<String> {
    PreEscaped(html)
}

#[cfg(test)]
mod tests {
    use maud::PreEscaped;

    use super::{layout, PageMeta, SLOT};
    use crate::model::SiteConfig;
    use crate::paths::PagePath;

    /// The content goes where the frame's slot is, once, even when the page's title, the site's
    /// title or a navigation label spells the slot out (the frame escapes them).
    #[test]
    fn content_fills_the_frame_once_whatever_the_titles_say() {
        let mut config = SiteConfig {
            title: SLOT.into(),
            ..SiteConfig::default()
        };
        config.nav.push(crate::model::NavLink {
            label: SLOT.into(),
            url: "/about/".into(),
        });
        let page = PagePath::Archive;
        let meta = PageMeta {
            title: SLOT,
            description: SLOT,
            page: &page,
            og_type: "website",
            noindex: false,
        };
        let html = layout(&config, &meta, PreEscaped("<p>the content</p>".to_owned()));
        assert!(!html.contains(SLOT), "{html}");
        assert_eq!(html.matches("<p>the content</p>").count(), 1);
        assert!(html.contains("<main id=\"main\"><p>the content</p></main>"), "{html}");
        assert!(html.contains("&lt;quire-content-slot&gt;"), "{html}");
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>"),
            "{html}"
        );
    }
}
