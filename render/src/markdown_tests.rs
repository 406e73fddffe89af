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
