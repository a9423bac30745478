//! `docidx generate`: build the index and plan the files it writes, without writing them.
//! The caller writes them with [`crate::output::write_all`], or compares them for `--check`.

use std::path::{Path, PathBuf};

use crate::cache::{self, Record, Stamp};
use crate::config::Config;
use crate::error::{Error, Result, Warning};
use crate::index::{self, Index, Scan};
use crate::known_files::FileKey;
use crate::manifest::{self, Changes, MANIFEST_FILE};
use crate::markers::{self, BEGIN, END};
use crate::navigation;
use crate::output::{read_if_exists, Output};
use crate::render::index_json::{self, Entry, OnDisk, Statistics, INDEX_JSON};
use crate::render::index_md::{self, Detail, Lines, INDEX_MD};
use crate::render::llms_txt::{self, LLMS_TXT};
use crate::splice;
use crate::tokens;
use crate::walk::relative;

/// Flags of `generate` that are not settings of the index itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Append a generated region to an existing `INDEX.md` that has no markers.
    pub force: bool,
    /// Plan only to compare (`--check`, `validate`): a large output is hashed, not kept, and
    /// the plan's outputs cannot be written.
    pub check: bool,
}

/// Everything a `generate` run found and the files it would write.
#[derive(Debug)]
pub struct Plan {
    /// `INDEX.md`, `INDEX.json`, `.doc_hashes.json`, in that order.
    pub outputs: Vec<Output>,
    /// The analysed docs; `None` when the cache showed that nothing changed since the run that
    /// wrote the outputs (then every output is [`Output::unchanged`]).
    pub index: Option<Index>,
    pub statistics: Statistics,
    /// Docs added, removed and changed since the previous manifest.
    pub changes: Changes,
    pub warnings: Vec<Warning>,
    /// Whether some file could not be read (the index is incomplete).
    pub incomplete: bool,
    /// Docs analysed afresh; the rest were reused from the previous `INDEX.json`.
    pub analysed: usize,
    /// What was left out of `INDEX.md` to meet `--budget`.
    pub budget_notes: Vec<String>,
    /// What to store in the cache once the outputs are written ([`cache::store`]); `None` when
    /// the outputs are known unchanged, the index is incomplete or the run only checks.
    pub cache: Option<Record>,
    /// The known files to record once the outputs are written ([`crate::known_files`]):
    /// `None` when the run only checks; [`Plan::known_files_lines`] is `None` too when the
    /// file records these docs already.
    pub known_files: Option<KnownDocs>,
    /// The known outputs to record ([`crate::known_files::Kind::Outputs`]): `None` unless the
    /// outputs are unchanged and some were hashed that are not recorded yet.
    pub known_outputs: Option<String>,
}

/// The known files of the docs that a run records ([`Plan::known_files`]). Rendering 38,000
/// lines takes 15 to 25 ms, so it is left to [`Plan::known_files_lines`], which the CLI calls
/// while the outputs are written.
#[derive(Debug)]
pub enum KnownDocs {
    /// Their lines.
    Lines(String),
    /// The key of each doc of the plan's index, taken when it was read, to record those settled
    /// before `started`.
    Keys {
        keys: Vec<Option<FileKey>>,
        started: std::time::SystemTime,
    },
    /// The scan of the docs ([`Scan::known_files`]), which records nothing new when it
    /// recognised every doc from the known files.
    Scan {
        scan: Box<Scan>,
        started: std::time::SystemTime,
    },
}

impl Plan {
    /// The lines of the known files to record, if any ([`crate::known_files::store`]).
    pub fn known_files_lines(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self.known_files.as_ref()? {
            KnownDocs::Lines(lines) => Some(lines.into()),
            KnownDocs::Keys { keys, started } => {
                let docs = self.index.as_ref()?.docs.iter().zip(keys);
                let docs = docs.map(|(doc, key)| (doc.path.as_str(), doc.sha256.as_str(), *key));
                Some(crate::known_files::render(docs, *started).into())
            }
            KnownDocs::Scan { scan, started } => scan.known_files(*started).map(Into::into),
        }
    }
}

/// The output folder relative to the root (`/`-separated; empty for the root itself).
pub fn output_dir_rel(root: &Path, out_dir: &Path) -> Result<String> {
    let outside = || Error::Other {
        path: out_dir.into(),
        message: "the output folder must be inside the root (links in INDEX.md are relative)"
            .into(),
    };
    if let Ok(rel) = out_dir.strip_prefix(root) {
        // Resolve `..` lexically: `ROOT/../x` is outside even if it does not exist yet.
        let mut parts: Vec<String> = Vec::new();
        for c in rel.components() {
            match c {
                std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                std::path::Component::ParentDir => {
                    parts.pop().ok_or_else(outside)?;
                }
                std::path::Component::CurDir => {}
                _ => return Err(outside()),
            }
        }
        return Ok(parts.join("/"));
    }
    let canon_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let canon_out = std::fs::canonicalize(out_dir).map_err(|e| Error::io(out_dir, e))?;
    match canon_out.strip_prefix(&canon_root) {
        Ok(rel) => Ok(relative(Path::new(""), rel)),
        Err(_) => Err(outside()),
    }
}

/// Where a run's outputs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The root as given.
    pub root: PathBuf,
    /// The output folder as a path to open.
    pub out_dir: PathBuf,
    /// The output folder relative to the root (`/`-separated; empty for the root).
    pub index_dir: String,
    pub index_md: PathBuf,
    pub index_json: PathBuf,
    pub manifest: PathBuf,
}

impl Layout {
    /// The layout for `root` under `config` (`docs/` if it exists, else the root, or `out-dir`).
    pub fn new(root: &Path, config: &Config) -> Result<Layout> {
        let out_dir = config.output_dir(root);
        let index_dir = output_dir_rel(root, &out_dir)?;
        for name in [INDEX_MD, INDEX_JSON, MANIFEST_FILE, LLMS_TXT] {
            crate::walk::refuse_link_out_of_root(root, &out_dir.join(name))?;
        }
        Ok(Layout {
            root: root.to_path_buf(),
            index_md: out_dir.join(INDEX_MD),
            index_json: out_dir.join(INDEX_JSON),
            manifest: out_dir.join(MANIFEST_FILE),
            out_dir,
            index_dir,
        })
    }

    /// The root-relative path of `INDEX.md`.
    pub fn index_md_rel(&self) -> String {
        self.rel(INDEX_MD)
    }

    /// Every output `config` asks for: root-relative path and path to open.
    pub fn outputs(&self, config: &Config) -> Vec<(String, PathBuf)> {
        let mut outputs = vec![
            (self.rel(INDEX_MD), self.index_md.clone()),
            (self.rel(INDEX_JSON), self.index_json.clone()),
            (self.rel(MANIFEST_FILE), self.manifest.clone()),
        ];
        if config.llms_txt {
            outputs.push((self.rel(LLMS_TXT), self.out_dir.join(LLMS_TXT)));
        }
        outputs
    }

    /// The root-relative path of a file in the output folder.
    pub fn rel(&self, name: &str) -> String {
        if self.index_dir.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.index_dir)
        }
    }
}

/// An index built for a run, and what the previous `INDEX.json` knew about `INDEX.md`.
#[derive(Debug)]
pub struct Prepared {
    pub built: index::Built,
    /// The token count and SHA-256 of the `INDEX.md` the previous run wrote (same encoding):
    /// if the new `INDEX.md` has exactly those bytes, its count is known without counting.
    pub known_index: Option<(usize, String)>,
    /// What the `INDEX.json` on disk described, when asked for ([`build_index`]).
    pub previous_json: Option<PreviousJson>,
}

/// What the `INDEX.json` on disk described, for `validate`'s `stale-index`.
#[derive(Debug)]
pub enum PreviousJson {
    Missing,
    /// Not an `INDEX.json` this docidx can read.
    Unreadable,
    Read {
        encoding: crate::Encoding,
        /// Its docs' paths and SHA-256, sorted by path.
        manifest: Vec<(String, String)>,
    },
}

impl PreviousJson {
    /// What an `INDEX.json` read with `encoding` and these (path, SHA-256) pairs describes.
    fn read(encoding: crate::Encoding, mut manifest: Vec<(String, String)>) -> PreviousJson {
        // Written sorted (this is then linear); edited by hand, perhaps not.
        manifest.sort();
        manifest.dedup_by(|a, b| a.0 == b.0);
        PreviousJson::Read { encoding, manifest }
    }
}

/// Builds the index of `root`, reusing the analyses of the previous `INDEX.json` for docs whose
/// bytes have not changed (with a [`Scan`], unchanged docs are not read again). `INDEX.md` in
/// the output folder is not a doc. With `describe_previous`, also tells what that `INDEX.json`
/// described (read once for both).
pub fn build_index(
    root: &Path,
    config: &Config,
    layout: &Layout,
    scanned: Option<Scan>,
    describe_previous: bool,
) -> Result<Prepared> {
    let settings = index::settings(config);
    // Parsed on the run's threads (`--jobs`).
    let on_disk = index::thread_pool(root, config)?
        .install(|| index_json::load(&layout.index_json, &settings))?;
    let (previous, previous_json) = match on_disk {
        OnDisk::Missing => (None, PreviousJson::Missing),
        OnDisk::Unreadable => (None, PreviousJson::Unreadable),
        OnDisk::Parsed(json) => {
            let pairs = if describe_previous {
                let pair = |d: &crate::analyse::Doc| (d.path.clone(), d.sha256.clone());
                json.documents.iter().map(pair).collect()
            } else {
                Vec::new()
            };
            let read = PreviousJson::read(json.encoding, pairs);
            (Some(json), read)
        }
        OnDisk::Stale { head, docs } => {
            let read = PreviousJson::read(head.encoding, docs);
            (Some(head), read)
        }
    };
    let previous_json = describe_previous.then_some(previous_json);
    let known_index = previous
        .as_ref()
        .filter(|json| json.encoding == config.encoding && !json.statistics.index_sha256.is_empty())
        .map(|json| {
            (
                json.statistics.index_tokens,
                json.statistics.index_sha256.clone(),
            )
        });
    let previous = previous
        .map(|json| index_json::reusable_docs(json, &settings))
        .unwrap_or_default();
    if previous.is_empty() {
        // Every doc will be counted.
        tokens::build_in_background(config.encoding);
    }
    let built = index::build(root, config, &[layout.index_md_rel()], previous, scanned)?;
    Ok(Prepared {
        built,
        known_index,
        previous_json,
    })
}

/// What a run finds before building anything, when the cache has a stamp for these settings.
pub enum Cached {
    /// Nothing changed since the stamp: the outputs on disk are what a run would write.
    Unchanged {
        stamp: Box<Stamp>,
        scan: Scan,
        outputs: cache::SeenOutputs,
    },
    /// Only docs changed: every output is as the stamp recorded, so their entries for the
    /// unchanged docs can be kept ([`crate::splice`]).
    DocsChanged {
        stamp: Box<Stamp>,
        scan: Scan,
        outputs: cache::SeenOutputs,
    },
    /// Something else changed (or there is no stamp): build from the scan, if there is one.
    Changed(Option<Scan>),
}

impl Cached {
    /// The docs read and hashed, if they were.
    pub fn into_scan(self) -> Option<Scan> {
        match self {
            Cached::Unchanged { scan, .. } | Cached::DocsChanged { scan, .. } => Some(scan),
            Cached::Changed(scan) => scan,
        }
    }
}

/// Reads and hashes the docs of `root` if the cache has a stamp for these settings, and tells
/// whether every doc and output is as the stamp recorded.
pub fn check_cache(root: &Path, config: &Config, layout: &Layout) -> Result<Cached> {
    match cache::load(root, config, &cache::settings_key(config, layout)) {
        Some(stamp) => check_stamp(root, config, layout, stamp),
        None => Ok(Cached::Changed(None)),
    }
}

/// [`check_cache`] with the stamp already loaded.
pub fn check_stamp(root: &Path, config: &Config, layout: &Layout, stamp: Stamp) -> Result<Cached> {
    let outputs: Vec<String> = layout
        .outputs(config)
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    // The outputs are hashed while the docs are read.
    let (scan, seen) = rayon::join(
        || index::scan(root, config, &[layout.index_md_rel()]),
        || cache::outputs_match(root, config, &stamp, &outputs),
    );
    let scan = scan?;
    match seen {
        Some(outputs) if !scan.incomplete() => {
            let stamp = Box::new(stamp);
            if scan.digest() == stamp.docs {
                Ok(Cached::Unchanged {
                    stamp,
                    scan,
                    outputs,
                })
            } else {
                Ok(Cached::DocsChanged {
                    stamp,
                    scan,
                    outputs,
                })
            }
        }
        _ => Ok(Cached::Changed(Some(scan))),
    }
}

/// Builds the index of `root` and renders its outputs; when the cache shows that nothing
/// changed, only hashes the docs (or `stat`s them, [`crate::known_files`]).
pub fn plan(root: &Path, config: &Config, options: &Options) -> Result<Plan> {
    // Before any doc is read: the known files record only docs settled before it.
    let started = std::time::SystemTime::now();
    let layout = Layout::new(root, config)?;
    // What the scan records is rendered by the CLI while the outputs are written; a `--check`
    // run records nothing, and frees the scan (tens of thousands of paths) on another thread.
    let record = |scan: Scan| match options.check {
        true => {
            crate::drop_in_background(scan);
            None
        }
        false => Some(KnownDocs::Scan {
            scan: Box::new(scan),
            started,
        }),
    };
    let scan = match check_cache(root, config, &layout)? {
        Cached::Unchanged {
            stamp,
            scan,
            outputs,
        } => {
            let known_outputs = (!options.check)
                .then(|| outputs.known_files(started))
                .flatten();
            let mut plan = unchanged_plan(config, &layout, *stamp, &scan, outputs.digests);
            plan.known_files = record(scan);
            plan.known_outputs = known_outputs;
            return Ok(plan);
        }
        Cached::DocsChanged {
            stamp,
            scan,
            outputs,
        } => {
            let seen = splice::Seen {
                digests: &outputs.digests,
                keys: &outputs.vouched_keys(started),
            };
            match splice::plan(config, &layout, options, &stamp, &scan, seen)? {
                Some(mut plan) => {
                    plan.known_files = record(scan);
                    return Ok(plan);
                }
                None => Some(scan),
            }
        }
        Cached::Changed(scan) => scan,
    };
    // The build consumes the scan, so its lines are rendered now.
    let known_files = match (&scan, options.check) {
        (Some(scan), false) => scan.known_files(started).map(KnownDocs::Lines),
        _ => None,
    };
    let mut prepared = build_index(root, config, &layout, scan, false)?;
    // Without a scan, the build read every doc and kept their keys.
    let keys = std::mem::take(&mut prepared.built.keys);
    let mut plan = plan_outputs(prepared, config, &layout, options)?;
    plan.known_files = match &plan.index {
        Some(index) if !options.check && !keys.is_empty() && keys.len() == index.docs.len() => {
            Some(KnownDocs::Keys { keys, started })
        }
        _ => known_files,
    };
    Ok(plan)
}

/// The plan of a run on a tree where the cache shows nothing changed.
fn unchanged_plan(
    config: &Config,
    layout: &Layout,
    stamp: Stamp,
    scan: &Scan,
    digests: Vec<[u8; 32]>,
) -> Plan {
    let outputs = layout
        .outputs(config)
        .into_iter()
        .zip(digests)
        .map(|((_, path), digest)| Output::unchanged(path, digest))
        .collect();
    let mut warnings = scan.warnings();
    warnings.extend(stamp.doc_warnings());
    warnings.sort();
    Plan {
        outputs,
        index: None,
        statistics: stamp.statistics,
        changes: Changes::default(),
        warnings,
        incomplete: false,
        analysed: 0,
        budget_notes: stamp.budget_notes,
        cache: None,
        known_files: None,
        known_outputs: None,
    }
}

/// Renders the outputs for an index already built.
pub fn plan_outputs(
    prepared: Prepared,
    config: &Config,
    layout: &Layout,
    options: &Options,
) -> Result<Plan> {
    let Prepared {
        built, known_index, ..
    } = prepared;
    let settings = index::settings(config);
    let index_dir = layout.index_dir.clone();
    let (md_path, json_path, manifest_path) = (
        layout.index_md.clone(),
        layout.index_json.clone(),
        layout.manifest.clone(),
    );
    let index = built.index;

    // The hand-written parts of INDEX.md, kept byte for byte.
    let existing = read_if_exists(&md_path)?;
    let frame = Frame::of(&md_path, existing.as_deref(), options.force)?;
    let navigation = frame.navigation(&index_dir);
    // Its digest tells whether it changes; its megabytes are not kept while the new one renders.
    let md_previous = existing.as_deref().map(crate::output::digest);
    let index_len = existing.as_ref().map(Vec::len);
    drop(existing);

    // The counts of INDEX.md's blocks from the last run: one changed doc recounts its block.
    let blocks = tokens::BlockMemo::new(cache::load_blocks(&layout.root, config));
    let for_cache = !built.incomplete && !options.check;
    // What needs the docs alone is worked out on a thread of its own while the outputs render.
    let (by_docs, md_output, body_at, md_spans, budget_notes, statistics, json) =
        std::thread::scope(|scope| -> Result<_> {
            // Not for a run that only compares (`validate`, `--check`): what it works out is
            // small there, and its own thread would keep the memory it freed from the others.
            let beside = !options.check;
            let by_docs = beside.then(|| {
                scope.spawn(|| ByDocs::of(&index, &manifest_path, options.check, for_cache))
            });
            let known = Known {
                index: known_index.as_ref(),
                index_len,
                blocks: &blocks,
            };
            let (md, md_spans, budget_notes) =
                render_md_within_budget(&index, &index_dir, config, &frame, known);
            let Md {
                text,
                sha256,
                digest,
                tokens,
                body_at,
            } = md;
            let statistics = Statistics::of_docs(&index).with_index_digest(&sha256, tokens);
            // Only compared: its digest is enough. Written: its bytes go to their temporary
            // file. Either way its megabytes go before INDEX.json renders.
            let md_output = if options.check {
                drop(text);
                Output::digest_only(md_path, digest, md_previous)
            } else {
                Output::staged(md_path, text.into_bytes(), digest, md_previous)?
            };
            // Serialized on the run's threads (`--jobs`).
            let pool = index::thread_pool(&layout.root, config)?;
            let json = pool.install(|| {
                json_output(
                    json_path,
                    crate::output::digest_file(&layout.index_json)?,
                    options.check,
                    |w| {
                        index_json::write_of(
                            w,
                            index.encoding,
                            &settings,
                            &statistics,
                            &navigation,
                            index.docs.iter().map(Entry::Doc),
                            &mut index_json::no_kept_entries,
                        )
                    },
                )
            })?;
            let by_docs = match by_docs {
                Some(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
                None => ByDocs::of(&index, &manifest_path, options.check, for_cache)?,
            };
            Ok((
                by_docs,
                md_output,
                body_at as u64,
                md_spans,
                budget_notes,
                statistics,
                json,
            ))
        })?;
    let ByDocs {
        changes,
        manifest,
        docs_digest,
        doc_warnings,
    } = by_docs;
    let (json_output, json_spans) = json;

    let mut outputs = vec![md_output, json_output, manifest];
    if config.llms_txt {
        outputs.push(
            Output::new(
                layout.out_dir.join(LLMS_TXT),
                llms_txt(&index, config, layout)?,
            )?
            .regenerable(),
        );
    }
    let record = docs_digest.map(|docs_digest| Record {
        stamp: new_stamp(
            config,
            layout,
            docs_digest,
            &outputs,
            statistics.clone(),
            doc_warnings,
            budget_notes.clone(),
        ),
        index_blocks: blocks.into_used(),
        newline: frame.newline.to_string(),
        spans: spans_of(&json_spans, &md_spans, body_at),
        spliced: None,
    });
    Ok(Plan {
        outputs,
        index: Some(index),
        statistics,
        changes,
        warnings: built.warnings,
        incomplete: built.incomplete,
        analysed: built.analysed,
        budget_notes,
        cache: record,
        known_files: None,
        known_outputs: None,
    })
}

/// Renders `INDEX.md`, lowering the detail step by step until it fits the budget (never
/// dropping a doc). Returns it, where each doc's lines are in its body, and what was dropped.
fn render_md_within_budget(
    index: &Index,
    index_dir: &str,
    config: &Config,
    frame: &Frame,
    known: Known,
) -> (Md, Vec<[usize; 2]>, Vec<String>) {
    let full = Detail {
        sections_over: Some(config.section_threshold),
        summary_chars: None,
    };
    let mut steps = vec![(full, None)];
    if config.budget.is_some() {
        steps.push((
            Detail {
                sections_over: None,
                summary_chars: None,
            },
            Some("dropped the section lists"),
        ));
        for n in [100, 60, 30] {
            let d = Detail {
                sections_over: None,
                summary_chars: Some(n),
            };
            steps.push((d, Some("shortened the summaries")));
        }
        steps.push((
            Detail {
                sections_over: None,
                summary_chars: Some(0),
            },
            Some("dropped the summaries"),
        ));
    }
    let mut budget_notes = Vec::new();
    for (i, (detail, dropped)) in steps.iter().enumerate() {
        let body = index_md::render_body_of(
            index.docs.iter().map(|d| (d.path.as_str(), Lines::Doc(d))),
            index_dir,
            *detail,
            frame.newline,
        );
        let md = render_md(
            body.text,
            (index.docs.len(), index.total_tokens(), index.encoding),
            frame,
            known,
        );
        if let Some(what) = dropped {
            budget_notes.push(format!("{what} to fit the budget"));
        }
        let fits = config.budget.is_none_or(|b| md.tokens <= b);
        let last = i == steps.len() - 1;
        if !fits && last {
            budget_notes.push(format!(
                "INDEX.md is {} tokens, still over the budget of {} with only titles, links and counts left",
                md.tokens,
                config.budget.unwrap_or_default()
            ));
        }
        if fits || last {
            budget_notes.dedup();
            return (md, body.spans, budget_notes);
        }
    }
    unreachable!("the last step always returns")
}

/// What a run works out from its docs alone, beside rendering: the changes since the last
/// manifest, the new manifest, and for the cache the docs' digest and warnings.
struct ByDocs {
    changes: Changes,
    /// The new manifest: staged in a temporary file, or for a run that only compares, its
    /// digest alone.
    manifest: Output,
    /// `None` when the run stores nothing in the cache.
    docs_digest: Option<String>,
    doc_warnings: Vec<crate::error::Warning>,
}

impl ByDocs {
    fn of(index: &Index, manifest_path: &Path, check: bool, for_cache: bool) -> Result<ByDocs> {
        let manifest_path = manifest_path.to_path_buf();
        // The docs are sorted by path, as a manifest is.
        let docs = || {
            index
                .docs
                .iter()
                .map(|d| (d.path.as_str(), d.sha256.as_str()))
        };
        let old = read_if_exists(&manifest_path)?;
        let manifest_previous = old.as_deref().map(crate::output::digest);
        let old_manifest = old
            .and_then(|b| manifest::parse_sorted(&b))
            .unwrap_or_default();
        let changes = Changes::between_sorted(manifest::borrowed(&old_manifest), docs());
        drop(old_manifest);
        Ok(ByDocs {
            changes,
            manifest: if check {
                let (digest, ()) =
                    crate::output::DigestWriter::digest_of(|w| manifest::write_sorted(w, docs()));
                Output::digest_only(manifest_path, digest, manifest_previous)
            } else {
                Output::streamed(manifest_path, manifest_previous, |w| {
                    manifest::write_sorted(w, docs())
                })?
                .regenerable()
            },
            docs_digest: for_cache.then(|| cache::docs_digest(docs())),
            doc_warnings: if for_cache {
                index.docs.iter().flat_map(|d| d.path_warnings()).collect()
            } else {
                Vec::new()
            },
        })
    }
}

/// The stamp of a run that writes `outputs` for the docs of `docs_digest`.
pub(crate) fn new_stamp(
    config: &Config,
    layout: &Layout,
    docs_digest: String,
    outputs: &[Output],
    statistics: Statistics,
    doc_warnings: Vec<Warning>,
    budget_notes: Vec<String>,
) -> Stamp {
    Stamp {
        docidx: crate::VERSION.into(),
        settings: cache::settings_key(config, layout),
        docs: docs_digest,
        outputs: layout
            .outputs(config)
            .into_iter()
            .zip(outputs)
            .map(|((rel, _), out)| (rel, crate::output::hex(&out.digest)))
            .collect(),
        statistics,
        warnings: doc_warnings
            .into_iter()
            .map(|w| (w.path, w.line, w.message))
            .collect(),
        budget_notes,
        links: String::new(),
    }
}

/// Each doc's spans for the cache: its object in `INDEX.json`, and its lines in `INDEX.md`
/// (given within the body, which starts at byte `body_at`).
pub(crate) fn spans_of(
    json: &[cache::Span],
    md: &[[usize; 2]],
    body_at: u64,
) -> Vec<(cache::Span, cache::Span)> {
    json.iter()
        .zip(md)
        .map(|(&json, &[a, b])| (json, [body_at + a as u64, body_at + b as u64]))
        .collect()
}

/// `INDEX.json` as an output, and where each doc's object is in it. It can be tens of MB: it
/// is hashed on its way into a temporary file beside it (removed if nothing changed), or only
/// hashed when checking; never held in memory.
pub(crate) fn json_output(
    path: PathBuf,
    previous: Option<[u8; 32]>,
    check: bool,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<Vec<cache::Span>>,
) -> Result<(Output, Vec<cache::Span>)> {
    let mut spans = Vec::new();
    let output = if check {
        let (digest, written) = crate::output::DigestWriter::digest_of(write);
        spans = written;
        Output::digest_only(path, digest, previous)
    } else {
        Output::streamed(path, previous, |w| {
            spans = write(w)?;
            Ok(())
        })?
        .regenerable()
    };
    Ok((output, spans))
}

/// `INDEX.md` around its generated region: the hand-written text kept byte for byte, and the
/// line break the generated lines use.
pub(crate) struct Frame {
    pub before: String,
    pub after: String,
    pub newline: &'static str,
}

impl Frame {
    /// The frame of the `INDEX.md` at `path` whose bytes are `existing` (`None`: absent). One
    /// without markers is an error unless `force` appends them.
    pub fn of(path: &Path, existing: Option<&[u8]>, force: bool) -> Result<Frame> {
        let text = match existing.map(std::str::from_utf8) {
            None => None,
            Some(Ok(text)) => Some(text),
            Some(Err(e)) => {
                return Err(Error::Other {
                    path: path.into(),
                    message: format!(
                        "is not valid UTF-8 (byte {}); docidx will not rewrite it, so nothing in it is lost",
                        e.valid_up_to()
                    ),
                })
            }
        };
        Frame::of_text(path, text, force)
    }

    /// [`Frame::of`] for an `INDEX.md` already known to be UTF-8.
    pub fn of_text(path: &Path, text: Option<&str>, force: bool) -> Result<Frame> {
        let (before, after) = match text {
            None => (
                format!("# Documentation index\n\n{BEGIN}\n"),
                format!("{END}\n"),
            ),
            Some(text) => match markers::find(text) {
                Ok(Some(region)) => (region.before.to_string(), region.after.to_string()),
                Ok(None) if force => {
                    let sep = if text.is_empty() || text.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    (format!("{text}{sep}\n{BEGIN}\n"), format!("{END}\n"))
                }
                Ok(None) => {
                    return Err(Error::Markers {
                        path: path.into(),
                        message: format!(
                            "exists but has no docidx markers, so docidx will not overwrite it. Add the two \
                             lines\n  {BEGIN}\n  {END}\nwhere the generated index should go (everything outside \
                             them is kept), or pass --force to append them at the end of the file"
                        ),
                    });
                }
                Err(message) => {
                    return Err(Error::Markers {
                        path: path.into(),
                        message: format!("{message}; the file was left untouched"),
                    })
                }
            },
        };
        let newline = if text.is_some_and(|t| t.contains("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        Ok(Frame {
            before,
            after,
            newline,
        })
    }

    /// The navigation tables of the hand-written text ([`navigation::extract`]).
    pub fn navigation(&self, index_dir: &str) -> Vec<navigation::NavTable> {
        navigation::extract(&format!("{}{}", self.before, self.after), index_dir)
    }
}

/// Renders `llms.txt`: the project name from config or the root folder's name, the summary
/// from config or the root README.
fn llms_txt(index: &Index, config: &Config, layout: &Layout) -> Result<String> {
    let name = match &config.project_name {
        Some(name) => name.clone(),
        None => std::fs::canonicalize(&layout.root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "Documentation".into()),
    };
    let summary = config
        .project_summary
        .clone()
        .or_else(|| {
            index
                .doc("README.md")
                .map(|d| d.summary.clone())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| format!("The documentation of {name}, indexed by docidx."));
    let optional = crate::walk::glob_set(&config.llms_optional)?;
    Ok(llms_txt::render(
        index,
        &layout.index_dir,
        &name,
        &summary,
        &optional,
    ))
}

/// What earlier runs counted: the whole `INDEX.md` they wrote, and its blocks.
#[derive(Clone, Copy)]
pub(crate) struct Known<'a> {
    /// The count and SHA-256 of the `INDEX.md` the previous run wrote.
    pub index: Option<&'a (usize, String)>,
    /// The length of the `INDEX.md` on disk, if any: a text of another length is not the one
    /// [`Known::index`] describes, and is not hashed to find out.
    pub index_len: Option<usize>,
    pub blocks: &'a tokens::BlockMemo,
}

/// A rendered `INDEX.md`.
pub(crate) struct Md {
    pub text: String,
    /// Its SHA-256, which `INDEX.json` states.
    pub sha256: [u8; 32],
    /// Its [`crate::output::digest`], by which its output is checked.
    pub digest: [u8; 32],
    /// Its exact token count, which its header states.
    pub tokens: usize,
    /// Where the body starts in `text`.
    pub body_at: usize,
}

/// Renders the whole `INDEX.md` around `body` and its exact token count; `totals` are the
/// number of docs, their tokens and the encoding. The header states that count, so it is
/// re-rendered until the count it states is the count the file has. Only the header changes
/// between attempts, so the rest is counted once (it starts at a line beginning with `#` or
/// `<`, where token counts add up; see [`tokens::SpanCounts`]).
pub(crate) fn render_md(
    body: String,
    totals: (usize, usize, crate::Encoding),
    frame: &Frame,
    known: Known,
) -> Md {
    let (documents, total, encoding) = totals;
    let Frame {
        before,
        after,
        newline,
    } = frame;
    let header =
        |claimed: usize| index_md::render_header_of(documents, total, encoding, claimed, newline);
    // Joined with exact capacities: `format!` grows by doubling, up to twice the megabytes.
    let join = |parts: &[&str]| {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| text.push_str(p));
        text
    };
    let text_of = |header: &str| join(&[before, header, &body, after]);
    // Its SHA-256 and its output's digest, side by side.
    let digests_of = |header: &str| {
        let parts = [before.as_str(), header, &body, after];
        rayon::join(
            || {
                use sha2::Digest;
                let mut hasher = sha2::Sha256::new();
                for part in parts {
                    hasher.update(part.as_bytes());
                }
                <[u8; 32]>::from(hasher.finalize())
            },
            || {
                let mut hasher = blake3::Hasher::new();
                for part in parts {
                    hasher.update(part.as_bytes());
                }
                <[u8; 32]>::from(hasher.finalize())
            },
        )
    };
    // The whole file, in the body's own buffer: a second buffer of its megabytes is not needed.
    let md = |mut body: String, header: &str, (sha256, digest), tokens: usize| {
        let body_at = before.len() + header.len();
        body.reserve_exact(body_at + after.len());
        body.insert_str(0, &[before.as_str(), header].concat());
        body.push_str(after);
        Md {
            body_at,
            sha256,
            digest,
            text: body,
            tokens,
        }
    };
    // The count of parts joined where a piece boundary falls between them is the sum of
    // their counts. The body's count comes from its blocks, so a change recounts one block.
    let rest = if body.is_empty() { after } else { &body };
    let body_then_after = boundary_between(&body, after);
    // Nothing changed since the previous run: the same bytes have the count it recorded.
    if let Some((tokens, sha256)) = known.index {
        let header = header(*tokens);
        let len = before.len() + header.len() + body.len() + after.len();
        // A text of another length is not the one recorded: it is not hashed to find out.
        let digests = known
            .index_len
            .is_none_or(|known| known == len)
            .then(|| digests_of(&header));
        if let Some(digests) = digests.filter(|(d, _)| crate::output::hex(d) == *sha256) {
            // The blocks' counts stay in the cache for the next change.
            if body_then_after {
                known.blocks.keep(encoding, &body);
            }
            return md(body, &header, digests, *tokens);
        }
    }
    let before_tokens = tokens::count(encoding, before);
    let rest_tokens = if body_then_after {
        known.blocks.count(encoding, &body) + tokens::count(encoding, after)
    } else {
        tokens::count(encoding, &join(&[&body, after]))
    };
    let count = |claimed: usize| {
        let header = header(claimed);
        if boundary_between(before, &header) && boundary_between(&header, rest) {
            before_tokens + tokens::count(encoding, &header) + rest_tokens
        } else {
            tokens::count(encoding, &text_of(&header))
        }
    };
    // Always start from 0: where two counts would both state themselves, the one chosen must
    // depend on the tree alone, not on what a previous run wrote.
    let mut claimed = 0;
    let mut seen = Vec::new();
    // The number the header states, and the count of the text with that header.
    let (stated, tokens) = loop {
        let actual = count(claimed);
        if actual == claimed {
            break (actual, actual);
        }
        if seen.contains(&actual) {
            // Oscillating between values: search near them for a number that states itself.
            let lo = seen
                .iter()
                .min()
                .copied()
                .unwrap_or(actual)
                .saturating_sub(8);
            let hi = seen.iter().max().copied().unwrap_or(actual) + 8;
            break match (lo..=hi).find(|&c| count(c) == c) {
                Some(c) => (c, c),
                None => (claimed, actual),
            };
        }
        seen.push(actual);
        claimed = actual;
    };
    let header = header(stated);
    let digests = digests_of(&header);
    md(body, &header, digests, tokens)
}

/// Whether a piece boundary falls between `left` and `right` when one follows the other
/// (always at the start or the end of the text).
fn boundary_between(left: &str, right: &str) -> bool {
    match (left.chars().next_back(), right.chars().next()) {
        (Some(l), Some(r)) => tokens::is_piece_boundary(&format!("{l}{r}"), l.len_utf8()),
        _ => true,
    }
}
