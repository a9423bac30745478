//! The navigation matrix of a hand-written `INDEX.md`: tables under headings that contain
//! "By Persona" or "By Task", carried into `INDEX.json` so programs can use them.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

use crate::analyse::{markdown, LinkKind};
use crate::resolve::resolve;

/// One navigation table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavTable {
    /// The heading the table sits under.
    pub heading: String,
    /// One object per row, keyed by the table's header cells.
    pub rows: Vec<BTreeMap<String, NavCell>>,
}

/// One cell of a navigation table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavCell {
    /// The cell as plain text.
    pub text: String,
    /// Root-relative paths of the docs the cell links to.
    pub docs: Vec<String>,
}

/// Whether a heading introduces a navigation table.
fn is_navigation_heading(heading: &str) -> bool {
    let h = heading.to_lowercase();
    h.contains("by persona") || h.contains("by task")
}

/// Extracts the navigation tables from the hand-written text of an `INDEX.md` that lives in the
/// root-relative folder `index_dir`.
pub fn extract(text: &str, index_dir: &str) -> Vec<NavTable> {
    let mut tables = Vec::new();
    let mut heading: Option<String> = None;
    let mut in_heading = false;
    let mut table: Option<NavTable> = None;
    let mut header: Vec<String> = Vec::new();
    let mut row: Vec<NavCell> = Vec::new();
    let mut cell: Option<NavCell> = None;

    for event in Parser::new_ext(text, markdown::parser_options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Start(Tag::Table(_)) => {
                let under = heading.as_deref().map(markdown::collapse_whitespace);
                if let Some(h) = under.filter(|h| is_navigation_heading(h)) {
                    table = Some(NavTable {
                        heading: h,
                        rows: Vec::new(),
                    });
                    header.clear();
                }
            }
            Event::End(TagEnd::Table) => tables.extend(table.take()),
            Event::End(TagEnd::TableHead) => {
                header = row.drain(..).map(|c| c.text).collect();
            }
            Event::Start(Tag::TableRow) => row.clear(),
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = table.as_mut() {
                    let cells = row.drain(..);
                    let obj = header.iter().cloned().zip(cells).collect();
                    t.rows.push(obj);
                }
            }
            Event::Start(Tag::TableCell) if table.is_some() => {
                cell = Some(NavCell {
                    text: String::new(),
                    docs: Vec::new(),
                })
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(mut c) = cell.take() {
                    c.text = markdown::collapse_whitespace(&c.text);
                    row.push(c);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                if let Some(c) = cell.as_mut() {
                    if LinkKind::of(&dest_url) == LinkKind::File {
                        let r = resolve(index_dir, &dest_url);
                        if !r.outside_root && !c.docs.contains(&r.path) {
                            c.docs.push(r.path);
                        }
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    heading.get_or_insert_with(String::new).push_str(&t);
                }
                if let Some(c) = cell.as_mut() {
                    c.text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persona_and_task_tables() {
        let text = "## Quick Navigation By Persona\n\n\
                    | Persona | Start here |\n|---|---|\n\
                    | **AI Agent** | This INDEX → [CLAUDE.md](../CLAUDE.md) (~1,200 tokens) |\n\
                    | Operator | [Ops](ops/RUN.md#top) and [Arch](ARCH.md) |\n\n\
                    ## Other table\n\n| a | b |\n|---|---|\n| [x](x.md) | y |\n\n\
                    ### By Task\n\n| Task | Docs |\n|--|--|\n| Deploy | [D](deploy.md) |\n";
        let tables = extract(text, "docs");
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].heading, "Quick Navigation By Persona");
        let agent = &tables[0].rows[0];
        assert_eq!(agent["Persona"].text, "AI Agent");
        assert_eq!(agent["Start here"].docs, ["CLAUDE.md"]);
        assert_eq!(
            tables[0].rows[1]["Start here"].docs,
            ["docs/ops/RUN.md", "docs/ARCH.md"]
        );
        assert_eq!(tables[1].rows[0]["Docs"].docs, ["docs/deploy.md"]);
    }
}
