//! The rules about `INDEX.md`: `unindexed-doc`, `stale-tokens`, `stale-index`, `file-count`
//! and `index-budget`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use rayon::prelude::*;
use regex::Regex;

use super::links::{locate, Target};
use super::{Context, Finding, IndexFile, Rule};
use crate::analyse::lines::LineIndex;
use crate::analyse::{markdown, LinkKind};
use crate::generate::PreviousJson;
use crate::manifest::{self, Changes};
use crate::render::index_json::INDEX_JSON;
use crate::render::thousands;
use crate::tokens;

/// Runs the index rules; returns the findings and the coverage `(indexed, total)`.
pub(crate) fn check(ctx: &Context) -> (Vec<Finding>, Option<(usize, usize)>) {
    let Some(index) = ctx.index_file else {
        return (Vec::new(), None);
    };
    let mut findings = Vec::new();
    let coverage = unindexed_docs(ctx, index, &mut findings);
    stale_tokens(ctx, index, &mut findings);
    stale_index(ctx, index, &mut findings);
    file_counts(ctx, index, &mut findings);
    index_budget(ctx, index, &mut findings);
    (findings, Some(coverage))
}

/// `unindexed-doc`: docs that `INDEX.md` does not link to.
fn unindexed_docs(ctx: &Context, index: &IndexFile, out: &mut Vec<Finding>) -> (usize, usize) {
    // A generated region that is vouched for links every doc.
    let all_linked = ctx.vouched && index.generated_lines.is_some();
    let linked: BTreeSet<String> = index
        .doc
        .links
        .par_iter()
        .filter(|l| l.kind == LinkKind::File && !all_linked)
        .filter_map(|l| match locate(ctx, &index.rel, &l.target).0 {
            Target::Found { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    // Invalid globs were rejected when the run started.
    let excluded =
        crate::walk::glob_set(&ctx.config.validate.unindexed_exclude).unwrap_or_default();
    let mut total = 0;
    let mut indexed = 0;
    for doc in &ctx.index.docs {
        if doc.path == index.rel || excluded.is_match(&doc.path) {
            continue;
        }
        total += 1;
        if all_linked || linked.contains(&doc.path) {
            indexed += 1;
        } else {
            out.push(Finding::new(
                Rule::UnindexedDoc,
                &doc.path,
                1,
                1,
                format!("not linked from {}", index.rel),
            ));
        }
    }
    (indexed, total)
}

/// `stale-tokens`: claims such as `(1,528 tokens)` that are off from the linked file's count.
fn stale_tokens(ctx: &Context, index: &IndexFile, out: &mut Vec<Finding>) {
    let threshold = if ctx.options.exact {
        0.0
    } else {
        ctx.config.validate.stale_tokens_threshold
    };
    for claim in &index.claims {
        let Target::Found {
            path,
            is_dir: false,
        } = locate(ctx, &index.rel, &claim.target).0
        else {
            continue; // missing-doc or link-outside-root already reports it
        };
        let actual = match ctx.index.doc(&path) {
            Some(doc) => doc.tokens,
            None if std::fs::metadata(ctx.tree.path(&path))
                .is_ok_and(|m| m.len() > ctx.config.max_file_size) =>
            {
                continue; // over the size limit: not read, as in update-tokens
            }
            None => match crate::walk::read_regular(&ctx.tree.path(&path)) {
                Ok(bytes) => tokens::count(ctx.index.encoding, &String::from_utf8_lossy(&bytes)),
                Err(_) => continue,
            },
        };
        let off = claim.value.abs_diff(actual) as f64 / actual.max(1) as f64;
        if crate::update_tokens::is_off(claim.value, actual, threshold) {
            let text = &index.text[claim.number.clone()];
            out.push(
                Finding::new(
                    Rule::StaleTokens,
                    &index.rel,
                    claim.line,
                    claim.column,
                    format!(
                        "claims {} tokens for {}, which has {} ({:.0}% off; docidx update-tokens fixes it)",
                        text,
                        path,
                        thousands(actual),
                        off * 100.0
                    ),
                )
                .highlight(text),
            );
        }
    }
}

/// `stale-index`: `INDEX.json`, `.doc_hashes.json` or the generated part of `INDEX.md` no
/// longer match the tree.
fn stale_index(ctx: &Context, index: &IndexFile, out: &mut Vec<Finding>) {
    if ctx.fresh.is_some() {
        return;
    }
    // The docs are sorted by path, as a manifest is.
    let now = || {
        ctx.index
            .docs
            .iter()
            .map(|d| (d.path.as_str(), d.sha256.as_str()))
    };
    let layout = ctx.layout;
    let json_rel = layout.rel(INDEX_JSON);
    match ctx.previous_json {
        None | Some(PreviousJson::Missing) => {}
        Some(PreviousJson::Read { encoding, manifest }) => {
            if let Some(m) = describe(&Changes::between_sorted(
                manifest::borrowed(manifest),
                now(),
            )) {
                out.push(Finding::new(Rule::StaleIndex, &json_rel, 1, 1, m));
            } else if *encoding != ctx.index.encoding {
                let m = format!(
                    "counted with {encoding}, but the configured encoding is {}; run docidx generate",
                    ctx.index.encoding
                );
                out.push(Finding::new(Rule::StaleIndex, &json_rel, 1, 1, m));
            }
        }
        Some(PreviousJson::Unreadable) => out.push(Finding::new(
            Rule::StaleIndex,
            &json_rel,
            1,
            1,
            "is not an INDEX.json this docidx can read; run docidx generate".into(),
        )),
    }
    if let Ok(bytes) = crate::walk::read_regular(&layout.manifest) {
        let rel = layout.rel(manifest::MANIFEST_FILE);
        let then = manifest::parse_sorted(&bytes).unwrap_or_default();
        if let Some(m) = describe(&Changes::between_sorted(manifest::borrowed(&then), now())) {
            out.push(Finding::new(Rule::StaleIndex, &rel, 1, 1, m));
        }
    }
    if let (Some(plan), Some(lines)) = (ctx.plan, &index.generated_lines) {
        if plan.outputs[0].is_change() {
            // The begin marker's line.
            let line = (lines.start() - 1).max(1);
            let m = "the generated part is out of date; run docidx generate".to_string();
            out.push(Finding::new(Rule::StaleIndex, &index.rel, line, 1, m));
        }
    }
}

/// "2 docs added (a.md, b.md), 1 changed (c.md) since it was written; run docidx generate".
fn describe(changes: &Changes) -> Option<String> {
    if changes.is_empty() {
        return None;
    }
    let part = |n: &str, v: &[String]| {
        (!v.is_empty()).then(|| {
            let shown: Vec<&str> = v.iter().take(3).map(String::as_str).collect();
            let more = if v.len() > 3 {
                format!(", and {} more", v.len() - 3)
            } else {
                String::new()
            };
            format!("{} {n} ({}{more})", v.len(), shown.join(", "))
        })
    };
    let parts: Vec<String> = [
        part("added", &changes.added),
        part("removed", &changes.removed),
        part("changed", &changes.changed),
    ]
    .into_iter()
    .flatten()
    .collect();
    Some(format!(
        "docs {} since it was written; run docidx generate",
        parts.join(", ")
    ))
}

static FOLDER_CELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^`?\.?/?([\w.@-]+(?:/[\w.@-]+)*/)`?$").expect("the pattern is a literal")
});
static COUNT_CELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(~|≈|about |approx\.? )?(\d{1,3}(?:,\d{3})+|\d+)\+?(?:\s+\w+)?$")
        .expect("the pattern is a literal")
});

/// `file-count`: table rows such as `| argocd/applications/ | ~30 |` whose claimed number of
/// entries in the folder is off by more than the tolerance.
fn file_counts(ctx: &Context, index: &IndexFile, out: &mut Vec<Finding>) {
    // The generated region has no tables: without a `|` outside it there is nothing to parse
    // (a generated INDEX.md can be megabytes).
    if !index.hand_written().iter().any(|t| t.contains('|')) {
        return;
    }
    let lines = LineIndex::new(&index.text);
    let tolerance = ctx.config.validate.file_count_tolerance;
    let mut row: Vec<(String, usize)> = Vec::new();
    let mut cell: Option<(String, usize)> = None;
    let mut in_table = false;
    for (event, range) in
        Parser::new_ext(&index.text, markdown::parser_options()).into_offset_iter()
    {
        match event {
            Event::Start(Tag::Table(_)) => in_table = true,
            Event::End(TagEnd::Table) => in_table = false,
            Event::Start(Tag::TableRow) | Event::Start(Tag::TableHead) => row.clear(),
            Event::Start(Tag::TableCell) if in_table => cell = Some((String::new(), range.start)),
            Event::End(TagEnd::TableCell) => row.extend(cell.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((text, _)) = cell.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::TableRow) => {
                let folder = row
                    .iter()
                    .find_map(|(t, _)| FOLDER_CELL.captures(t.trim()).map(|c| c[1].to_string()));
                let count = row.iter().find_map(|(t, offset)| {
                    let caps = COUNT_CELL.captures(t.trim())?;
                    Some((
                        caps[2].replace(',', "").parse::<usize>().ok()?,
                        *offset,
                        t.trim().to_string(),
                    ))
                });
                if let (Some(folder), Some((claimed, offset, text))) = (folder, count) {
                    let Some(actual) = count_entries(ctx, &index.rel, &folder) else {
                        continue;
                    };
                    let off = claimed.abs_diff(actual) as f64 / actual.max(1) as f64;
                    if off > tolerance {
                        let (line, column) = lines.line_col(&index.text, offset);
                        let m = format!(
                            "claims {text} entries in {folder}, which has {actual} ({:.0}% off)",
                            off * 100.0
                        );
                        out.push(
                            Finding::new(Rule::FileCount, &index.rel, line, column, m)
                                .highlight(text),
                        );
                    }
                }
                row.clear();
            }
            _ => {}
        }
    }
}

/// Entries (files and folders, not hidden) directly in `folder`, resolved from `INDEX.md`'s
/// folder, else from the root. `None` if there is no such folder.
fn count_entries(ctx: &Context, index_rel: &str, folder: &str) -> Option<usize> {
    let candidates = [
        crate::resolve::resolve(crate::resolve::parent_dir(index_rel), folder),
        crate::resolve::resolve("", folder),
    ];
    candidates.iter().filter(|r| !r.outside_root).find_map(|r| {
        let dir = std::fs::canonicalize(ctx.tree.path(&r.path)).ok()?;
        if !dir.starts_with(&ctx.tree.canonical) {
            return None; // never look outside the root
        }
        let entries = std::fs::read_dir(dir).ok()?;
        Some(
            entries
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count(),
        )
    })
}

/// `index-budget`: `INDEX.md` over its token budget (only when a budget is configured).
fn index_budget(ctx: &Context, index: &IndexFile, out: &mut Vec<Finding>) {
    let Some(budget) = ctx.config.validate.index_budget.or(ctx.config.budget) else {
        return;
    };
    let n = match ctx.fresh {
        Some(statistics) => statistics.index_tokens,
        None => tokens::count(ctx.index.encoding, &index.text),
    };
    if n > budget {
        let m = format!(
            "{} tokens, over the budget of {} (docidx generate --budget {budget} trims it)",
            thousands(n),
            thousands(budget)
        );
        out.push(Finding::new(Rule::IndexBudget, &index.rel, 1, 1, m));
    }
}
