//! `docidx update-tokens`: make the token claims of a hand-written `INDEX.md` exact, changing
//! nothing but the claimed numbers.
//!
//! [`plan`] finds the claims ([`crate::claims`]), resolves each link from `INDEX.md`'s folder,
//! counts every linked file once, and returns the files it would write: `INDEX.md` with new
//! numbers, `INDEX.json` brought up to date if it exists, and `.doc_hashes.json`. The caller writes
//! them with [`crate::output::write_all`] (atomic, and never over a file changed meanwhile) or
//! reports them for `--check`.
//!
//! Counting is incremental. With an `INDEX.json` beside `INDEX.md`, the index is rebuilt the way
//! `generate` builds it, reusing the count of every Markdown doc whose bytes have not changed.
//! Without one, docs are only hashed (for the manifest) and only the linked ones are counted.
//! Files that are not Markdown docs of the index (a YAML config…) are read and counted as
//! decoded text. When no file needs counting, no encoder is built.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyse::{self, LinkKind};
use crate::claims::{self, Claim};
use crate::config::{Config, Encoding};
use crate::error::{Error, Result, Warning};
use crate::generate::{self, output_dir_rel, Cached, Layout};
use crate::index::{self, Index};
use crate::manifest::{self, Changes, MANIFEST_FILE};
use crate::markers;
use crate::navigation;
use crate::output::{read_if_exists, Output};
use crate::render::index_json::{self, IndexJson, OnDisk, Statistics, INDEX_JSON};
use crate::render::index_md::INDEX_MD;
use crate::resolve::resolve;
use crate::tokens;
use crate::walk;

/// Flags of `update-tokens` that are not settings of the index.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `INDEX.md` to update, relative to the root (an absolute path is used as is).
    /// Default: `INDEX.md` in the output folder, as `generate` writes it.
    pub index: Option<PathBuf>,
    /// Update only claims off by more than this fraction of the exact count (0.2: 20%).
    /// 0 makes every claim exact.
    pub threshold: f64,
    /// Only compare: the new `INDEX.json` is hashed, never kept, so the plan says what would
    /// change but cannot be written.
    pub check: bool,
}

/// A claim whose number is (or would be) replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The link destination as written.
    pub target: String,
    /// The linked file, relative to the root.
    pub path: String,
    /// 1-based position of the number in `INDEX.md`.
    pub line: usize,
    pub column: usize,
    pub old: usize,
    pub new: usize,
    /// The number as it was written (`1,528`) and as it is written now (`2,540`).
    pub old_text: String,
    pub new_text: String,
}

/// A claim left alone because its link does not lead to a file docidx may count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The link destination as written.
    pub target: String,
    /// 1-based position of the number in `INDEX.md`.
    pub line: usize,
    pub column: usize,
    /// Why, for people: `no such file`, `is a folder`, `outside ROOT; not read`…
    pub reason: String,
}

impl Broken {
    fn of(claim: &Claim, reason: String) -> Broken {
        Broken {
            target: claim.target.clone(),
            line: claim.line,
            column: claim.column,
            reason,
        }
    }
}

/// Everything an `update-tokens` run found and the files it would write.
#[derive(Debug)]
pub struct Plan {
    /// `INDEX.md`, then `INDEX.json` if it exists, then `.doc_hashes.json`.
    pub outputs: Vec<Output>,
    /// `INDEX.md`'s path relative to the root (`/`-separated), for messages.
    pub index_md_rel: String,
    pub encoding: Encoding,
    /// Claims found outside the generated region of `INDEX.md`.
    pub claims: usize,
    /// Claims already exact.
    pub exact: usize,
    /// Claims off by no more than the threshold, left as they are.
    pub within_threshold: usize,
    /// Claims whose number changes, in text order.
    pub updated: Vec<Updated>,
    /// Claims left alone because their link is broken, in text order.
    pub broken: Vec<Broken>,
    /// Docs added, removed and changed since the previous manifest.
    pub changes: Changes,
    /// Unreadable files, invalid UTF-8, a broken marker pair… sorted.
    pub warnings: Vec<Warning>,
    /// Whether some doc could not be read (the manifest leaves it out).
    pub incomplete: bool,
    /// Files tokenized in this run (docs and other linked files; not `INDEX.md` itself).
    pub tokenized: usize,
}

impl Plan {
    /// The new `INDEX.md`.
    pub fn index_md(&self) -> &Output {
        &self.outputs[0]
    }

    /// The new `INDEX.json`, if there was one to bring up to date.
    pub fn index_json(&self) -> Option<&Output> {
        (self.outputs.len() == 3).then(|| &self.outputs[1])
    }

    /// Whether writing would change any file.
    pub fn is_change(&self) -> bool {
        self.outputs.iter().any(Output::is_change)
    }
}

/// Where a claim's link leads, before looking at the disk.
enum Target {
    /// A root-relative path to count.
    File(String),
    /// Not a file docidx may count, and why.
    Broken(String),
}

/// Finds the claims of `INDEX.md`, counts what they link to and plans the writes.
pub fn plan(root: &Path, config: &Config, options: &Options) -> Result<Plan> {
    let md_path = match &options.index {
        Some(p) => root.join(p),
        None => config.output_dir(root).join(INDEX_MD),
    };
    let md_dir = match md_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for path in [
        &md_path,
        &md_dir.join(INDEX_JSON),
        &md_dir.join(MANIFEST_FILE),
    ] {
        crate::walk::refuse_link_out_of_root(root, path)?;
    }
    let Some(md_bytes) = read_if_exists(&md_path)? else {
        return Err(Error::Other {
            path: md_path,
            message: "no such file; update-tokens updates the claims of an existing INDEX.md \
                      (`docidx generate` writes a new one; --index chooses another file)"
                .into(),
        });
    };
    let text = match std::str::from_utf8(&md_bytes) {
        Ok(text) => text,
        Err(e) => {
            return Err(Error::Other {
                path: md_path,
                message: format!(
                    "invalid UTF-8 at byte {}; update-tokens rewrites only UTF-8 text, so the file was left untouched",
                    e.valid_up_to()
                ),
            })
        }
    };
    let index_dir = output_dir_rel(root, &md_dir).map_err(|e| match e {
        Error::Other { .. } => Error::Other {
            path: md_path.clone(),
            message: "must be inside ROOT (its links are resolved within ROOT)".into(),
        },
        other => other,
    })?;
    let file_name = md_path
        .file_name()
        .map_or_else(|| INDEX_MD.into(), |n| n.to_string_lossy().into_owned());
    let md_rel = join_rel(&index_dir, &file_name);

    let mut warnings = Vec::new();
    let generated = generated_range(text, &md_rel, &mut warnings);
    let found: Vec<Claim> = claims::find_outside(text, generated);
    let targets: Vec<Target> = found
        .iter()
        .map(|c| classify(&c.target, &index_dir, &md_rel))
        .collect();
    let wanted: BTreeSet<&str> = targets
        .iter()
        .filter_map(|t| match t {
            Target::File(p) => Some(p.as_str()),
            Target::Broken(_) => None,
        })
        .collect();

    let json_path = md_dir.join(INDEX_JSON);
    let manifest_path = md_dir.join(MANIFEST_FILE);

    // The INDEX.md generate writes, and the cache says nothing changed since it did: the
    // outputs are current, and with no claim to count there is nothing more to do.
    let layout = Layout::new(root, config)
        .ok()
        .filter(|l| l.index_md == md_path);
    let scan = match layout {
        Some(layout) => match generate::check_cache(root, config, &layout)? {
            Cached::Unchanged { scan, outputs, .. } if wanted.is_empty() => {
                let mut warnings = warnings;
                warnings.extend(scan.warnings());
                warnings.sort();
                let [md, json, manifest] = [0, 1, 2].map(|i| outputs.digests[i]);
                return Ok(Plan {
                    outputs: vec![
                        Output::unchanged(md_path, md),
                        Output::unchanged(json_path, json),
                        Output::unchanged(manifest_path, manifest),
                    ],
                    index_md_rel: md_rel,
                    encoding: config.encoding,
                    claims: found.len(),
                    exact: 0,
                    within_threshold: 0,
                    updated: Vec::new(),
                    broken: targets
                        .iter()
                        .zip(&found)
                        .filter_map(|(t, c)| match t {
                            Target::Broken(reason) => Some(Broken::of(c, reason.clone())),
                            Target::File(_) => None,
                        })
                        .collect(),
                    changes: Changes::default(),
                    warnings,
                    incomplete: false,
                    tokenized: 0,
                });
            }
            cached => cached.into_scan(),
        },
        None => None,
    };
    let previous_manifest = read_if_exists(&manifest_path)?;
    let pool = index::thread_pool(root, config)?;
    let not_docs = [md_rel.clone()];

    // Docs of the tree: hashed for the manifest, counted from the index or when linked.
    let mut counts: BTreeMap<String, Result<usize, String>> = BTreeMap::new();
    let mut tokenized = 0;
    let incomplete;
    // The docs' `(path, sha256)` in path order, when there is no index to borrow them from.
    let hashed_pairs: Vec<(String, String)>;
    let mut index = None;
    let mut known_index = None;
    // The previous INDEX.json is hashed, then read a megabyte at a time, never whole.
    let json_digest = crate::output::digest_file(&json_path)?;
    if json_digest.is_some() {
        let settings = index::settings(config);
        // The count of the INDEX.md it describes, if in this encoding.
        let known = |json: &IndexJson| {
            (json.encoding == config.encoding).then(|| {
                let statistics = &json.statistics;
                (statistics.index_tokens, statistics.index_sha256.clone())
            })
        };
        let reuse = match pool.install(|| index_json::load(&json_path, &settings))? {
            OnDisk::Parsed(json) => {
                known_index = known(&json);
                index_json::reusable_docs(json, &settings)
            }
            OnDisk::Stale { head, .. } => {
                known_index = known(&head);
                Vec::new()
            }
            OnDisk::Missing | OnDisk::Unreadable => Vec::new(),
        };
        let built = index::build(root, config, &not_docs, reuse, scan)?;
        tokenized += built.analysed;
        warnings.extend(built.warnings);
        incomplete = built.incomplete;
        hashed_pairs = Vec::new();
        for path in &wanted {
            if let Some(doc) = built.index.doc(path) {
                counts.insert(path.to_string(), Ok(doc.tokens));
            }
        }
        index = Some(built.index);
    } else {
        let hashed = hash_docs(root, config, &not_docs, &wanted, &pool)?;
        tokenized += hashed.counts.len();
        warnings.extend(hashed.warnings);
        incomplete = hashed.incomplete;
        hashed_pairs = hashed.manifest;
        counts.extend(hashed.counts);
    }

    // Linked files that are not docs of the index: a YAML config, an excluded doc, a folder…
    let others: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|p| !counts.contains_key(*p))
        .collect();
    let canonical_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let counted: Vec<(String, Result<usize, String>, bool)> = pool.install(|| {
        others
            .par_iter()
            .map(|path| {
                let (result, tokenized) = count_file(root, &canonical_root, path, config);
                (path.to_string(), result, tokenized)
            })
            .collect()
    });
    for (path, result, was_tokenized) in counted {
        tokenized += usize::from(was_tokenized);
        counts.insert(path, result);
    }

    // The new numbers, in text order.
    let mut exact = 0;
    let mut within_threshold = 0;
    let mut updated = Vec::new();
    let mut broken = Vec::new();
    let mut replacements: Vec<(&Claim, String)> = Vec::new();
    for (claim, target) in found.iter().zip(&targets) {
        let counted = match target {
            Target::Broken(reason) => Err(reason.clone()),
            Target::File(path) => counts
                .get(path)
                .cloned()
                .expect("every linked file was counted or given a reason")
                .map(|n| (path, n)),
        };
        let (path, n) = match counted {
            Ok(found) => found,
            Err(reason) => {
                broken.push(Broken::of(claim, reason));
                continue;
            }
        };
        if n == claim.value {
            exact += 1;
        } else if !is_off(claim.value, n, options.threshold) {
            within_threshold += 1;
        } else {
            let new_text = claims::format_count(claim, n);
            updated.push(Updated {
                target: claim.target.clone(),
                path: path.clone(),
                line: claim.line,
                column: claim.column,
                old: claim.value,
                new: n,
                old_text: text[claim.number.clone()].to_string(),
                new_text: new_text.clone(),
            });
            replacements.push((claim, new_text));
        }
    }
    // A copy of INDEX.md's megabytes only when a number changes.
    let new_text = (!replacements.is_empty()).then(|| claims::replace_numbers(text, &replacements));
    let md_text = new_text.as_deref().unwrap_or(text);

    let json = match &index {
        Some(index) => Some(render_json(
            index,
            config,
            md_text,
            &index_dir,
            known_index.as_ref(),
            (json_path, json_digest, options.check),
        )?),
        None => None,
    };
    let md_previous = crate::output::digest(&md_bytes);
    let md_output = match new_text {
        Some(new_text) if !options.check => {
            Output::with_digest(md_path, new_text.into_bytes(), Some(md_previous))
        }
        Some(new_text) => Output::digest_only(
            md_path,
            crate::output::digest(new_text.as_bytes()),
            Some(md_previous),
        ),
        None => Output::unchanged(md_path, md_previous),
    };
    drop(md_bytes);
    let mut outputs = vec![md_output];
    outputs.extend(json);

    let new_manifest: Vec<(&str, &str)> = match &index {
        Some(index) => index
            .docs
            .iter()
            .map(|d| (d.path.as_str(), d.sha256.as_str()))
            .collect(),
        None => manifest::borrowed(&hashed_pairs).collect(),
    };
    let manifest_previous = previous_manifest.as_deref().map(crate::output::digest);
    let (manifest_output, new_digest) = if options.check {
        // Only compared: its digest is enough.
        let (digest, ()) = crate::output::DigestWriter::digest_of(|w| {
            manifest::write_sorted(w, new_manifest.iter().copied())
        });
        (
            Output::digest_only(manifest_path, digest, manifest_previous),
            digest,
        )
    } else {
        let text = manifest::render_sorted(new_manifest.iter().copied());
        let output = Output::with_digest(manifest_path, text, manifest_previous).regenerable();
        let digest = output.digest;
        (output, digest)
    };
    // The same bytes as the previous manifest: nothing added, removed or changed, and the
    // previous one need not be parsed.
    let changes = if manifest_previous == Some(new_digest) {
        Changes::default()
    } else {
        let old = previous_manifest
            .as_deref()
            .and_then(manifest::parse_sorted)
            .unwrap_or_default();
        Changes::between_sorted(manifest::borrowed(&old), new_manifest.iter().copied())
    };
    outputs.push(manifest_output);
    warnings.sort();

    Ok(Plan {
        outputs,
        index_md_rel: md_rel,
        encoding: config.encoding,
        claims: found.len(),
        exact,
        within_threshold,
        updated,
        broken,
        changes,
        warnings,
        incomplete,
        tokenized,
    })
}

/// Whether a claim of `claimed` tokens is off by more than `threshold` × `actual`.
pub fn is_off(claimed: usize, actual: usize, threshold: f64) -> bool {
    claimed != actual && claimed.abs_diff(actual) as f64 > threshold * actual as f64
}

/// `dir/name`, or `name` in the root.
fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The byte range of the generated region of `INDEX.md`, if it has one. Claims there belong to
/// `generate`; a broken marker pair is reported and the whole file treated as hand-written.
fn generated_range(text: &str, md_rel: &str, warnings: &mut Vec<Warning>) -> Option<Range<usize>> {
    match markers::find(text) {
        Ok(Some(region)) => {
            let start = region.before.len();
            Some(start..start + region.generated.len())
        }
        Ok(None) => None,
        Err(message) => {
            warnings.push(Warning::new(
                md_rel,
                format!("{message}; claims are looked for in the whole file"),
            ));
            None
        }
    }
}

/// The hand-written part of an `INDEX.md` (outside the markers; all of it without markers).
fn hand_written(text: &str) -> String {
    match markers::find(text) {
        Ok(Some(region)) => format!("{}{}", region.before, region.after),
        _ => text.to_string(),
    }
}

/// Where the link `target` of a claim in `INDEX.md` (root-relative `md_rel` in `index_dir`) leads.
fn classify(target: &str, index_dir: &str, md_rel: &str) -> Target {
    match LinkKind::of(target) {
        LinkKind::File => {
            let r = resolve(index_dir, target);
            if r.outside_root {
                Target::Broken("outside ROOT; not read".into())
            } else if r.path == md_rel {
                Target::Broken("links to this INDEX.md itself".into())
            } else {
                Target::File(r.path)
            }
        }
        LinkKind::Anchor => {
            Target::Broken("links to a section of this INDEX.md, not a file".into())
        }
        LinkKind::External => {
            Target::Broken("external link; only files of the tree are counted".into())
        }
        LinkKind::Other => Target::Broken("not a link to a file".into()),
    }
}

/// The docs of a tree, hashed; the `wanted` ones counted too.
struct Hashed {
    /// `(path, sha256)` of every doc read, in path order.
    manifest: Vec<(String, String)>,
    counts: BTreeMap<String, Result<usize, String>>,
    warnings: Vec<Warning>,
    incomplete: bool,
}

/// Walks `root`, hashes every doc for the manifest and counts the tokens of the `wanted` ones
/// only: without a previous `INDEX.json` there is nothing to reuse, and the rest need no count.
fn hash_docs(
    root: &Path,
    config: &Config,
    not_docs: &[String],
    wanted: &BTreeSet<&str>,
    pool: &rayon::ThreadPool,
) -> Result<Hashed> {
    let found = walk::discover(root, config, not_docs)?;
    let encoding = config.encoding;
    // `None`: skipped (over the size limit), like a file the walk never found.
    type Hash = (
        String,
        Option<std::result::Result<(String, Option<usize>), String>>,
        Option<Warning>,
    );
    let hashed: Vec<Hash> = pool.install(|| {
        found
            .files
            .par_iter()
            .with_max_len(crate::index::FILES_PER_TASK)
            .map_init(
                walk::Folders::default,
                |folders, file| match walk::read_doc_with(
                    folders,
                    &file.path,
                    config.max_file_size,
                    |bytes| {
                        let sha = analyse::sha256_hex(bytes);
                        let count = wanted
                            .contains(file.rel.as_str())
                            .then(|| count_bytes(encoding, &file.rel, bytes));
                        (sha, count)
                    },
                ) {
                    Err(e) => (
                        file.rel.clone(),
                        Some(Err(format!("cannot read: {e}"))),
                        None,
                    ),
                    Ok(walk::Content::TooLarge(size)) => {
                        let warning = walk::too_large(&file.rel, size, config.max_file_size);
                        (file.rel.clone(), None, Some(warning))
                    }
                    Ok(walk::Content::Bytes((sha, count))) => {
                        let (count, warning) = match count {
                            Some((n, w)) => (Some(n), w),
                            None => (None, None),
                        };
                        (file.rel.clone(), Some(Ok((sha, count))), warning)
                    }
                },
            )
            .collect()
    });
    let mut out = Hashed {
        manifest: Vec::new(),
        counts: BTreeMap::new(),
        warnings: found.warnings,
        incomplete: found.incomplete,
    };
    for (rel, result, warning) in hashed {
        out.warnings.extend(warning);
        match result {
            None => {}
            Some(Ok((sha, count))) => {
                if let Some(n) = count {
                    out.counts.insert(rel.clone(), Ok(n));
                }
                out.manifest.push((rel, sha));
            }
            Some(Err(message)) => {
                out.incomplete = true;
                out.warnings.push(Warning::new(&rel, message.clone()));
                if wanted.contains(rel.as_str()) {
                    out.counts.insert(rel, Err(message));
                }
            }
        }
    }
    Ok(out)
}

/// Tokens of a file's bytes decoded as UTF-8 (invalid bytes become U+FFFD, as in `analyse`),
/// and a warning when they had to be replaced.
fn count_bytes(encoding: Encoding, rel: &str, bytes: &[u8]) -> (usize, Option<Warning>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (tokens::count(encoding, text), None),
        Err(e) => {
            let warning = Warning::new(
                rel,
                format!(
                    "invalid UTF-8 at byte {}; tokens are counted on the text with U+FFFD replacements",
                    e.valid_up_to()
                ),
            );
            let text = String::from_utf8_lossy(bytes);
            (tokens::count(encoding, &text), Some(warning))
        }
    }
}

/// Counts a linked file that is not a doc of the index. Returns the count or why there is none,
/// and whether the file was tokenized. Never reads outside the root, even through a symlink.
fn count_file(
    root: &Path,
    canonical_root: &Path,
    rel: &str,
    config: &Config,
) -> (Result<usize, String>, bool) {
    let path = root.join(crate::resolve::fs_path(rel));
    let missing = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        )
    };
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if missing(&e) => return (Err("no such file".into()), false),
        Err(e) => return (Err(format!("cannot read: {e}")), false),
    };
    if meta.is_dir() {
        return (Err("is a folder".into()), false);
    }
    match std::fs::canonicalize(&path) {
        Ok(real) if real.starts_with(canonical_root) => {}
        Ok(_) => {
            return (
                Err("outside ROOT (through a symlink); not read".into()),
                false,
            )
        }
        Err(e) => return (Err(format!("cannot read: {e}")), false),
    }
    if meta.len() > config.max_file_size {
        return (
            Err(format!(
                "{} bytes is over the size limit of {} bytes (max-file-size); not counted",
                meta.len(),
                config.max_file_size
            )),
            false,
        );
    }
    match crate::walk::read_regular(&path) {
        // Invalid UTF-8 in a YAML file or a picture is not worth a warning: the count is of the
        // decoded text either way.
        Ok(bytes) => (Ok(count_bytes(config.encoding, rel, &bytes).0), true),
        Err(e) => (Err(format!("cannot read: {e}")), false),
    }
}

/// `INDEX.json` for `index`, as `generate` renders it, describing `md_text` (the new `INDEX.md`).
/// `known` is the count and SHA-256 of the `INDEX.md` the previous `INDEX.json` described: when
/// the bytes are the same, the count is too.
/// The new `INDEX.json` (to `path`, whose file has digest `previous`), streamed into a temporary
/// file, or only hashed for a `check`.
fn render_json(
    index: &Index,
    config: &Config,
    md_text: &str,
    index_dir: &str,
    known: Option<&(usize, String)>,
    (path, previous, check): (PathBuf, Option<[u8; 32]>, bool),
) -> Result<Output> {
    let settings = index::settings(config);
    let navigation = navigation::extract(&hand_written(md_text), index_dir);
    let index_tokens = match known {
        Some((n, sha)) if *sha == crate::analyse::sha256_hex(md_text.as_bytes()) => *n,
        _ => tokens::count(index.encoding, md_text),
    };
    let statistics = Statistics::of(index, md_text, index_tokens);
    let (output, _) = generate::json_output(path, previous, check, |w| {
        index_json::write(w, index, &settings, statistics, navigation).map(|()| Vec::new())
    })?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/update-tokens")
    }

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    fn plan_at(root: &Path, threshold: f64) -> Plan {
        let config = Config::load(root).unwrap();
        plan(
            root,
            &config,
            &Options {
                index: None,
                threshold,
                check: false,
            },
        )
        .unwrap()
    }

    fn new_md(plan: &Plan) -> String {
        String::from_utf8(plan.index_md().bytes().unwrap()).unwrap()
    }

    #[test]
    fn fixture_plan() {
        // The CLI tests snapshot the result and check it byte for byte; this checks the plan.
        let plan = plan_at(&fixture(), 0.0);
        assert_eq!(plan.index_md_rel, "docs/INDEX.md");
        assert_eq!(
            (
                plan.claims,
                plan.updated.len(),
                plan.exact,
                plan.broken.len()
            ),
            (15, 12, 1, 2)
        );
        assert_eq!(plan.tokenized, 9, "the nine linked files, each once");
        assert!(plan.index_json().is_none(), "no INDEX.json in the fixture");
        let ops = &plan.updated[1];
        assert_eq!(
            (ops.path.as_str(), ops.line, ops.old_text.as_str()),
            ("OPERATIONS.md", 12, "1,528")
        );
        let md = new_md(&plan);
        assert!(md.contains(&format!(
            "[OPERATIONS.md](../OPERATIONS.md) ({} tokens)\r\n",
            ops.new_text
        )));
        let manifest = plan.outputs.last().unwrap().bytes().unwrap();
        let manifest = crate::manifest::parse_sorted(&manifest).unwrap();
        assert_eq!(manifest.len(), 9, "{manifest:?}");
        assert!(manifest.iter().any(|(path, _)| path == "OPERATIONS.md"));
        assert_eq!(plan.changes.added.len(), 9);
    }

    #[test]
    fn threshold_keeps_claims_close_enough() {
        let dir = tempfile::tempdir().unwrap();
        let doc = "# Doc\n\n".to_string() + &"word ".repeat(100);
        let n = tokens::count(Encoding::O200kBase, &doc);
        let close = n + n / 10;
        let far = n * 2;
        write(
            dir.path(),
            &[
                ("doc.md", doc.as_str()),
                (
                    "INDEX.md",
                    &format!("- [a](doc.md) ({close} tokens)\n- [b](doc.md) (~{far} tok)\n"),
                ),
            ],
        );
        let plan = plan_at(dir.path(), 0.2);
        assert_eq!((plan.within_threshold, plan.updated.len()), (1, 1));
        assert_eq!(
            new_md(&plan),
            format!("- [a](doc.md) ({close} tokens)\n- [b](doc.md) (~{n} tok)\n")
        );
        assert_eq!(plan.tokenized, 1, "two claims on one file: counted once");

        let exact = plan_at(dir.path(), 0.0);
        assert_eq!(exact.updated.len(), 2);
        assert!(is_off(1, 0, 0.5) && !is_off(0, 0, 0.0) && !is_off(12, 10, 0.2));
    }

    #[test]
    fn broken_claims_are_left_alone_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        write(
            dir.path(),
            &[
                ("secret.md", "outside"),
                ("root/docs/sub/x.md", "x"),
                (
                    "root/docs/INDEX.md",
                    "[a](missing.md) (1 tokens) [b](sub) (2 tokens) [c](../../secret.md) (3 tokens)\n\
                     [d](#top) (4 tokens) [e](https://example.com) (5 tokens) [f](INDEX.md) (6 tokens)\n\
                     [g](mailto:a@b.c) (7 tokens) [h](sub/x.md/y) (8 tokens)\n",
                ),
            ],
        );
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.md"), root.join("link.txt")).unwrap();
        let plan = plan_at(&root, 0.0);
        let reasons: Vec<(&str, &str)> = plan
            .broken
            .iter()
            .map(|b| (b.target.as_str(), b.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("missing.md", "no such file"),
                ("sub", "is a folder"),
                ("../../secret.md", "outside ROOT; not read"),
                ("#top", "links to a section of this INDEX.md, not a file"),
                (
                    "https://example.com",
                    "external link; only files of the tree are counted"
                ),
                ("INDEX.md", "links to this INDEX.md itself"),
                ("mailto:a@b.c", "not a link to a file"),
                ("sub/x.md/y", "no such file"),
            ]
        );
        assert!(!plan.index_md().is_change());
        assert_eq!(plan.tokenized, 0);

        #[cfg(unix)]
        {
            write(&root, &[("docs/INDEX.md", "[l](../link.txt) (1 tokens)\n")]);
            let plan = plan_at(&root, 0.0);
            assert_eq!(
                plan.broken[0].reason,
                "outside ROOT (through a symlink); not read"
            );
        }
    }

    #[test]
    fn generated_region_is_not_touched_and_index_json_is_refreshed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[
                ("a.md", "# A\n\nSome text about A.\n"),
                ("b.md", "# B\n\nOther text.\n"),
                (
                    "INDEX.md",
                    "# Index\n\n## By Task\n\n| Task | Doc |\n|---|---|\n| Read | [A](a.md) (1 tokens) |\n\n\
                     <!-- docidx:begin -->\n- [B](b.md) (1 tokens)\n<!-- docidx:end -->\n",
                ),
                ("INDEX.json", "{}"),
            ],
        );
        let plan = plan_at(root, 0.0);
        let md = new_md(&plan);
        let a = tokens::count(Encoding::O200kBase, "# A\n\nSome text about A.\n");
        assert!(md.contains(&format!("[A](a.md) ({a} tokens)")), "{md}");
        assert!(
            md.contains("- [B](b.md) (1 tokens)\n"),
            "the generated region belongs to generate"
        );
        assert_eq!(plan.claims, 1);
        assert_eq!(
            plan.tokenized, 2,
            "no usable INDEX.json: both docs analysed"
        );

        let json: serde_json::Value =
            serde_json::from_slice(&plan.index_json().unwrap().bytes().unwrap()).unwrap();
        assert_eq!(json["documents"][0]["path"], "a.md");
        assert_eq!(json["documents"][0]["tokens"], a);
        assert_eq!(
            json["statistics"]["index_tokens"],
            tokens::count(Encoding::O200kBase, &md)
        );
        assert_eq!(json["navigation"][0]["rows"][0]["Doc"]["docs"][0], "a.md");

        // Written, the next run reuses every analysis and changes nothing.
        crate::output::write_all(&plan.outputs).unwrap();
        let again = plan_at(root, 0.0);
        assert_eq!(again.tokenized, 0, "unchanged docs are not tokenized again");
        assert!(!again.is_change());
        assert!(again.changes.is_empty());
    }

    #[test]
    fn missing_or_outside_index_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        let err = plan(dir.path(), &config, &Options::default()).unwrap_err();
        assert!(err.to_string().contains("INDEX.md: no such file"), "{err}");

        let other = tempfile::tempdir().unwrap();
        fs::write(other.path().join("INDEX.md"), "x").unwrap();
        let options = Options {
            index: Some(other.path().join("INDEX.md")),
            threshold: 0.0,
            check: false,
        };
        let err = plan(dir.path(), &config, &options).unwrap_err();
        assert!(err.to_string().contains("must be inside ROOT"), "{err}");

        fs::write(dir.path().join("INDEX.md"), b"[a](a.md) (1 tokens) \xff\n").unwrap();
        let err = plan(dir.path(), &config, &Options::default()).unwrap_err();
        assert!(err.to_string().contains("invalid UTF-8"), "{err}");
    }
}
