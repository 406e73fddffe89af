use super::*;

fn html(md: &str) -> String {
    Markdown::new().to_html(md)
}

#[test]
fn commonmark_and_extensions() {
    let out = html(
        "# Hello *world*\n\nSome ~~old~~ text[^1].\n\n- [x] done\n- [ ] todo\n\n\
         | a | b |\n|:--|--:|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n\n[^1]: A note.\n",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn headings_get_unique_ids() {
    let out = html("## Intro\n\n## Intro\n\n## `code` & more!\n\n## ***\n");
    assert!(out.contains(r#"<h2 id="intro">"#), "{out}");
    assert!(out.contains(r#"<h2 id="intro-1">"#), "{out}");
    assert!(out.contains(r#"<h2 id="code-more">"#), "{out}");
}

#[test]
fn bare_urls_become_links() {
    let out = html("Go to https://example.org/a?b=1. Or www.example.com, not `https://x.y`.");
    assert!(
        out.contains(r#"<a href="https://example.org/a?b=1" rel="noopener noreferrer">"#),
        "{out}"
    );
    assert!(
        out.contains(r#"<a href="https://www.example.com" rel="noopener noreferrer">www.example.com</a>"#),
        "{out}"
    );
    assert!(out.contains("<code>https://x.y</code>"), "{out}");
}

#[test]
fn only_our_classes_survive() {
    let out = html(
        "<div class=\"evil footnote-definition\" id=\"x\">a</div>\n\n\
         <p class=\"big\">b</p>\n\n```js onclick=alert(1)\nx\n```\n",
    );
    assert!(out.contains(r#"<div class="footnote-definition" id="x">"#), "{out}");
    assert!(!out.contains("evil") && !out.contains("big"), "{out}");
    assert!(!out.contains("onclick"), "{out}");
}

#[test]
fn inputs_are_always_disabled() {
    let out = html("<input type=\"text\" name=\"q\" value=\"x\" checked>\n");
    assert_eq!(out, "<input checked=\"\" disabled=\"\">\n");
    let out = html("<input type=checkbox disabled=false>\n");
    assert_eq!(out, "<input type=\"checkbox\" disabled=\"\">\n");
}

#[test]
fn output_is_deterministic() {
    let md = "- [x] a\n- [ ] b\n\n<input>\n";
    let first = html(md);
    for _ in 0..20 {
        assert_eq!(html(md), first);
    }
}

#[test]
fn excerpts_are_plain_text() {
    let md =
        "# Title\n\nSome **bold** <b>html</b> and `code`.![alt text](a.png)\n\n```\nskipped\n```\n\nMore text here.";
    assert_eq!(plain_text_excerpt(md, 200), "Some bold html and code. More text here.");
    assert_eq!(plain_text_excerpt(md, 16), "Some bold html…");
}

/// `plain_text_excerpt` as it was before leads: the oracle for them.
fn excerpt_before_leads(markdown: &str, max_chars: usize) -> String {
    let mut text = String::new();
    let mut skip_depth = 0usize;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(
                Tag::CodeBlock(_)
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_)
                | Tag::Image { .. }
                | Tag::Heading { .. },
            ) => skip_depth += 1,
            Event::End(
                TagEnd::CodeBlock | TagEnd::FootnoteDefinition | TagEnd::Table | TagEnd::Image | TagEnd::Heading(_),
            ) => skip_depth = skip_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if skip_depth == 0 => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Item) => text.push(' '),
            _ => {}
        }
        if text.len() > max_chars * 8 {
            break;
        }
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if needed > max_chars {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[test]
fn a_lead_gives_every_excerpt_the_body_gives() {
    // Bodies of every length around the lead's, with markup, skipped blocks, long words, words
    // split over several parser events and characters of several bytes; a fixed seed picks
    // the words.
    let words = [
        "a",
        "word",
        "*emphasis*",
        "**strong**",
        "`code`",
        "[link](https://example.org)",
        "naïve",
        "日本語の文章",
        "🦀",
        "supercalifragilisticexpialidocious",
        "<b>html</b>",
        "x",
        "\n",
        "—",
    ];
    let mut seed = 20_261_204_u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap_or(0) % n
    };
    let mut bodies = vec![
        String::new(),
        "   ".into(),
        "# Only a heading".into(),
        "```\ncode only\n```".into(),
        "one".into(),
        "x".repeat(300),
        format!("{} tail", "y".repeat(279)),
    ];
    // Long bodies with loose and nested lists around where `Lead::of` may cut: a blank line
    // between items makes a whole list loose, which changes its text.
    bodies.push(format!(
        "{}\n\n- a\n  - b\n\n- c\n\nd {}",
        "word ".repeat(230),
        "e ".repeat(300)
    ));
    bodies.push(format!(
        "{}\n\n- a\n  - b\n\nd {}",
        "word ".repeat(230),
        "e ".repeat(300)
    ));
    bodies.push(format!(
        "{}\n\n- a\n  - b\n\n- c\n\nd {}",
        "wo ".repeat(20),
        "e ".repeat(600)
    ));
    // Here the first blank line past the first KiB is inside the list, after the word that
    // does not fit: cutting there would make the list tight and join "a" and "b".
    bodies.push(format!(
        "```\n{}\n```\n- {}a\n  - b {}\n\n- c\n\nd {}",
        "x".repeat(1000),
        "w ".repeat(100),
        "f ".repeat(100),
        "e ".repeat(600)
    ));
    for round in 0..90 {
        let mut body = String::new();
        let length = if round % 2 == 0 { next(120) } else { 200 + next(600) };
        for _ in 0..length {
            body.push_str(words[next(words.len())]);
            body.push_str(match next(16) {
                0 => "\n\n",
                1 => "\n",
                2 => "\n\n## Heading\n\n",
                3 => "\n\n```\nskipped\n```\n\n",
                4 => "\n- item ",
                // Words run together: one word of the text made of several parser events.
                5 | 6 => "",
                7 => "\n\n- loose item ",
                8 => "\n  - nested ",
                9 => "\n\n> quoted ",
                _ => " ",
            });
        }
        bodies.push(body);
    }
    for body in &bodies {
        let lead = Lead::of(body);
        for n in 0..=LEAD_CHARS {
            assert_eq!(
                lead.excerpt(n),
                excerpt_before_leads(body, n),
                "{n} characters of {body:?}"
            );
        }
        assert_eq!(
            plain_text_excerpt(body, LEAD_CHARS),
            excerpt_before_leads(body, LEAD_CHARS)
        );
        assert!(lead.words.chars().count() <= LEAD_CHARS);
    }
}

const PHOTO: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.jpg";

fn with_photo(base: &str, path: &str) -> Markdown {
    let mut md = Markdown::new();
    md.set_base(base, path);
    md.add_image(PHOTO, 1200, 800);
    md
}

#[test]
fn known_uploads_get_their_size_lazy_loading_and_a_srcset_of_their_copies() {
    let md = with_photo("https://example.org/blog", "/blog");
    let out = md.to_html(&format!("![A \"red\" <door>](/media/{PHOTO} \"Door\")"));
    let expected = format!(
        "<img src=\"/media/{PHOTO}\" alt=\"A &quot;red&quot; &lt;door&gt;\" title=\"Door\" width=\"1200\" \
         height=\"800\" loading=\"lazy\" decoding=\"async\" srcset=\"/blog/media/w480/{PHOTO} 480w, \
         /blog/media/w960/{PHOTO} 960w, /media/{PHOTO} 1200w\" sizes=\"(max-width: 42rem) 100vw, 42rem\">"
    );
    assert!(out.contains(&expected), "{out}");
    // An upload the site does not know, and other images, are left as they were written.
    let other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.png";
    let out = md.to_html(&format!("![x](/media/{other}) ![y](https://example.com/a.png)"));
    assert!(
        out.contains(&format!("<img src=\"/media/{other}\" alt=\"x\">")),
        "{out}"
    );
    assert!(!out.contains("srcset") && !out.contains("loading"), "{out}");
}

#[test]
fn a_small_image_has_no_copies_and_feeds_get_absolute_urls() {
    let mut md = Markdown::new();
    md.set_base("https://example.org", "");
    md.add_image(PHOTO, 400, 300);
    let out = md.to_html(&format!("![small](/media/{PHOTO})"));
    assert!(out.contains("width=\"400\" height=\"300\""), "{out}");
    assert!(!out.contains("srcset"), "{out}");
    let md = with_photo("https://example.org/blog", "/blog");
    let out = md.to_feed_html(&format!("![a](/media/{PHOTO})"));
    assert!(
        out.contains(&format!("src=\"https://example.org/media/{PHOTO}\"")),
        "{out}"
    );
    assert!(
        out.contains(&format!("srcset=\"https://example.org/blog/media/w480/{PHOTO} 480w,")),
        "{out}"
    );
}

#[test]
fn authors_cannot_smuggle_urls_through_image_attributes() {
    let md = with_photo("https://example.org", "");
    for raw in [
        r#"<img src="/a.png" srcset="javascript:alert(1) 1w">"#,
        r#"<img src="/a.png" srcset="//evil.example/x.png 480w">"#,
        r#"<img src="/a.png" srcset="/a.png 480w" sizes="100vw" loading="auto" decoding="weird">"#,
    ] {
        let out = md.to_html(raw);
        assert!(!out.contains("javascript") && !out.contains("evil"), "{out}");
        assert!(
            !out.contains("sizes=") && !out.contains("loading=") && !out.contains("decoding="),
            "{out}"
        );
    }
    let out = md.to_html(r#"<img src="/a.png" srcset="/a.png 480w, https://cdn.example/a.png 960w">"#);
    assert!(
        out.contains(r#"srcset="/a.png 480w, https://cdn.example/a.png 960w""#),
        "{out}"
    );
}
