//! Token claims in hand-written Markdown: `[OPERATIONS.md](../OPERATIONS.md) (1,528 tokens)`.
//!
//! A pure function from text to the claims it makes, with the byte range of each claimed number,
//! so `update-tokens` can replace exactly those bytes and `validate` can report stale ones.
//!
//! What counts as a claim:
//! - A parenthesis right after a Markdown link holding a number and a unit: `(N tokens)`,
//!   `(~N tokens)`, `(N,NNN tokens)`, `(N tok)`, `( ~ N Tokens )`. The unit is `tokens`, `token`
//!   or `tok` in any case; the number is plain digits or digits grouped by commas in threes.
//!   Text may follow the claim (`(1,528 tokens) — summary`).
//! - Between the link and the `(` only spaces and tabs, and at most one line break, as long as
//!   the claim stays in the link's block (heading, paragraph, list item or table cell).
//! - Links are found by pulldown-cmark, so links in code blocks and code spans are ignored and
//!   inline, reference (`[text][ref]`, `[ref][]`, `[ref]`) and autolinks (`<https://…>`) all
//!   work. A claim after an autolink or an external link is found like any other (its target is
//!   then not a file of the tree, and the caller reports it). A linked image
//!   (`[![badge](b.svg)](doc.md) (5 tokens)`) is a link to `doc.md`.
//! - A bare image (`![diagram](d.png) (5 tokens)`) is not a link, so it owns no claim: token
//!   counts of pictures mean nothing. Links written as HTML (`<a href>`) are not looked at.

use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};
use regex::Regex;

use crate::analyse::lines::{LfText, LineIndex};
use crate::analyse::markdown;
use crate::render::thousands;

/// A token claim such as `(~1,528 tokens)` right after a Markdown link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The link destination as written (after Markdown unescaping), e.g. `../OPERATIONS.md#x`.
    pub target: String,
    /// 1-based line of the link's first character (`[` or `<`).
    pub link_line: usize,
    /// 1-based column, in characters, of the link's first character.
    pub link_column: usize,
    /// Byte range in the text of the number only (`1,528`), without the `~` or the unit.
    pub number: Range<usize>,
    /// The claimed number.
    pub value: usize,
    /// Whether the claim had a `~`.
    pub approximate: bool,
    /// Whether the number had thousands separators (`1,528`).
    pub separators: bool,
    /// 1-based line of the number.
    pub line: usize,
    /// 1-based column, in characters, of the number.
    pub column: usize,
}

/// The claim text right after a link: optional blanks (one line break at most), then
/// `( ~ N unit )`.
static CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[ \t]*(?:\r?\n[ \t]*)?\([ \t]*(~)?[ \t]*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)[ \t]*(?i:tokens?|tok)[ \t]*\)",
    )
    .expect("the pattern is a literal")
});

/// The token claims of `text` outside the byte range `generated` (a generated region whose
/// counts belong to `generate`), in text order.
///
/// Every claim has a digit, blanks and then `tok` in the text around it: when no such run is
/// outside `generated`, nothing is parsed (a generated `INDEX.md` can be megabytes).
pub fn find_outside(text: &str, generated: Option<Range<usize>>) -> Vec<Claim> {
    static UNIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)[0-9][ \t]*tok").expect("the pattern is a literal"));
    let generated = generated.unwrap_or(0..0);
    let outside = [&text[..generated.start], &text[generated.end..]];
    if !outside.iter().any(|t| UNIT.is_match(t)) {
        return Vec::new();
    }
    find(text)
        .into_iter()
        .filter(|claim| !generated.contains(&claim.number.start))
        .collect()
}

/// Every token claim of `text`, in text order.
pub fn find(text: &str) -> Vec<Claim> {
    // Parsed with `\n` line breaks (see `LfText`); positions are mapped back to `text` below.
    let original = text;
    let lf = LfText::new(original);
    let text: &str = &lf.text;
    let lines = LineIndex::new(original);
    let mut claims = Vec::new();
    // Ranges of the open blocks that can hold inline text; a claim must end inside the innermost.
    let mut blocks: Vec<Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(text, markdown::parser_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::TableCell | Tag::Item) => {
                blocks.push(range)
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::TableCell | TagEnd::Item,
            ) => {
                blocks.pop();
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let block_end = blocks.last().map_or(text.len(), |b| b.end);
                // pulldown-cmark ends a collapsed reference link (`[ref][]`) before its `[]`.
                let mut range = range;
                if matches!(link_type, LinkType::Collapsed | LinkType::CollapsedUnknown)
                    && text[range.end..].starts_with("[]")
                {
                    range.end += 2;
                }
                let target = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.to_string(),
                };
                if let Some(claim) = claim_after(text, range, block_end, target) {
                    claims.push(claim.in_original(original, &lf, &lines));
                }
            }
            _ => {}
        }
    }
    claims
}

impl Claim {
    /// The claim with its range, lines and columns in `original`, of which `lf` is the parsed
    /// form and `lines` the line index (the claim's `link_line` holds its link's start offset
    /// in `lf`, see [`claim_after`]).
    fn in_original(mut self, original: &str, lf: &LfText, lines: &LineIndex) -> Claim {
        self.number = lf.original(self.number.start)..lf.original(self.number.end);
        (self.line, self.column) = lines.line_col(original, self.number.start);
        (self.link_line, self.link_column) = lines.line_col(original, lf.original(self.link_line));
        self
    }
}

/// The claim right after the link at `link` (byte range of the whole link), if there is one
/// that ends by `block_end`. Positions are filled in by [`Claim::in_original`]: `number` is the
/// range in `text`, `link_line` the link's start offset in `text`.
fn claim_after(text: &str, link: Range<usize>, block_end: usize, target: String) -> Option<Claim> {
    let rest = text.get(link.end..)?;
    let caps = CLAIM.captures(rest)?;
    let whole = caps.get(0).expect("group 0 is the whole match");
    if link.end + whole.end() > block_end {
        return None;
    }
    let digits = caps.get(2).expect("the number group is not optional");
    let separators = digits.as_str().contains(',');
    let value: usize = digits.as_str().replace(',', "").parse().ok()?;
    let number = link.end + digits.start()..link.end + digits.end();
    Some(Claim {
        target,
        link_line: link.start,
        link_column: 0,
        number,
        value,
        approximate: caps.get(1).is_some(),
        separators,
        line: 0,
        column: 0,
    })
}

/// `n` written in the claim's own style: with thousands separators if the claimed number had
/// them (`1,528` → `2,540`, `1,200` → `950`), as plain digits otherwise (`950` → `1050`). The
/// `~` and the unit are outside [`Claim::number`], so they stay as written.
pub fn format_count(claim: &Claim, n: usize) -> String {
    if claim.separators {
        thousands(n)
    } else {
        n.to_string()
    }
}

/// `text` with the number of every claim in `new` replaced (claims in text order, each with the
/// replacement number already formatted). Every other byte is kept.
pub fn replace_numbers(text: &str, new: &[(&Claim, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 8 * new.len());
    let mut at = 0;
    for (claim, number) in new {
        out.push_str(&text[at..claim.number.start]);
        out.push_str(number);
        at = claim.number.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (target, value, approximate, separators, number as written) of each claim.
    fn summary(text: &str) -> Vec<(String, usize, bool, bool, String)> {
        find(text)
            .into_iter()
            .map(|c| {
                let written = text[c.number.clone()].to_string();
                (c.target, c.value, c.approximate, c.separators, written)
            })
            .collect()
    }

    fn claim(
        target: &str,
        value: usize,
        approx: bool,
        sep: bool,
        written: &str,
    ) -> (String, usize, bool, bool, String) {
        (target.into(), value, approx, sep, written.into())
    }

    #[test]
    fn claims_outside_a_generated_range() {
        let before = "[a](a.md) ( ~ 1,528 Tokens )\n\n";
        let generated = "[b](b.md) (20 tokens)\n\n";
        let after = "[c](c.md) (3 tok)\n";
        let text = format!("{before}{generated}{after}");
        let range = before.len()..before.len() + generated.len();
        let targets =
            |claims: Vec<Claim>| -> Vec<String> { claims.into_iter().map(|c| c.target).collect() };
        assert_eq!(
            targets(find_outside(&text, Some(range.clone()))),
            ["a.md", "c.md"]
        );
        assert_eq!(targets(find_outside(&text, None)), ["a.md", "b.md", "c.md"]);
        // Only the generated range has claims: nothing is parsed or found.
        let only = format!("intro\n\n{generated}outro\n");
        let range = 7..7 + generated.len();
        assert!(find_outside(&only, Some(range)).is_empty());
    }

    #[test]
    fn heading_with_separators() {
        let text = "#### [OPERATIONS.md](../OPERATIONS.md) (1,528 tokens)\n**Mission**: x\n";
        let claims = find(text);
        assert_eq!(claims.len(), 1);
        let c = &claims[0];
        assert_eq!(c.target, "../OPERATIONS.md");
        assert_eq!((c.link_line, c.link_column), (1, 6));
        assert_eq!(&text[c.number.clone()], "1,528");
        assert_eq!((c.value, c.approximate, c.separators), (1528, false, true));
        assert_eq!((c.line, c.column), (1, 41));
    }

    #[test]
    fn table_cells_with_tilde() {
        let text = "| Who | Start |\n|---|---|\n\
                    | **AI Agent** | This INDEX → [CLAUDE.md](../CLAUDE.md) (~1,200 tokens) | … |\n\
                    | Ops | [Run](ops/RUN.md) (~ 80 Tokens) |\n";
        assert_eq!(
            summary(text),
            [
                claim("../CLAUDE.md", 1200, true, true, "1,200"),
                claim("ops/RUN.md", 80, true, false, "80"),
            ]
        );
        let c = &find(text)[0];
        // Columns count characters, not bytes: `→` is one column.
        assert_eq!((c.line, c.column), (3, 59));
    }

    #[test]
    fn list_items_paragraphs_and_units() {
        let text =
            "- [a](a.md) (12 tok)\n- [b](b.md)(3 token)\n  - [c](c.md) ( 1528 TOKENS ) more\n\n\
                    See [d](d.md) (7 tokens) — summary, and [e](e.md).\n";
        assert_eq!(
            summary(text),
            [
                claim("a.md", 12, false, false, "12"),
                claim("b.md", 3, false, false, "3"),
                claim("c.md", 1528, false, false, "1528"),
                claim("d.md", 7, false, false, "7"),
            ]
        );
    }

    #[test]
    fn not_claims() {
        let text = "`[a](a.md) (5 tokens)`\n\n```\n[b](b.md) (5 tokens)\n```\n\n    [c](c.md) (5 tokens)\n\n\
                    [d](d.md) - (5 tokens)\n\n[e](e.md) (5 words)\n\n[f](f.md) (1,2345 tokens)\n\n\
                    [g](g.md) (5 tokens, roughly)\n\n![img](i.png) (5 tokens)\n\n[h](h.md) \\(5 tokens)\n\n\
                    [i](i.md) (12,34 tokens)\n\n[j (5 tokens)](j.md)\n\n[k](k.md) (١٢ tokens)\n";
        assert_eq!(summary(text), []);
    }

    #[test]
    fn reference_links_autolinks_and_linked_images() {
        let text = "[Ops][ops] (10 tokens), [ops][] (11 tokens), [ops] (12 tokens)\n\n\
                    <https://example.com/x.md> (13 tokens)\n\n[![badge](b.svg)](doc.md) (14 tokens)\n\n\
                    [t](<my doc.md> \"Title\") (15 tokens) <me@example.com> (16 tokens)\n\n\
                    [ops]: ops/RUN.md\n";
        assert_eq!(
            summary(text),
            [
                claim("ops/RUN.md", 10, false, false, "10"),
                claim("ops/RUN.md", 11, false, false, "11"),
                claim("ops/RUN.md", 12, false, false, "12"),
                claim("https://example.com/x.md", 13, false, false, "13"),
                claim("doc.md", 14, false, false, "14"),
                claim("my doc.md", 15, false, false, "15"),
                claim("mailto:me@example.com", 16, false, false, "16"),
            ]
        );
    }

    #[test]
    fn one_line_break_inside_the_block_only() {
        let text = "A [wrapped](w.md)\n(5 tokens) paragraph.\n\n# [h](h.md)\n(6 tokens)\n\n\
                    | x |\n|---|\n| [t](t.md) |\n| (7 tokens) |\n";
        assert_eq!(summary(text), [claim("w.md", 5, false, false, "5")]);
    }

    #[test]
    fn crlf_and_non_ascii() {
        let text = "# Überblick\r\n\r\n#### [Ä.md](docs/%C3%84.md) (~2,000 tokens)  \r\n| [x](x.yaml) (9 tok) |\r\n";
        let claims = find(text);
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[0].target, "docs/%C3%84.md");
        assert_eq!((claims[0].line, claims[0].column), (3, 31));
        assert_eq!(&text[claims[0].number.clone()], "2,000");
        assert_eq!(claims[1].line, 4);
        assert_eq!(&text[claims[1].number.clone()], "9");
    }

    #[test]
    fn lone_cr_is_a_line_break() {
        let text = "```\rcode\r```\r\r- [a](a.md)\r  (12 tokens)\r";
        assert_eq!(summary(text), [claim("a.md", 12, false, false, "12")]);
        assert_eq!(find(text)[0].line, 6);
        let crlf = text.replace('\r', "\r\n");
        let c = &find(&crlf)[0];
        assert_eq!((c.line, c.column, &crlf[c.number.clone()]), (6, 4, "12"));
        assert_eq!((c.link_line, c.link_column), (5, 3));
    }

    #[test]
    fn formats_in_the_claims_style_and_replaces_only_numbers() {
        let text = "[a](a.md) (~1,528 tokens) [b](b.md) (950 tokens) [c](c.md) (1,200 tok)\n";
        let claims = find(text);
        assert_eq!(format_count(&claims[0], 2540), "2,540");
        assert_eq!(format_count(&claims[0], 1_234_567), "1,234,567");
        assert_eq!(format_count(&claims[1], 1050), "1050");
        assert_eq!(format_count(&claims[2], 950), "950");
        let new: Vec<(&Claim, String)> = claims
            .iter()
            .zip([2540, 1050, 950])
            .map(|(c, n)| (c, format_count(c, n)))
            .collect();
        assert_eq!(
            replace_numbers(text, &new),
            "[a](a.md) (~2,540 tokens) [b](b.md) (1050 tokens) [c](c.md) (950 tok)\n"
        );
    }

    #[test]
    fn numbers_too_large_are_not_claims() {
        assert_eq!(summary("[a](a.md) (99999999999999999999999 tokens)\n"), []);
    }
}
