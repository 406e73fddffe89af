//! Deterministic, realistic posts: titles, tags and Markdown bodies of a few hundred words with
//! headings, lists, code blocks, links, emphasis and quotes, from a seeded generator so every
//! run (and both renderers) gets the same text.

use std::sync::OnceLock;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use time::OffsetDateTime;

const WORDS: &str = "quire server render static page event log durable flush commit branch feed reader writer morning \
     garden river mountain coffee library window network latency cache memory thread async blocking \
     simple careful quiet bright small large slow fast notes draft publish schedule archive sitemap \
     markdown heading list table image link code rust sled git nginx hugo bench measure number result \
     change version history restore delete update create token login editor phone offline outbox \
     retry idempotent conflict merge diff patch review weekly journal travel recipe bread tomato \
     winter summer autumn spring light shadow paper ink letter story chapter music piano violin walk \
     bicycle train station harbour island forest meadow stone bridge tower street market friend \
     neighbour the a of and to in is that with for on as was it by this from at but not or be are we \
     can will all one when there some more";

const TAGS: &str = "rust web notes travel food music books photography gardening cycling linux databases performance \
     design writing weekly family hiking coffee bread nginx self-hosting raspberry-pi git security \
     testing async css html markdown history science maths chess film podcasts languages cooking \
     running climbing winter summer tools keyboards editors productivity open-source community \
     reading misc";

/// One generated post.
#[derive(Debug, Clone)]
pub struct GenPost {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub published_at: OffsetDateTime,
}

/// `n` posts, one every ~3 hours back from 2026-01-01, so the archive spans years.
pub fn posts(n: usize) -> Vec<GenPost> {
    let mut rng = StdRng::seed_from_u64(0x0051_7569_7265);
    let tags: Vec<&str> = TAGS.split_whitespace().collect();
    let end = time::macros::datetime!(2026-01-01 0:00 UTC);
    (0..n)
        .map(|i| {
            let title = format!("{} {i}", capitalize(&words(&mut rng, 3, 7)));
            let tags = (0..rng.random_range(1..=4))
                .map(|_| tags[rng.random_range(0..tags.len())].to_owned())
                .collect();
            let offset = time::Duration::minutes(i64::try_from(i).unwrap_or(0) * 180 + rng.random_range(0..120));
            GenPost {
                title,
                body: body(&mut rng, i),
                tags,
                published_at: end - offset,
            }
        })
        .collect()
}

fn body(rng: &mut StdRng, i: usize) -> String {
    let mut out = String::with_capacity(6000);
    paragraph(rng, &mut out, 3, i);
    for section in 0..rng.random_range(2..=4) {
        out.push_str(&format!("## {}\n\n", capitalize(&words(rng, 2, 5))));
        paragraph(rng, &mut out, 4, i);
        match (section + i) % 4 {
            0 => {
                for _ in 0..rng.random_range(3..=6) {
                    out.push_str(&format!(
                        "- {} with `{}`\n",
                        capitalize(&words(rng, 4, 10)),
                        words(rng, 1, 1)
                    ));
                }
                out.push('\n');
            }
            1 => {
                out.push_str("```rust\n");
                out.push_str(&format!(
                    "fn {}(input: &str) -> usize {{\n    // {}\n    input.split_whitespace().count() + {i}\n}}\n",
                    words(rng, 1, 1),
                    words(rng, 4, 8)
                ));
                out.push_str("```\n\n");
            }
            2 => {
                out.push_str(&format!("### {}\n\n", capitalize(&words(rng, 2, 4))));
                for n in 1..=rng.random_range(2..=5) {
                    out.push_str(&format!("{n}. {}\n", capitalize(&words(rng, 5, 12))));
                }
                out.push('\n');
            }
            _ => out.push_str(&format!("> {}.\n\n", capitalize(&words(rng, 10, 20)))),
        }
        paragraph(rng, &mut out, 3, i);
    }
    out
}

fn paragraph(rng: &mut StdRng, out: &mut String, sentences: usize, i: usize) {
    for s in 0..sentences + rng.random_range(0..3) {
        let mut sentence = capitalize(&words(rng, 8, 20));
        match rng.random_range(0..6) {
            0 => sentence.push_str(&format!(" with **{}**", words(rng, 1, 2))),
            1 => sentence.push_str(&format!(" and *{}*", words(rng, 1, 3))),
            2 => sentence.push_str(&format!(
                " (see [{}](https://example.org/{}/{i}-{s}))",
                words(rng, 2, 3),
                words(rng, 1, 1)
            )),
            _ => {}
        }
        out.push_str(&sentence);
        out.push_str(". ");
    }
    out.push_str("\n\n");
}

fn words(rng: &mut StdRng, min: usize, max: usize) -> String {
    static POOL: OnceLock<Vec<&str>> = OnceLock::new();
    let pool = POOL.get_or_init(|| WORDS.split_whitespace().collect());
    let n = rng.random_range(min..=max);
    (0..n)
        .map(|_| pool[rng.random_range(0..pool.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
