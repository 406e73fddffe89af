//! The HTML pages of the site: the post list, posts, tags, archive and the 404 page. Each
//! function returns `None` when, for the given posts, the page should not exist.

use maud::html;

use crate::error::Result;
use crate::index::PostIndex;
use crate::markdown::Markdown;
use crate::mf2::{display_title, photo_markup, responses};
use crate::model::{whole_body, Bodies, PostInput, SiteConfig};
use crate::pagination;
use crate::paths::PagePath;
use crate::templates::{
    absolute, href, layout, mf2_time, post_list, post_summary, redirect_page, tag_links, time_tag, trusted, PageMeta,
};

/// The home page: the newest posts, a link to the older ones.
pub(crate) fn home(config: &SiteConfig, index: &PostIndex<'_>) -> String {
    list_page(config, index, &PagePath::Home, config.title.clone())
}

/// Page `n` of older posts, counted from the oldest; `None` if there is no such page.
pub(crate) fn older(config: &SiteConfig, index: &PostIndex<'_>, n: usize) -> Option<String> {
    let page = PagePath::Page(n);
    pagination::shown(&page, index.posts().len(), config.page_size)?;
    Some(list_page(config, index, &page, format!("Page {n}")))
}

/// A page of the post list (see [`crate::pagination`]) with links to its neighbours.
fn list_page(config: &SiteConfig, index: &PostIndex<'_>, page: &PagePath, title: String) -> String {
    let posts = index.posts();
    let range = pagination::shown(page, posts.len(), config.page_size).unwrap_or_default();
    let (newer, older) = pagination::neighbours(page, posts.len(), config.page_size);
    let is_home = *page == PagePath::Home;
    let content = html! {
        @if is_home && !config.description.is_empty() {
            p.site-description { (config.description) }
        }
        @for post in &posts[range] {
            (post_summary(config, post))
        }
        @if posts.is_empty() {
            p { "Nothing published yet." }
        }
        @if newer.is_some() || older.is_some() {
            nav.pagination aria-label="Pages" {
                @if let Some(newer) = &newer {
                    a rel="prev" href=(href(config, newer)) { "← Newer posts" }
                }
                @if let Some(older) = &older {
                    a rel="next" href=(href(config, older)) { "Older posts →" }
                }
            }
        }
    };
    let meta = PageMeta {
        title: &title,
        description: &config.description,
        page,
        og_type: "website",
        noindex: false,
    };
    layout(config, &meta, content)
}

/// A post's page, or the redirect page when `slug` is an old slug of a post.
pub(crate) fn post_or_redirect(
    config: &SiteConfig,
    markdown: &Markdown,
    bodies: &dyn Bodies,
    index: &PostIndex<'_>,
    slug: &str,
) -> Result<Option<String>> {
    if let Some(post) = index.post(slug) {
        let body = whole_body(bodies, post)?;
        return Ok(Some(post_page(config, markdown, post, &body)));
    }
    Ok(index.redirect(slug).map(|post| redirect_page(config, post)))
}

fn post_page(config: &SiteConfig, markdown: &Markdown, post: &PostInput, body: &str) -> String {
    let page = PagePath::Post(post.slug.clone());
    let description = post.lead().excerpt(160);
    let author = if post.author.is_empty() {
        &config.author
    } else {
        &post.author
    };
    let title = display_title(post);
    let home = absolute(config, &PagePath::Home);
    let author_name = if author.is_empty() { &config.title } else { author };
    let content = html! {
        article.post.h-entry {
            header {
                @if !post.title.is_empty() {
                    h1.p-name { (post.title) }
                }
                (responses(post))
                p.meta {
                    a.u-url href=(absolute(config, &page)) { (mf2_time(post.published_at)) }
                    @if post.updated_at > post.published_at {
                        " · updated " (time_tag(post.updated_at))
                    }
                    " · " span.author.p-author.h-card { a.u-url.p-name href=(home) { (author_name) } }
                }
            }
            div.content.e-content { (trusted(markdown.to_html(body))) }
            (photo_markup(post))
            footer { (tag_links(config, post)) }
        }
    };
    let meta = PageMeta {
        title: &title,
        description: &description,
        page: &page,
        og_type: "article",
        noindex: false,
    };
    layout(config, &meta, content)
}

/// The posts of one tag.
pub(crate) fn tag(config: &SiteConfig, index: &PostIndex<'_>, slug: &str) -> Option<String> {
    let entry = index.tags().get(slug)?;
    let page = PagePath::Tag(slug.to_owned());
    let title = format!("Tagged “{}”", entry.name);
    let description = format!("Posts tagged “{}” on {}.", entry.name, config.title);
    let posts = entry.posts.iter().map(|&i| index.posts()[i]);
    let content = html! {
        h1 { (title) }
        (post_list(config, posts))
        p { a href=(href(config, &PagePath::TagIndex)) { "All tags" } }
    };
    let meta = PageMeta {
        title: &title,
        description: &description,
        page: &page,
        og_type: "website",
        noindex: false,
    };
    Some(layout(config, &meta, content))
}

/// Every tag with its number of posts.
pub(crate) fn tag_index(config: &SiteConfig, index: &PostIndex<'_>) -> String {
    let page = PagePath::TagIndex;
    let description = format!("All tags of {}.", config.title);
    let content = html! {
        h1 { "Tags" }
        @if index.tags().is_empty() {
            p { "No tags yet." }
        } @else {
            ul.tag-index {
                @for (slug, entry) in index.tags() {
                    li {
                        a href=(href(config, &PagePath::Tag(slug.clone()))) rel="tag" { (entry.name) }
                        " " span.count { "(" (entry.posts.len()) ")" }
                    }
                }
            }
        }
    };
    let meta = PageMeta {
        title: "Tags",
        description: &description,
        page: &page,
        og_type: "website",
        noindex: false,
    };
    layout(config, &meta, content)
}

/// Every post, grouped by the year it was published in, newest first.
pub(crate) fn archive(config: &SiteConfig, index: &PostIndex<'_>) -> String {
    let page = PagePath::Archive;
    let description = format!("Every post of {}, by year.", config.title);
    let posts = index.posts();
    let years = posts.chunk_by(|a, b| a.published_at.year() == b.published_at.year());
    let content = html! {
        h1 { "Archive" }
        @if posts.is_empty() {
            p { "Nothing published yet." }
        }
        @for group in years {
            @let year = group.first().map(|p| p.published_at.year()).unwrap_or_default();
            section.year aria-labelledby={ "y" (year) } {
                h2 #{ "y" (year) } { (year) }
                (post_list(config, group.iter().copied()))
            }
        }
    };
    let meta = PageMeta {
        title: "Archive",
        description: &description,
        page: &page,
        og_type: "website",
        noindex: false,
    };
    layout(config, &meta, content)
}

/// The page a web server shows for an unknown URL.
pub(crate) fn not_found(config: &SiteConfig) -> String {
    let page = PagePath::NotFound;
    let content = html! {
        h1 { "Page not found" }
        p {
            "There is nothing at this address. It may have moved: try the "
            a href=(href(config, &PagePath::Home)) { "home page" } " or the "
            a href=(href(config, &PagePath::Archive)) { "archive" } "."
        }
    };
    let meta = PageMeta {
        title: "Page not found",
        description: "There is nothing at this address.",
        page: &page,
        og_type: "website",
        noindex: true,
    };
    layout(config, &meta, content)
}
