//! One pass of pulldown-cmark over a document body: headings, links, explicit anchors and the
//! first paragraph. Offsets are byte offsets into the text given.

use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// A heading as found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeading {
    pub level: u8,
    /// Plain text for people: inline markup removed, soft breaks as spaces, and a trailing
    /// `{#id}` attribute block dropped.
    pub text: String,
    /// Plain text as GitHub slugs it: text, code, image alt text and inline HTML.
    pub slug_text: String,
    /// An explicit id from a trailing `{#id}` (or `{: #id}`) attribute block.
    pub explicit_id: Option<String>,
    /// Byte offset where the heading starts.
    pub offset: usize,
}

/// A link or image destination as found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLink {
    pub target: String,
    pub image: bool,
    /// Byte offset of the link's first character (`[`, `!`, `<`, or the HTML attribute).
    pub offset: usize,
}

/// What one Markdown pass finds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outline {
    pub headings: Vec<RawHeading>,
    pub links: Vec<RawLink>,
    /// `id`/`name` attributes of HTML elements, which are link targets too.
    pub html_anchors: Vec<String>,
    /// The first paragraph with any text, as plain text on one line.
    pub first_paragraph: Option<String>,
}

/// The Markdown extensions docidx parses with (GitHub-flavoured).
pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_GFM
}

static ATTRIBUTE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*\{:?\s*#([^\s}]+)[^}]*\}\s*$").expect("the pattern is a literal")
});

static HTML_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<(a|img|source|iframe)\b[^>]*?\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
        .expect("the pattern is a literal")
});

static HTML_ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<[a-z][a-z0-9-]*\b[^>]*?\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
        .expect("the pattern is a literal")
});

/// Parses `text` once and collects its outline.
pub fn outline(text: &str) -> Outline {
    let mut out = Outline::default();
    let mut heading: Option<RawHeading> = None;
    let mut paragraph: Option<String> = None;
    let mut image_depth = 0usize;

    for (event, range) in Parser::new_ext(text, parser_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some(RawHeading {
                    level: level as u8,
                    text: String::new(),
                    slug_text: String::new(),
                    explicit_id: None,
                    offset: range.start,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(mut h) = heading.take() {
                    if let Some(caps) = ATTRIBUTE_ID.captures(&h.text) {
                        h.explicit_id = Some(caps[1].to_string());
                        let cut = caps.get(0).map_or(h.text.len(), |m| m.start());
                        h.text.truncate(cut);
                    }
                    h.text = collapse_whitespace(&h.text);
                    out.headings.push(h);
                }
            }
            Event::Start(Tag::Paragraph) if out.first_paragraph.is_none() && heading.is_none() => {
                paragraph = Some(String::new());
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some(p) = paragraph.take() {
                    let p = collapse_whitespace(&p);
                    if p.chars().any(char::is_alphanumeric) {
                        out.first_paragraph = Some(p);
                    }
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let target = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.to_string(),
                };
                out.links.push(RawLink {
                    target,
                    image: false,
                    offset: range.start,
                });
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                image_depth += 1;
                out.links.push(RawLink {
                    target: dest_url.to_string(),
                    image: true,
                    offset: range.start,
                });
            }
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.text.push_str(&t);
                    h.slug_text.push_str(&t);
                }
                if let Some(p) = paragraph.as_mut() {
                    if image_depth == 0 {
                        p.push_str(&t);
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(h) = heading.as_mut() {
                    h.text.push(' ');
                    h.slug_text.push('\n');
                }
                if let Some(p) = paragraph.as_mut() {
                    p.push(' ');
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                if let Some(h) = heading.as_mut() {
                    h.slug_text.push_str(&html);
                }
                scan_html(&html, range.start, text, &mut out);
            }
            _ => {}
        }
    }
    out
}

/// Collects `href`/`src` links and `id`/`name` anchors from raw HTML found at `base`.
fn scan_html(html: &str, base: usize, text: &str, out: &mut Outline) {
    // Offsets inside the event map to the source only when the event is a verbatim slice.
    let verbatim = text.get(base..base + html.len()) == Some(html);
    for caps in HTML_LINK.captures_iter(html) {
        let value = caps
            .get(2)
            .or_else(|| caps.get(3))
            .expect("one branch matched");
        let offset = if verbatim { base + value.start() } else { base };
        out.links.push(RawLink {
            target: decode_html_entities(value.as_str()),
            image: !caps[1].eq_ignore_ascii_case("a"),
            offset,
        });
    }
    for caps in HTML_ANCHOR.captures_iter(html) {
        let value = caps
            .get(1)
            .or_else(|| caps.get(2))
            .expect("one branch matched");
        out.html_anchors.push(decode_html_entities(value.as_str()));
    }
}

/// The few entities that appear in URLs written in HTML attributes.
fn decode_html_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
}

/// Trims and turns every run of whitespace into one space.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_atx_and_setext_with_markup() {
        let o = outline("# The `Option<T>` *type*\n\nSetext\nheading\n---\n\n## Custom {#my-id}\n");
        let texts: Vec<_> = o
            .headings
            .iter()
            .map(|h| (h.level, h.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                (1, "The Option<T> type"),
                (2, "Setext heading"),
                (2, "Custom")
            ]
        );
        assert_eq!(o.headings[1].slug_text, "Setext\nheading");
        assert_eq!(o.headings[2].explicit_id.as_deref(), Some("my-id"));
        assert_eq!(o.headings[2].slug_text, "Custom {#my-id}");
    }

    #[test]
    fn links_images_autolinks_and_html() {
        let text = "See [a](a.md#x), ![img](p.png) and <https://x.io>.\n\n\
                    [ref]: other.md\n\nUse [ref].\n\n<a href=\"h.md\">h</a> <img src='i.png'>\n\n\
                    ```\n[not](a-link.md)\n```\n";
        let o = outline(text);
        let targets: Vec<_> = o
            .links
            .iter()
            .map(|l| (l.target.as_str(), l.image))
            .collect();
        assert_eq!(
            targets,
            [
                ("a.md#x", false),
                ("p.png", true),
                ("https://x.io", false),
                ("other.md", false),
                ("h.md", false),
                ("i.png", true)
            ]
        );
        assert_eq!(&text[o.links[4].offset..o.links[4].offset + 4], "h.md");
    }

    #[test]
    fn html_anchors() {
        let o = outline("<a id=\"top\"></a>\n\n## X <a name='y'></a>\n");
        assert_eq!(o.html_anchors, ["top", "y"]);
        assert_eq!(o.headings[0].slug_text, "X <a name='y'></a>");
    }

    #[test]
    fn first_paragraph_skips_badges_and_headings() {
        let o = outline("# T\n\n[![Build](b.svg)](ci)\n\nThe *real*\nsummary.\n\nMore.\n");
        assert_eq!(o.first_paragraph.as_deref(), Some("The real summary."));
    }
}
