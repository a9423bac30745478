//! `llms.txt` in the llmstxt.org format: an H1 with the project name, a blockquote summary,
//! then one H2 section per folder of `- [title](path): summary (N tokens)`, and an `Optional`
//! section for the docs that config marks as optional.

use std::collections::BTreeMap;
use std::fmt::Write;

use globset::GlobSet;

use crate::analyse::Doc;
use crate::index::Index;
use crate::render::thousands;
use crate::resolve::{parent_dir, percent_encode_path, relative_link};

/// The file name, written beside `INDEX.md`.
pub const LLMS_TXT: &str = "llms.txt";

/// Renders `llms.txt`. Links are relative to `index_dir` (the root-relative output folder);
/// docs matching `optional` go to the `Optional` section.
pub fn render(
    index: &Index,
    index_dir: &str,
    name: &str,
    summary: &str,
    optional: &GlobSet,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", one_line(name));
    let _ = writeln!(out, "> {}\n", one_line(summary));
    let _ = writeln!(
        out,
        "{} docs, {} tokens in all ({}); counts are exact.\n",
        thousands(index.docs.len()),
        thousands(index.total_tokens()),
        index.encoding
    );
    let (optional_docs, main): (Vec<&Doc>, Vec<&Doc>) =
        index.docs.iter().partition(|d| optional.is_match(&d.path));
    let mut folders: BTreeMap<&str, Vec<&Doc>> = BTreeMap::new();
    for doc in main {
        folders.entry(parent_dir(&doc.path)).or_default().push(doc);
    }
    for (folder, docs) in folders {
        let heading = if folder.is_empty() { "Root" } else { folder };
        let _ = writeln!(out, "## {heading}\n");
        for doc in docs {
            entry(&mut out, doc, index_dir);
        }
        out.push('\n');
    }
    if !optional_docs.is_empty() {
        out.push_str("## Optional\n\n");
        for doc in optional_docs {
            entry(&mut out, doc, index_dir);
        }
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn entry(out: &mut String, doc: &Doc, index_dir: &str) {
    let link = percent_encode_path(&relative_link(index_dir, &doc.path));
    let title = one_line(&doc.title).replace(['[', ']'], "");
    let _ = write!(out, "- [{title}]({link})");
    if doc.summary.is_empty() {
        let _ = writeln!(out, " ({} tokens)", thousands(doc.tokens));
    } else {
        let _ = writeln!(
            out,
            ": {} ({} tokens)",
            one_line(&doc.summary),
            thousands(doc.tokens)
        );
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
