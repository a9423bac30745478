//! Analysing one document: a pure function from its bytes to a [`Doc`].

pub mod front_matter;
pub mod lines;
pub mod markdown;
pub mod slug;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Encoding;
use crate::error::Warning;
use crate::tokens::SpanCounts;
use lines::LineIndex;

/// Everything docidx knows about one document. This is the object written into `INDEX.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// Relative to the root, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub lines: usize,
    /// SHA-256 of the raw bytes, lower-case hex.
    pub sha256: String,
    /// Exact token count for the index's encoding.
    pub tokens: usize,
    /// The legacy estimate `int(whitespace-separated words × 1.3)`.
    pub words: usize,
    pub title: String,
    pub summary: String,
    /// YAML or TOML front matter as JSON; `null` when there is none or it is malformed.
    pub front_matter: serde_json::Value,
    pub sections: Vec<Section>,
    pub links: Vec<Link>,
    /// Explicit anchors (`<a id>`, `<a name>`, `{#id}`) besides the heading anchors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<String>,
    /// Problems found while analysing (invalid UTF-8, malformed front matter), kept so a later
    /// run that reuses this analysis still reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<DocWarning>,
}

/// A warning about one document, as kept in `INDEX.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocWarning {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl Doc {
    /// The document's warnings, with its path.
    pub fn path_warnings(&self) -> impl Iterator<Item = Warning> + '_ {
        self.warnings.iter().map(|w| Warning {
            path: self.path.clone(),
            line: w.line,
            message: w.message.clone(),
        })
    }
}

/// A heading and the lines it governs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub level: u8,
    pub heading: String,
    /// The anchor GitHub gives the heading (unique within the doc).
    pub anchor: String,
    /// 1-based, inclusive: from the heading up to the next heading of the same or higher level.
    pub start_line: usize,
    pub end_line: usize,
    /// Tokens of exactly those lines.
    pub tokens: usize,
}

/// A link or image in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The destination as written (after Markdown unescaping).
    pub target: String,
    /// 1-based position of the link's first character.
    pub line: usize,
    pub column: usize,
    pub kind: LinkKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image: bool,
}

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A relative path, maybe with `#fragment`: another file of the tree.
    File,
    /// `#fragment`: a heading or anchor of the same document.
    Anchor,
    /// `http:`, `https:`, `ftp:` or `//host`: not checked offline.
    External,
    /// Anything else: `mailto:`, `tel:`, `data:`, an empty target…
    Other,
}

impl LinkKind {
    /// Classifies a link target.
    pub fn of(target: &str) -> LinkKind {
        let t = target.trim();
        if t.is_empty() {
            return LinkKind::Other;
        }
        if t.starts_with('#') {
            return LinkKind::Anchor;
        }
        if t.starts_with("//") {
            return LinkKind::External;
        }
        if let Some(scheme) = url_scheme(t) {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" | "ftp" | "ftps" => LinkKind::External,
                _ => LinkKind::Other,
            };
        }
        LinkKind::File
    }
}

/// The scheme of an absolute URL (`https` in `https://…`), if `t` has one. One-letter schemes
/// are Windows drive letters, not schemes.
fn url_scheme(t: &str) -> Option<&str> {
    let colon = t.find(':')?;
    let scheme = &t[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (scheme.len() > 1
        && first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Settings that change the result of an analysis (part of the key for reusing one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Settings {
    pub encoding: Encoding,
    pub summary_chars: usize,
}

/// Analyses one document. `path` is its path relative to the root (`/`-separated); `bytes` its
/// raw content. Never fails: invalid UTF-8 and malformed front matter give warnings.
pub fn analyse(path: &str, bytes: &[u8], settings: &Settings) -> (Doc, Vec<Warning>) {
    analyse_hashed(path, bytes, sha256_hex(bytes), settings)
}

/// [`analyse`] for a caller that has already hashed the bytes (`sha256` is their hex digest).
pub fn analyse_hashed(
    path: &str,
    bytes: &[u8],
    sha256: String,
    settings: &Settings,
) -> (Doc, Vec<Warning>) {
    analyse_inner(path, bytes, sha256, settings, true)
}

/// [`analyse`] without counting tokens (every count is 0): headings, anchors and links only,
/// for checking links where counts are not needed.
pub fn analyse_structure(path: &str, bytes: &[u8], settings: &Settings) -> Doc {
    analyse_inner(path, bytes, String::new(), settings, false).0
}

fn analyse_inner(
    path: &str,
    bytes: &[u8],
    sha256: String,
    settings: &Settings,
    count_tokens: bool,
) -> (Doc, Vec<Warning>) {
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(e) => {
            warnings.push(Warning::new(
                path,
                format!(
                    "invalid UTF-8 at byte {}; tokens are counted on the text with U+FFFD replacements",
                    e.valid_up_to()
                ),
            ));
            String::from_utf8_lossy(bytes)
        }
    };
    let text: &str = &text;
    let line_index = LineIndex::new(text);

    // The BOM is counted as a token (tiktoken counts it) but is not part of the Markdown.
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let front = front_matter::split(&text[bom..]);
    let body_start = bom + front.as_ref().map_or(0, |f| f.body_start);
    let front_matter = match front.map(|f| f.value) {
        None => serde_json::Value::Null,
        Some(Ok(value)) => value,
        Some(Err(malformed)) => {
            // Lines of the front matter are lines of the file (a BOM does not add one).
            let line = malformed.line.unwrap_or(1);
            let message = format!("malformed front matter, not used: {}", malformed.message);
            warnings.push(Warning::at_line(path, line, message));
            serde_json::Value::Null
        }
    };

    // The body is parsed with `\n` line breaks; offsets are mapped back to `text`.
    let lf = lines::LfText::new(text);
    let lf_body_start = lf.normalized(body_start);
    let mut outline = markdown::outline(&lf.text[lf_body_start..]);
    for h in &mut outline.headings {
        h.offset = lf.original(lf_body_start + h.offset) - body_start;
    }
    for l in &mut outline.links {
        l.offset = lf.original(lf_body_start + l.offset) - body_start;
    }

    // Sections: each heading runs to the line before the next heading of the same or higher level.
    let heading_lines: Vec<usize> = outline
        .headings
        .iter()
        .map(|h| line_index.line(body_start + h.offset))
        .collect();
    let cuts: Vec<usize> = heading_lines.iter().map(|&l| line_index.start(l)).collect();
    let counts = count_tokens.then(|| SpanCounts::new(settings.encoding, text, &cuts));
    let last_line = line_index.count();
    let mut slugger = slug::Slugger::default();
    let mut sections = Vec::with_capacity(outline.headings.len());
    for (i, h) in outline.headings.iter().enumerate() {
        let start_line = heading_lines[i];
        let next = outline.headings[i + 1..]
            .iter()
            .zip(&heading_lines[i + 1..])
            .find(|(other, _)| other.level <= h.level)
            .map(|(_, &line)| line);
        let end_line = next.map_or(last_line, |l| l - 1).max(start_line);
        let tokens = counts.as_ref().map_or(0, |c| {
            c.span(
                settings.encoding,
                text,
                line_index.start(start_line),
                line_index.start(end_line + 1),
            )
        });
        sections.push(Section {
            level: h.level,
            heading: h.text.clone(),
            anchor: slugger.slug(&h.slug_text),
            start_line,
            end_line,
            tokens,
        });
    }

    let links = outline
        .links
        .iter()
        .map(|l| {
            let (line, column) = line_index.line_col(text, body_start + l.offset);
            Link {
                kind: LinkKind::of(&l.target),
                target: l.target.clone(),
                line,
                column,
                image: l.image,
            }
        })
        .collect();

    let mut anchors: Vec<String> = outline
        .headings
        .iter()
        .filter_map(|h| h.explicit_id.clone())
        .collect();
    anchors.extend(outline.html_anchors.iter().cloned());
    anchors.sort();
    anchors.dedup();

    let fm_string = |key: &str| {
        let value = front_matter.get(key).and_then(|v| match v {
            serde_json::Value::String(s) => Some(markdown::collapse_whitespace(s)),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        value.filter(|s| !s.is_empty())
    };
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let title = fm_string("title")
        .or_else(|| {
            outline
                .headings
                .iter()
                .find(|h| h.level == 1 && !h.text.is_empty())
                .map(|h| h.text.clone())
        })
        .unwrap_or_else(|| file_name.to_string());
    let summary = fm_string("description")
        .or_else(|| fm_string("summary"))
        .or(outline.first_paragraph)
        .map(|s| shorten(&s, settings.summary_chars))
        .unwrap_or_default();

    let doc = Doc {
        path: path.to_string(),
        bytes: bytes.len() as u64,
        lines: last_line,
        sha256,
        tokens: counts.as_ref().map_or(0, SpanCounts::total),
        // Not needed where counts are not (the link rules): 0 like the counts.
        words: if count_tokens { legacy_words(text) } else { 0 },
        title,
        summary,
        front_matter,
        sections,
        links,
        anchors,
        warnings: warnings
            .iter()
            .map(|w| DocWarning {
                line: w.line,
                message: w.message.clone(),
            })
            .collect(),
    };
    (doc, warnings)
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::output::hex(&sha256(bytes))
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The old scripts' estimate: `int(len(text.split()) * 1.3)`, splitting on what Python calls
/// whitespace (Unicode White_Space plus the separators U+001C..U+001F).
pub fn legacy_words(text: &str) -> usize {
    // Byte by byte: only four lead bytes can start a non-ASCII space, so the rest need no
    // decoding (this was a sixth of the time spent analysing a doc beside counting its tokens).
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let (mut words, mut in_word, mut i) = (0usize, false, 0);
    while i < bytes.len() {
        let (space, width) = match bytes[i] {
            b'\t'..=b'\r' | 0x1c..=0x20 => (true, 1),
            // U+0085, U+00A0
            0xc2 => (matches!(at(i + 1), 0x85 | 0xa0), 2),
            // U+1680
            0xe1 => ((at(i + 1), at(i + 2)) == (0x9a, 0x80), 3),
            // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
            0xe2 => (
                matches!(
                    (at(i + 1), at(i + 2)),
                    (0x80, 0x80..=0x8a | 0xa8 | 0xa9 | 0xaf) | (0x81, 0x9f)
                ),
                3,
            ),
            // U+3000
            0xe3 => ((at(i + 1), at(i + 2)) == (0x80, 0x80), 3),
            _ => (false, 1),
        };
        if space {
            in_word = false;
        } else if !in_word {
            in_word = true;
            words += 1;
        }
        i += width;
    }
    (words as f64 * 1.3) as usize
}

/// Cuts `s` at a word boundary to at most about `max` characters, adding `…` when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let limit = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..limit];
    let cut = match head.rfind(' ') {
        Some(i) if i > limit / 2 => &head[..i],
        _ => head,
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—(".contains(c));
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            encoding: Encoding::O200kBase,
            summary_chars: 160,
        }
    }

    #[test]
    fn sections_nest_and_sum() {
        let text = "# Top\n\nintro\n\n## A\n\na\n\n### A1\n\nx\n\n## B\n\nb\n\n## A\n";
        let (doc, warnings) = analyse("d/x.md", text.as_bytes(), &settings());
        assert!(warnings.is_empty());
        let s: Vec<_> = doc
            .sections
            .iter()
            .map(|s| (s.anchor.as_str(), s.start_line, s.end_line))
            .collect();
        assert_eq!(
            s,
            [
                ("top", 1, 17),
                ("a", 5, 12),
                ("a1", 9, 12),
                ("b", 13, 16),
                ("a-1", 17, 17)
            ]
        );
        assert_eq!(doc.sections[0].tokens, doc.tokens);
        assert_eq!(
            doc.sections[1].tokens
                + doc.sections[3].tokens
                + doc.sections[4].tokens
                + crate::tokens::count(Encoding::O200kBase, "# Top\n\nintro\n\n"),
            doc.tokens
        );
        assert_eq!(doc.lines, 17);
        assert_eq!(doc.title, "Top");
        assert_eq!(doc.summary, "intro");
    }

    #[test]
    fn front_matter_title_and_description_win() {
        let text = "---\ntitle: FM Title\ndescription: From front matter.\n---\n# H1\n\nPara.\n";
        let (doc, _) = analyse("a.md", text.as_bytes(), &settings());
        assert_eq!(doc.title, "FM Title");
        assert_eq!(doc.summary, "From front matter.");
        assert_eq!(doc.sections[0].start_line, 5);
        assert_eq!(doc.front_matter["title"], "FM Title");
    }

    #[test]
    fn bom_crlf_and_invalid_utf8() {
        let mut bytes = b"\xef\xbb\xbf# Title\r\n\r\nText \xff here.\r\n".to_vec();
        let (doc, warnings) = analyse("a.md", &bytes, &settings());
        assert_eq!(doc.title, "Title");
        assert_eq!(doc.lines, 3);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("byte 19"), "{}", warnings[0]);
        assert_eq!(doc.sha256, sha256_hex(&bytes));
        bytes.clear();
        let (empty, _) = analyse("dir/empty.md", &bytes, &settings());
        assert_eq!(
            (empty.title.as_str(), empty.tokens, empty.lines),
            ("empty.md", 0, 0)
        );
    }

    #[test]
    fn link_kinds_and_positions() {
        let text = "x [a](b.md) [c](#d) [e](https://f) [g](mailto:h) [i](C:/x)\n";
        let (doc, _) = analyse("a.md", text.as_bytes(), &settings());
        let kinds: Vec<_> = doc.links.iter().map(|l| (l.kind, l.column)).collect();
        assert_eq!(
            kinds,
            [
                (LinkKind::File, 3),
                (LinkKind::Anchor, 13),
                (LinkKind::External, 21),
                (LinkKind::Other, 36),
                (LinkKind::File, 50)
            ]
        );
    }

    #[test]
    fn shorten_at_word_boundary() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 10), "one two…");
        assert_eq!(shorten("abcdefghijkl", 5), "abcde…");
    }

    #[test]
    fn legacy_words_matches_python() {
        assert_eq!(legacy_words("a b\u{a0}c\u{1f}d  e\n"), 6);
        assert_eq!(legacy_words(""), 0);
    }

    /// Python's `str.split()` whitespace, spelled out by character.
    fn python_words(text: &str) -> usize {
        let words = text
            .split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
            .filter(|w| !w.is_empty())
            .count();
        (words as f64 * 1.3) as usize
    }

    #[test]
    fn legacy_words_splits_at_every_unicode_space() {
        let spaces: Vec<char> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(c))
            .collect();
        assert_eq!(spaces.len(), 29);
        for &space in &spaces {
            let text = format!("a{space}b{space}{space}\u{e9}{space}");
            assert_eq!(legacy_words(&text), 3, "{space:?}");
        }
        // Neighbours of the spaces' bytes are not spaces.
        for c in [
            '\u{84}', '\u{a1}', '\u{1681}', '\u{200b}', '\u{2027}', '\u{202a}', '\u{2060}',
            '\u{3001}',
        ] {
            assert_eq!(legacy_words(&format!("a{c}b")), 1, "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn legacy_words_agrees_with_splitting_by_char(text in "(\\PC|\\s|[\u{1c}-\u{1f}\u{85}\u{a0}\u{1680}\u{2000}-\u{200b}\u{2028}-\u{202f}\u{205f}\u{3000}])*") {
            proptest::prop_assert_eq!(legacy_words(&text), python_words(&text));
        }
    }
}
