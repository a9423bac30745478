//! The link rules: `broken-link`, `broken-anchor`, `link-outside-root` on every doc, and
//! `missing-doc` for the links of `INDEX.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::{Context, Finding, Rule};
use crate::analyse::{self, Doc, Link, LinkKind};
use crate::resolve::{parent_dir, percent_decode, resolve};
use crate::walk::is_markdown;

/// What a relative link points at, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// An existing file or folder, root-relative (a `.html` link may stand for its `.md` source).
    Found {
        path: String,
        is_dir: bool,
    },
    Missing {
        path: String,
    },
    OutsideRoot,
}

/// The root, and which of its folders really lie inside it (a symlinked folder may not).
pub(crate) struct Tree {
    pub root: PathBuf,
    /// The root with symlinks resolved.
    pub canonical: PathBuf,
    /// Root-relative folder → whether it resolves inside the root.
    inside: Mutex<HashMap<String, bool>>,
}

impl Tree {
    pub fn new(root: &Path) -> std::io::Result<Tree> {
        Ok(Tree {
            root: root.to_path_buf(),
            canonical: std::fs::canonicalize(root)?,
            inside: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the existing root-relative `path` resolves inside the root. Folders are
    /// resolved once each; the file itself only when it is a symlink.
    pub fn contains(&self, path: &str) -> bool {
        let full = self.root.join(crate::resolve::fs_path(path));
        let is_link = std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return std::fs::canonicalize(&full)
                .is_ok_and(|real| real.starts_with(&self.canonical));
        }
        let dir = parent_dir(path);
        if let Some(&known) = self
            .inside
            .lock()
            .expect("no thread panics while holding it")
            .get(dir)
        {
            return known;
        }
        let real = std::fs::canonicalize(self.root.join(crate::resolve::fs_path(dir)));
        let inside = real.is_ok_and(|real| real.starts_with(&self.canonical));
        self.inside
            .lock()
            .expect("no thread panics while holding it")
            .insert(dir.to_string(), inside);
        inside
    }

    /// The file-system path of a root-relative path.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(crate::resolve::fs_path(rel))
    }
}

/// Resolves a relative link of the file at root-relative `from` and looks at the disk. A
/// target reached through a symlink that leaves the root counts as outside the root.
///
/// Site generators (mdBook, MkDocs…) render `page.md` as `page.html` and authors link to either,
/// so a missing `page.html` whose `page.md` exists counts as a link to `page.md`.
pub(crate) fn locate(ctx: &Context, from: &str, target: &str) -> (Target, Option<String>) {
    let tree = &ctx.tree;
    let r = resolve(parent_dir(from), target);
    if r.outside_root {
        return (Target::OutsideRoot, r.fragment);
    }
    let found = |path: &str| {
        // A doc of the index exists and lies inside the root: the walk saw it there.
        if ctx.index.doc(path).is_some() {
            return Some(Target::Found {
                path: path.to_string(),
                is_dir: false,
            });
        }
        let meta = std::fs::metadata(tree.path(path)).ok()?;
        // A symlink inside the tree may lead out of it: such a target is never read.
        if !tree.contains(path) {
            return Some(Target::OutsideRoot);
        }
        Some(Target::Found {
            path: path.to_string(),
            is_dir: meta.is_dir(),
        })
    };
    let target = found(&r.path)
        .or_else(|| {
            let stem = r.path.strip_suffix(".html")?;
            found(&format!("{stem}.md"))
        })
        .unwrap_or(Target::Missing { path: r.path });
    (target, r.fragment)
}

/// Whether a fragment needs no anchor: empty, `top` (the HTML spec scrolls to the top), or a
/// text fragment (`:~:text=…`).
fn needs_no_anchor(fragment: &str) -> bool {
    fragment.is_empty() || fragment.eq_ignore_ascii_case("top") || fragment.starts_with(":~:")
}

/// Anchors of Markdown files, from the index or analysed on demand (docs the walk left out).
struct Anchors<'a> {
    ctx: &'a Context<'a>,
    extra: Mutex<HashMap<String, Option<Vec<String>>>>,
}

impl Anchors<'_> {
    /// Whether the Markdown file at root-relative `path` has `fragment` as an anchor;
    /// `None` if it cannot be read.
    fn has(&self, path: &str, fragment: &str) -> Option<bool> {
        if let Some(doc) = self.ctx.index.doc(path) {
            return Some(doc_has_anchor(doc, fragment));
        }
        if let Some(f) = self.ctx.index_file.filter(|f| f.rel == path) {
            return Some(doc_has_anchor(&f.doc, fragment));
        }
        let mut extra = self
            .extra
            .lock()
            .expect("no thread panics while holding it");
        let anchors = extra.entry(path.to_string()).or_insert_with(|| {
            let bytes = crate::walk::read_regular(&self.ctx.tree.path(path)).ok()?;
            let settings = crate::index::settings(self.ctx.config);
            let doc = analyse::analyse_structure(path, &bytes, &settings);
            Some(all_anchors(&doc))
        });
        anchors
            .as_ref()
            .map(|a| has_anchor(|| a.iter().map(String::as_str), fragment))
    }
}

fn all_anchors(doc: &Doc) -> Vec<String> {
    doc.sections
        .iter()
        .map(|s| s.anchor.clone())
        .chain(doc.anchors.iter().cloned())
        .collect()
}

fn doc_has_anchor(doc: &Doc, fragment: &str) -> bool {
    let anchors = || {
        doc.sections
            .iter()
            .map(|s| s.anchor.as_str())
            .chain(doc.anchors.iter().map(String::as_str))
    };
    has_anchor(anchors, fragment)
}

/// Whether a link's `fragment` leads to one of `anchors`. Case does not matter, as on GitHub
/// and in lychee: `#Performance` leads to the heading `## Performance`, whose anchor is
/// `performance`.
fn has_anchor<'a, I: Iterator<Item = &'a str>>(anchors: impl Fn() -> I, fragment: &str) -> bool {
    if anchors().any(|a| a == fragment) {
        return true;
    }
    let fragment = fragment.to_lowercase();
    anchors().any(|a| a.chars().flat_map(char::to_lowercase).eq(fragment.chars()))
}

/// The closest anchor to suggest, if one is close enough to be a likely typo or rename.
fn suggestion(doc_anchors: &[String], fragment: &str) -> Option<String> {
    let limit = (fragment.chars().count() / 3).max(2);
    doc_anchors
        .iter()
        .map(|a| (edit_distance(a, fragment), a))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, a)| a.clone())
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Runs the link rules on every doc and on `INDEX.md`.
pub(crate) fn check(ctx: &Context) -> Vec<Finding> {
    let anchors = Anchors {
        ctx,
        extra: Mutex::new(HashMap::new()),
    };
    let index_rel = ctx.index_file.map(|f| f.rel.as_str());
    let mut findings: Vec<Finding> = ctx
        .index
        .docs
        .par_iter()
        .filter(|doc| Some(doc.path.as_str()) != index_rel)
        .flat_map_iter(|doc| check_doc(ctx, &anchors, doc, false))
        .collect();
    // A generated INDEX.md links every doc: its links are checked in parallel too.
    if let Some(f) = ctx.index_file {
        findings.par_extend(
            f.doc
                .links
                .par_iter()
                .filter(|link| !f.vouched(ctx, link.line))
                .filter_map(|link| check_link(ctx, &anchors, &f.doc, link, true)),
        );
    }
    findings
}

fn check_doc(ctx: &Context, anchors: &Anchors, doc: &Doc, is_index: bool) -> Vec<Finding> {
    doc.links
        .iter()
        .filter_map(|link| check_link(ctx, anchors, doc, link, is_index))
        .collect()
}

fn check_link(
    ctx: &Context,
    anchors: &Anchors,
    doc: &Doc,
    link: &Link,
    is_index: bool,
) -> Option<Finding> {
    let at = |rule: Rule, message: String| {
        Some(Finding::new(rule, &doc.path, link.line, link.column, message).highlight(&link.target))
    };
    match link.kind {
        LinkKind::Anchor => {
            let fragment = percent_decode(&link.target[1..]);
            if !needs_no_anchor(&fragment) && !doc_has_anchor(doc, &fragment) {
                return at(
                    Rule::BrokenAnchor,
                    anchor_message(&fragment, doc, &doc.path),
                );
            }
            None
        }
        LinkKind::File => {
            let (target, fragment) = locate(ctx, &doc.path, &link.target);
            match target {
                Target::OutsideRoot => at(
                    Rule::LinkOutsideRoot,
                    format!("{} resolves outside the root; not checked", link.target),
                ),
                Target::Missing { path } if is_index => at(
                    Rule::MissingDoc,
                    format!("{} points to {path}, which does not exist", link.target),
                ),
                Target::Missing { path } => {
                    let what = if link.image {
                        "image"
                    } else {
                        "file or folder"
                    };
                    at(Rule::BrokenLink, format!("no such {what}: {path}"))
                }
                Target::Found { path, is_dir } => {
                    let fragment = fragment.filter(|f| !needs_no_anchor(f))?;
                    if is_dir || !is_markdown(&path) {
                        return None;
                    }
                    if anchors.has(&path, &fragment) == Some(false) {
                        let message = match ctx.index.doc(&path) {
                            Some(target_doc) => anchor_message(&fragment, target_doc, &path),
                            None => format!("no heading for #{fragment} in {path}"),
                        };
                        return at(Rule::BrokenAnchor, message);
                    }
                    None
                }
            }
        }
        LinkKind::External | LinkKind::Other => None,
    }
}

fn anchor_message(fragment: &str, target: &Doc, path: &str) -> String {
    let mut message = format!("no heading for #{fragment} in {path}");
    if let Some(s) = suggestion(&all_anchors(target), fragment) {
        message.push_str(&format!(" (did you mean #{s}?)"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_anchors_only() {
        let anchors = vec![
            "keycloak".to_string(),
            "keycloak-and-argo-cd-with-pkce".to_string(),
        ];
        assert_eq!(
            suggestion(&anchors, "keycloak-and-argocd-with-pkce").as_deref(),
            Some("keycloak-and-argo-cd-with-pkce")
        );
        assert_eq!(suggestion(&anchors, "something-else-entirely"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn fragments_match_anchors_whatever_their_case() {
        let anchors = ["performance", "fünf-süße-äpfel", "Explicit"];
        let has = |fragment| has_anchor(|| anchors.iter().copied(), fragment);
        assert!(has("performance"));
        assert!(has("Performance"));
        assert!(has("PERFORMANCE"));
        assert!(has("fünf-SÜße-Äpfel"));
        assert!(has("explicit"));
        assert!(has("Explicit"));
        assert!(!has("performances"));
        assert!(!has("fünf-süsse-äpfel"));
    }
}
