//! `docidx validate`: rules that check a documentation tree and its index, each giving
//! [`Finding`]s with a rule id, a severity, a place and a message.
//!
//! The rules share one walk and one analysis with `generate` ([`crate::generate::build_index`]).
//! When the cache ([`crate::cache`]) shows that nothing changed since `generate` wrote the
//! outputs, the docs are only read and hashed, and the link rules use the anchors and links the
//! cache kept. Link rules run on every doc and on `INDEX.md`; the rules about the index are
//! skipped, with one note, when the tree has no `INDEX.md`. validate never writes a file.

mod index_rules;
mod links;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyse::{self, Doc};
use crate::config::{Config, Level};
use crate::error::{Error, Result, Warning};
use crate::generate::{self, Layout};
use crate::index::Index;
use crate::markers;
use crate::render::index_json::Statistics;
use crate::walk::relative;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A validation rule. Its id is stable: it names the rule in config files and in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    BrokenLink,
    BrokenAnchor,
    LinkOutsideRoot,
    UnindexedDoc,
    MissingDoc,
    StaleTokens,
    StaleIndex,
    FileCount,
    IndexBudget,
}

impl Rule {
    /// Every rule, in the order they are documented.
    pub const ALL: [Rule; 9] = [
        Rule::BrokenLink,
        Rule::BrokenAnchor,
        Rule::LinkOutsideRoot,
        Rule::UnindexedDoc,
        Rule::MissingDoc,
        Rule::StaleTokens,
        Rule::StaleIndex,
        Rule::FileCount,
        Rule::IndexBudget,
    ];

    /// The stable id, e.g. `broken-anchor`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::BrokenLink => "broken-link",
            Rule::BrokenAnchor => "broken-anchor",
            Rule::LinkOutsideRoot => "link-outside-root",
            Rule::UnindexedDoc => "unindexed-doc",
            Rule::MissingDoc => "missing-doc",
            Rule::StaleTokens => "stale-tokens",
            Rule::StaleIndex => "stale-index",
            Rule::FileCount => "file-count",
            Rule::IndexBudget => "index-budget",
        }
    }

    /// The severity a rule has unless `docidx.toml` says otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::LinkOutsideRoot | Rule::UnindexedDoc | Rule::StaleTokens | Rule::FileCount => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }

    /// One line on what the rule checks.
    pub fn description(self) -> &'static str {
        match self {
            Rule::BrokenLink => "A relative link or image points to a file or folder that does not exist.",
            Rule::BrokenAnchor => "A #fragment names no heading or explicit anchor of the target doc.",
            Rule::LinkOutsideRoot => "A relative link resolves outside the root.",
            Rule::UnindexedDoc => "A doc that INDEX.md does not link to.",
            Rule::MissingDoc => "An INDEX.md entry points to a doc that does not exist.",
            Rule::StaleTokens => "A token claim in INDEX.md is off from the linked file's real count.",
            Rule::StaleIndex => "INDEX.json, the generated part of INDEX.md or .doc_hashes.json no longer match the tree.",
            Rule::FileCount => "A table row's claimed number of entries in a folder is off.",
            Rule::IndexBudget => "INDEX.md is over its token budget.",
        }
    }

    /// The rule with id `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Whether the rule is about `INDEX.md` (and skipped when there is none).
    pub fn needs_index(self) -> bool {
        !matches!(
            self,
            Rule::BrokenLink | Rule::BrokenAnchor | Rule::LinkOutsideRoot
        )
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The file that holds the problem, relative to the root, `/`-separated.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    /// The text at the position to underline in human output (a link target, a number).
    #[serde(skip)]
    pub highlight: Option<String>,
}

impl Finding {
    fn new(rule: Rule, path: &str, line: usize, column: usize, message: String) -> Finding {
        Finding {
            path: path.to_string(),
            line,
            column,
            rule,
            severity: rule.default_severity(),
            message,
            highlight: None,
        }
    }

    fn highlight(mut self, text: impl Into<String>) -> Finding {
        self.highlight = Some(text.into());
        self
    }
}

/// Flags of a validate run that are not in `docidx.toml`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `stale-tokens` with a threshold of zero.
    pub exact: bool,
    /// The `INDEX.md` to check (default: as in `generate`).
    pub index: Option<PathBuf>,
}

/// The outcome of a validate run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Sorted by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Docs checked.
    pub docs: usize,
    /// `(indexed, total)` docs when there is an `INDEX.md`.
    pub coverage: Option<(usize, usize)>,
    /// Things the user should know: skipped rules, warnings from reading the tree.
    pub notes: Vec<String>,
    /// Warnings from the walk and analysis (unreadable files, malformed front matter…).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
    /// Whether some file could not be read.
    #[serde(skip)]
    pub incomplete: bool,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Findings per rule id, for the summary.
    pub fn by_rule(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.rule.id()).or_insert(0) += 1;
        }
        counts
    }
}

/// The `INDEX.md` being checked: its text and analysis.
pub(crate) struct IndexFile {
    pub rel: String,
    pub text: String,
    pub doc: Doc,
    /// Its token claims outside the generated region.
    pub claims: Vec<crate::claims::Claim>,
    /// The byte range of its generated region (between the markers), if it has one.
    pub generated: Option<std::ops::Range<usize>>,
    /// The 1-based lines of that region, the end marker's included.
    pub generated_lines: Option<std::ops::RangeInclusive<usize>>,
    /// Whether `doc` is the analysis of the text with the generated region's lines emptied
    /// but its headings (its byte counts are off, its lines, sections, anchors and links
    /// right): all a run needs of a region that is vouched for ([`Context::vouched`]).
    pub partial: bool,
}

impl IndexFile {
    /// The text outside the generated region (all of it without markers), in two parts.
    pub fn hand_written(&self) -> [&str; 2] {
        match &self.generated {
            Some(g) => [&self.text[..g.start], &self.text[g.end..]],
            None => [&self.text, ""],
        }
    }

    /// Whether the link at `line` is in a generated region that is vouched for
    /// ([`Context::vouched`]): it was written by generate for these very docs, so it resolves,
    /// and they are all linked.
    pub fn vouched(&self, ctx: &Context, line: usize) -> bool {
        ctx.vouched
            && self
                .generated_lines
                .as_ref()
                .is_some_and(|l| l.contains(&line))
    }
}

/// What every rule can look at.
pub(crate) struct Context<'a> {
    /// The root, for looking at link targets on disk.
    pub tree: links::Tree,
    pub config: &'a Config,
    pub options: &'a Options,
    pub index: &'a Index,
    pub index_file: Option<&'a IndexFile>,
    pub layout: &'a Layout,
    /// The outputs `generate` would write now (only when INDEX.md has markers and the cache did
    /// not show them current).
    pub plan: Option<&'a generate::Plan>,
    /// What the `INDEX.json` on disk described (when the cache did not vouch for it).
    pub previous_json: Option<&'a generate::PreviousJson>,
    /// The totals recorded when the cache showed that the outputs are current (then
    /// `stale-index` has nothing to report and `INDEX.md`'s count is known).
    pub fresh: Option<&'a Statistics>,
    /// Whether the generated region of `INDEX.md` is what generate writes for these docs: the
    /// cache showed the outputs current, or `INDEX.md` equals what generate would write now.
    pub vouched: bool,
}

/// Checks the tree at `root`.
pub fn validate(root: &Path, config: &Config, options: &Options) -> Result<Report> {
    let levels = rule_levels(root, config)?;
    crate::walk::glob_set(&config.validate.unindexed_exclude)?;
    let layout = Layout::new(root, config)?;

    let index_path = options
        .index
        .clone()
        .unwrap_or_else(|| layout.index_md.clone());
    crate::walk::refuse_link_out_of_root(root, &index_path)?;
    let (mut index_file, found) = read_tree(root, config, options, &layout, &index_path)?;
    let has_markers = index_file.as_ref().is_some_and(|f| f.generated.is_some());
    let subject = match found {
        Found::Fresh { stamp, scan, docs } => {
            let subject = Subject::from_cache(config, *stamp, &scan, docs);
            crate::drop_in_background(scan);
            subject
        }
        Found::Stale(scan) => {
            // With docidx markers, the generated part can be compared with what generate
            // would write.
            let compare = has_markers && options.index.is_none();
            Subject::build(root, config, &layout, scan, compare)?
        }
    };
    let Subject {
        index,
        plan,
        previous_json,
        warnings,
        incomplete,
        fresh,
    } = subject;

    let vouched = fresh.is_some() || plan.as_ref().is_some_and(|p| !p.outputs[0].is_change());
    if let Some(f) = index_file.as_mut().filter(|f| f.partial && !vouched) {
        // Nothing vouches for the generated region: analyse all of it.
        f.doc =
            analyse::analyse_structure(&f.rel, f.text.as_bytes(), &crate::index::settings(config));
        f.partial = false;
    }
    let ctx = Context {
        tree: links::Tree::new(root).map_err(|e| Error::io(root, e))?,
        config,
        options,
        index: &index,
        index_file: index_file.as_ref(),
        layout: &layout,
        plan: plan.as_ref(),
        previous_json: previous_json.as_ref(),
        fresh: fresh.as_ref(),
        vouched,
    };
    let mut report = Report {
        docs: index.docs.len(),
        warnings,
        incomplete,
        ..Report::default()
    };
    report.findings.extend(links::check(&ctx));
    if index_file.is_some() {
        let (findings, coverage) = index_rules::check(&ctx);
        report.findings.extend(findings);
        report.coverage = coverage;
    } else {
        report.notes.push(format!(
            "no {} found: the rules about the index were skipped (run docidx generate to create one)",
            relative(root, &index_path)
        ));
    }

    report.findings.retain_mut(|f| match levels.get(&f.rule) {
        Some(Level::Off) => false,
        Some(Level::Error) => {
            f.severity = Severity::Error;
            true
        }
        Some(Level::Warning) => {
            f.severity = Severity::Warning;
            true
        }
        None => true,
    });
    report.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule))
    });
    report.findings.dedup();
    crate::drop_in_background((index, index_file, plan));
    Ok(report)
}

/// What [`read_tree`] found out about the docs.
enum Found {
    /// The cache vouches that the outputs are what generate would write for these docs; the
    /// docs as the link rules need them come from the cache.
    Fresh {
        stamp: Box<crate::cache::Stamp>,
        scan: crate::index::Scan,
        docs: Vec<Doc>,
    },
    /// Something changed, or there is no cache: the index must be built (from the scan, if
    /// the docs were read already).
    Stale(Option<crate::index::Scan>),
}

/// Reads `INDEX.md` and, when the cache has a stamp, the docs (read and hashed) and the
/// cache's link facts, all at once: `INDEX.md` is analysed while the docs are read.
fn read_tree(
    root: &Path,
    config: &Config,
    options: &Options,
    layout: &Layout,
    index_path: &Path,
) -> Result<(Option<IndexFile>, Found)> {
    // Another INDEX.md than generate's is never the one a stamp describes.
    let stamp = options
        .index
        .is_none()
        .then(|| crate::cache::load(root, config, &crate::cache::settings_key(config, layout)))
        .flatten();
    let (index_file, link_docs, cached) = std::thread::scope(|scope| {
        let side_stamp = stamp.clone();
        let side = scope.spawn(move || {
            let link_docs = side_stamp
                .as_ref()
                .and_then(|stamp| crate::cache::load_link_docs(root, stamp));
            // Generate's own INDEX.md: the cache or the comparison with what generate would
            // write likely vouches for its generated region (if not, it is analysed again).
            let partial = options.index.is_none();
            (
                read_index_file(root, config, index_path, partial),
                link_docs,
            )
        });
        let cached = match stamp {
            Some(stamp) => generate::check_stamp(root, config, layout, stamp),
            None => Ok(generate::Cached::Changed(None)),
        };
        let (index_file, link_docs) = side
            .join()
            .expect("the analysis of INDEX.md does not panic");
        (index_file, link_docs, cached)
    });
    let found = match (cached?, link_docs) {
        (generate::Cached::Unchanged { stamp, scan, .. }, Some(docs)) => {
            Found::Fresh { stamp, scan, docs }
        }
        (cached, _) => Found::Stale(cached.into_scan()),
    };
    Ok((index_file?, found))
}

/// The docs the rules look at, and what is known about the outputs.
struct Subject {
    index: Index,
    /// The outputs generate would write now (only when they are compared).
    plan: Option<generate::Plan>,
    previous_json: Option<generate::PreviousJson>,
    warnings: Vec<Warning>,
    incomplete: bool,
    /// The totals recorded when the cache vouched for the outputs.
    fresh: Option<Statistics>,
}

impl Subject {
    /// The docs as the cache has them, for a tree where nothing changed.
    fn from_cache(
        config: &Config,
        stamp: crate::cache::Stamp,
        scan: &crate::index::Scan,
        mut docs: Vec<Doc>,
    ) -> Subject {
        // The same docs in the same order: the stamp vouches for both.
        for (doc, (_, sha256)) in docs.iter_mut().zip(scan.hashed()) {
            doc.sha256 = sha256.to_string();
        }
        let index = Index {
            encoding: config.encoding,
            docs,
        };
        let mut warnings = scan.warnings();
        warnings.extend(index.docs.iter().flat_map(|d| d.path_warnings()));
        warnings.sort();
        Subject {
            index,
            plan: None,
            previous_json: None,
            warnings,
            incomplete: false,
            fresh: Some(stamp.statistics),
        }
    }

    /// The index built as generate builds it, and with `compare` the outputs it would write.
    fn build(
        root: &Path,
        config: &Config,
        layout: &Layout,
        scan: Option<crate::index::Scan>,
        compare: bool,
    ) -> Result<Subject> {
        let mut prepared = generate::build_index(root, config, layout, scan, true)?;
        let previous_json = prepared.previous_json.take();
        let (warnings, incomplete) = (prepared.built.warnings.clone(), prepared.built.incomplete);
        let (index, plan) = if compare {
            let check = generate::Options {
                check: true,
                ..generate::Options::default()
            };
            let mut plan = generate::plan_outputs(prepared, config, layout, &check)?;
            let index = plan.index.take().expect("a plan from an index has it");
            (index, Some(plan))
        } else {
            (prepared.built.index, None)
        };
        Ok(Subject {
            index,
            plan,
            previous_json,
            warnings,
            incomplete,
            fresh: None,
        })
    }
}

/// Reads and analyses the `INDEX.md` to check; `None` if there is none. With `partial`, the
/// lines of its generated region are emptied but its headings before the analysis
/// ([`IndexFile::partial`]).
fn read_index_file(
    root: &Path,
    config: &Config,
    index_path: &Path,
    partial: bool,
) -> Result<Option<IndexFile>> {
    match crate::walk::read_regular(index_path) {
        Ok(bytes) => {
            let rel = relative(root, index_path);
            let settings = crate::index::settings(config);
            // Invalid UTF-8 is analysed as read, in full.
            let partial = partial && std::str::from_utf8(&bytes).is_ok();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            drop(bytes);
            // The markers are found once; a broken pair counts as none (generate reports it).
            let (generated, generated_lines) = match markers::find(&text) {
                Ok(Some(r)) => {
                    let start = r.before.len();
                    let first = r.before.matches('\n').count() + 1;
                    (
                        Some(start..start + r.generated.len()),
                        Some(first..=first + r.generated.matches('\n').count()),
                    )
                }
                _ => (None, None),
            };
            let partial = partial && generated.is_some();
            let doc = match &generated {
                Some(region) if partial => analyse::analyse_structure(
                    &rel,
                    blank_but_headings(&text, region.clone()).as_bytes(),
                    &settings,
                ),
                _ => analyse::analyse_structure(&rel, text.as_bytes(), &settings),
            };
            Ok(Some(IndexFile {
                // Counts in the generated region belong to generate; stale-index covers them.
                claims: crate::claims::find_outside(&text, generated.clone()),
                generated,
                generated_lines,
                partial,
                rel,
                text,
                doc,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(index_path, e)),
    }
}

/// `text` with every line of `region` that does not start with `#` emptied (its line break
/// kept), so the lines of the rest keep their numbers. A generated region has headings only on
/// such lines, and no explicit anchors.
fn blank_but_headings(text: &str, region: std::ops::Range<usize>) -> String {
    let mut out = String::with_capacity(text.len() - region.len() / 2);
    out.push_str(&text[..region.start]);
    for line in text[region.clone()].split_inclusive('\n') {
        if line.starts_with('#') {
            out.push_str(line);
        } else if line.ends_with("\r\n") {
            out.push_str("\r\n");
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str(&text[region.end..]);
    out
}

/// The configured level of each rule named in `[validate.rules]`; unknown ids are an error.
fn rule_levels(root: &Path, config: &Config) -> Result<BTreeMap<Rule, Level>> {
    let mut levels = BTreeMap::new();
    for (id, level) in &config.validate.rules {
        let rule = Rule::from_id(id).ok_or_else(|| Error::Config {
            path: root.join(crate::config::CONFIG_FILE),
            message: format!(
                "unknown rule {id:?} in [validate.rules]; the rules are: {}",
                Rule::ALL.map(Rule::id).join(", ")
            ),
        })?;
        levels.insert(rule, *level);
    }
    Ok(levels)
}
