//! The run cache in `ROOT/.docidx-cache/`: what the last run that wrote the outputs saw, so
//! that a tree where nothing changed is recognised by walking and hashing it alone, without
//! reading the previous `INDEX.json` or rendering anything. The SHA-256 of the docs and the
//! digests of the outputs ([`crate::output::digest`]) come from [`crate::known_files`] when
//! `stat` shows them unchanged, from reading them otherwise.
//!
//! Besides the known files (one record for the docs, one for the outputs), it holds four files:
//! - The [`Stamp`]: the docidx version, a digest of the settings, a digest of every doc's path
//!   and SHA-256, the digest of every output as written, and the totals and warnings that run
//!   reported. A run may trust its outputs as they are when all of those still match.
//! - The [`Table`] of the docs: each one's SHA-256, totals, and where its entries are in the
//!   outputs, so a run where only docs changed copies the others' entries
//!   ([`crate::splice`]). Anything else (an output edited by hand, other settings) takes the
//!   full path, which reuses unchanged analyses from `INDEX.json`.
//! - What the link rules of `validate` need of each doc (anchors, links, count), a small
//!   fraction of `INDEX.json`, so a `validate` of an unchanged tree parses no Markdown but
//!   `INDEX.md`.
//! - The token counts of `INDEX.md`'s blocks, by content, so a changed doc recounts only its
//!   block ([`crate::tokens::BlockMemo`]).
//!
//! The cache is private to one checkout and disposable: the folder has a `.gitignore` that
//! ignores it whole and a `CACHEDIR.TAG`, deleting it only costs speed, and a cache that cannot
//! be written is skipped silently. `generate` writes it after writing its outputs;
//! `update-tokens` removes the stamp when it changes them; `validate` and `--check` runs only
//! read it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analyse::{Doc, DocWarning, Link, LinkKind, Section};
use crate::config::Config;
use crate::error::Warning;
use crate::generate::Layout;
use crate::known_files::{self, FileKey, KnownFiles};
use crate::render::index_json::Statistics;

/// The cache folder, directly under the root.
pub const CACHE_DIR: &str = ".docidx-cache";
/// The stamp's file name; the number changes when its shape does.
const STAMP_FILE: &str = "stamp-v3.json";
/// The docs as the link rules need them ([`LinkFacts`]), written with the stamp.
const LINKS_FILE: &str = "links-v2.json";
/// The token counts of `INDEX.md`'s blocks, by digest of encoding and block.
const BLOCKS_FILE: &str = "index-blocks-v2.json";
/// Each doc's totals and where its entries are in the outputs ([`Table`]).
const TABLE_FILE: &str = "docs-v1.txt";
/// Files of the cache's earlier shapes, removed when it is written.
const SUPERSEDED: [&str; 3] = ["stamp-v2.json", "index-blocks-v1.json", "outputs-v1.txt"];

/// What a run that wrote the outputs saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    /// The docidx version that wrote it.
    pub docidx: String,
    /// [`settings_key`] of that run.
    pub settings: String,
    /// [`docs_digest`] of the docs it indexed.
    pub docs: String,
    /// Root-relative path and [`crate::output::digest`] (hex) of every output as written.
    pub outputs: Vec<(String, String)>,
    /// The totals it reported.
    pub statistics: Statistics,
    /// Warnings from analysing the docs (malformed front matter…), as `(path, line, message)`:
    /// they depend on the docs' bytes alone, so an unchanged tree has them again.
    pub warnings: Vec<(String, Option<usize>, String)>,
    /// What that run left out of `INDEX.md` to meet the budget.
    pub budget_notes: Vec<String>,
    /// The [`crate::output::digest`] (hex) of the links file written with it (set by [`store`]).
    #[serde(default)]
    pub links: String,
}

impl Stamp {
    /// The analysis warnings as [`Warning`]s.
    pub fn doc_warnings(&self) -> impl Iterator<Item = Warning> + '_ {
        self.warnings.iter().map(|(path, line, message)| Warning {
            path: path.clone(),
            line: *line,
            message: message.clone(),
        })
    }
}

/// A digest of everything besides the docs that decides the outputs: the docidx version, the
/// settings (not `jobs` or `cache`, which change nothing in them), the output folder, and the
/// root folder's name when `llms.txt` takes the project name from it.
pub fn settings_key(config: &Config, layout: &Layout) -> String {
    let mut settings = config.clone();
    settings.jobs = None;
    settings.cache = true;
    let mut text = serde_json::to_string(&settings).expect("a config serializes");
    text.push('\n');
    text.push_str(crate::VERSION);
    text.push('\n');
    text.push_str(&layout.index_dir);
    if config.llms_txt && config.project_name.is_none() {
        let name = std::fs::canonicalize(&layout.root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
        text.push('\n');
        text.push_str(name.as_deref().unwrap_or(""));
    }
    crate::analyse::sha256_hex(text.as_bytes())
}

/// A digest of the docs' root-relative paths and SHA-256 (hex), in path order (BLAKE3, as
/// [`crate::output::digest`]).
pub fn docs_digest<'a>(docs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut hasher = blake3::Hasher::new();
    // Hashed a block at a time: four small updates per doc cost more than the hashing.
    let mut block = Vec::with_capacity(1 << 16);
    for (path, sha256) in docs {
        block.extend_from_slice(path.as_bytes());
        block.push(0);
        block.extend_from_slice(sha256.as_bytes());
        block.push(b'\n');
        if block.len() >= 1 << 15 {
            hasher.update(&block);
            block.clear();
        }
    }
    hasher.update(&block);
    crate::output::hex(hasher.finalize().as_bytes())
}

/// The cache folder if it is a plain folder: a symlink (which could lead out of the tree) or a
/// file in its place is not docidx's, and is neither read nor written.
fn cache_dir(root: &Path) -> Option<PathBuf> {
    let dir = root.join(CACHE_DIR);
    std::fs::symlink_metadata(&dir)
        .is_ok_and(|meta| meta.is_dir())
        .then_some(dir)
}

/// Reads a file of the cache folder.
pub(crate) fn read(root: &Path, name: &str) -> Option<Vec<u8>> {
    crate::walk::read_regular(&cache_dir(root)?.join(name)).ok()
}

/// The stamp of the last run at `root` if it was written by this docidx version with the
/// settings whose key is `settings`; `None` otherwise or when caching is off.
pub fn load(root: &Path, config: &Config, settings: &str) -> Option<Stamp> {
    if !config.cache {
        return None;
    }
    let bytes = read(root, STAMP_FILE)?;
    let stamp: Stamp = serde_json::from_slice(&bytes).ok()?;
    (stamp.docidx == crate::VERSION && stamp.settings == settings).then_some(stamp)
}

/// The outputs as a run found them, each with the bytes the stamp recorded.
#[derive(Debug)]
pub struct SeenOutputs {
    /// Each output's [`crate::output::digest`], in the order of [`Layout::outputs`].
    pub digests: Vec<[u8; 32]>,
    /// Each output's path and key, in the same order.
    seen: Vec<SeenOutput>,
}

/// How a run found one output.
#[derive(Debug)]
struct SeenOutput {
    /// Root-relative.
    rel: String,
    /// What `stat` told before it was read, if it was.
    key: Option<FileKey>,
    /// Whether the known outputs recognised it (it was not read).
    recognised: bool,
}

impl SeenOutputs {
    /// Each output's key (in the order of [`SeenOutputs::digests`]) where it vouches for the
    /// digest: the known outputs recognised it, or it had settled before `started` when it was
    /// hashed ([`crate::output::Output::vouched`]).
    pub fn vouched_keys(&self, started: std::time::SystemTime) -> Vec<Option<FileKey>> {
        let vouches = |out: &SeenOutput, key: &FileKey| {
            out.recognised || known_files::recordable(&out.rel, key, started)
        };
        (self.seen.iter())
            .map(|out| out.key.filter(|key| vouches(out, key)))
            .collect()
    }

    /// The known outputs to record for a run that began at `started`
    /// ([`crate::known_files`]); `None` when none was hashed that has settled.
    pub fn known_files(&self, started: std::time::SystemTime) -> Option<String> {
        let unrecorded = self.seen.iter().any(|out| {
            !out.recognised
                && out
                    .key
                    .is_some_and(|k| known_files::recordable(&out.rel, &k, started))
        });
        if !unrecorded {
            return None;
        }
        let hex: Vec<String> = self.digests.iter().map(|d| crate::output::hex(d)).collect();
        let mut files: Vec<(&str, &str, Option<FileKey>)> = self
            .seen
            .iter()
            .zip(&hex)
            .map(|(out, sha256)| (out.rel.as_str(), sha256.as_str(), out.key))
            .collect();
        files.sort_unstable_by_key(|&(rel, ..)| rel);
        Some(known_files::render(files, started))
    }
}

/// The outputs if every output of `stamp` is on disk with the bytes it recorded and
/// `expected` (the root-relative outputs this run would write) are exactly those outputs;
/// `None` otherwise. An output the known outputs record with its `stat` key is not read.
pub fn outputs_match(
    root: &Path,
    config: &Config,
    stamp: &Stamp,
    expected: &[String],
) -> Option<SeenOutputs> {
    use rayon::prelude::*;
    let same_set = stamp.outputs.len() == expected.len()
        && stamp.outputs.iter().zip(expected).all(|((p, _), e)| p == e);
    if !same_set {
        return None;
    }
    let known = KnownFiles::load(root, config, known_files::Kind::Outputs);
    let seen: Vec<([u8; 32], SeenOutput)> = stamp
        .outputs
        .par_iter()
        .map(|(rel, sha256)| {
            let full = root.join(crate::resolve::fs_path(rel));
            // The key before the bytes: a write after it changes the key the next run sees.
            let key = FileKey::of_path(&full);
            let recorded = match (&known, &key) {
                (Some(known), Some(key)) => known.digest(rel, key, 0),
                _ => None,
            };
            let (digest, recognised) = match recorded {
                Some(recorded) if recorded == sha256 => (unhex(recorded)?, true),
                _ => match crate::output::digest_file(&full) {
                    Ok(Some(d)) if crate::output::hex(&d) == *sha256 => (d, false),
                    _ => return None,
                },
            };
            let rel = rel.clone();
            Some((
                digest,
                SeenOutput {
                    rel,
                    key,
                    recognised,
                },
            ))
        })
        .collect::<Option<_>>()?;
    let (digests, seen) = seen.into_iter().unzip();
    Some(SeenOutputs { digests, seen })
}

/// The 32 bytes of a digest written in hex.
fn unhex(hex: &str) -> Option<[u8; 32]> {
    let mut digest = [0; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

/// The block counts the last run stored ([`crate::tokens::BlockMemo`]); empty if none. They
/// are keyed by content, so any stored count is right for its block.
pub fn load_blocks(root: &Path, config: &Config) -> std::collections::HashMap<String, usize> {
    if !config.cache {
        return Default::default();
    }
    read(root, BLOCKS_FILE)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// What the link rules need of one doc (empty lists are left out of the file).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct LinkFacts {
    path: String,
    tokens: usize,
    /// The anchors of its sections, in order.
    #[serde(default)]
    sections: Vec<String>,
    /// Its explicit anchors.
    #[serde(default)]
    anchors: Vec<String>,
    /// Its links to files and anchors of the tree.
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    warnings: Vec<DocWarning>,
}

/// The docs the stamp describes, in path order, with what the link rules need (paths, counts,
/// anchors, relative links, warnings) and nothing else: hashes (the scan has them), titles,
/// summaries, sections' lines and front matter are empty. `None` when the file is missing or
/// is not the one written with the stamp.
pub fn load_link_docs(root: &Path, stamp: &Stamp) -> Option<Vec<Doc>> {
    let bytes = read(root, LINKS_FILE)?;
    if crate::output::hex(&crate::output::digest(&bytes)) != stamp.links {
        return None;
    }
    let facts: Vec<LinkFacts> = serde_json::from_slice(&bytes).ok()?;
    Some(
        facts
            .into_iter()
            .map(|f| Doc {
                path: f.path,
                bytes: 0,
                lines: 0,
                sha256: String::new(),
                tokens: f.tokens,
                words: 0,
                title: String::new(),
                summary: String::new(),
                front_matter: serde_json::Value::Null,
                sections: f
                    .sections
                    .into_iter()
                    .map(|anchor| Section {
                        level: 0,
                        heading: String::new(),
                        anchor,
                        start_line: 0,
                        end_line: 0,
                        tokens: 0,
                    })
                    .collect(),
                links: f.links,
                anchors: f.anchors,
                warnings: f.warnings,
            })
            .collect(),
    )
}

/// A byte range `[start, end)` in a file.
pub type Span = [u64; 2];

/// One doc of the last run: its totals and where its entries are in the files that run wrote,
/// so a run that finds it unchanged copies those bytes instead of analysing it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub words: usize,
    pub tokens: usize,
    /// Its object in `INDEX.json`.
    pub json: Span,
    /// Its lines in `INDEX.md`.
    pub md: Span,
    /// Its link facts in the cache's links file.
    pub links: Span,
}

/// Every doc of the last run, in path order ([`Entry`]), and what its spans are valid for.
///
/// Stored as text, one line per doc, read in a few milliseconds for 40,000 docs:
///
/// ```text
/// docidx table 1
/// newline "\n"
/// <sha256> <bytes> <words> <tokens> <json start> <json end> <md start> <md end> <links start> <links end> <path as a JSON string>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The line break of `INDEX.md`'s generated lines.
    pub newline: String,
    pub docs: Vec<Entry>,
}

const TABLE_HEADER: &str = "docidx table 1\n";

/// Writes the table's lines, as stored, into `out`: its header, then one line per doc.
fn write_table_header(out: &mut Vec<u8>, newline: &str) {
    out.extend_from_slice(TABLE_HEADER.as_bytes());
    let newline = serde_json::to_string(newline).expect("a string serializes");
    out.extend_from_slice(format!("newline {newline}\n").as_bytes());
}

/// Appends the line of one doc to the table `out`.
fn write_table_line(out: &mut Vec<u8>, e: EntryOf, [json, md, links]: [Span; 3]) {
    // Formatted by hand rather than with `write!`: ten numbers a line, 38,405 lines on tldr.
    let mut number = itoa::Buffer::new();
    out.extend_from_slice(e.sha256.as_bytes());
    let counts = [e.words, e.tokens].map(|n| n as u64);
    for n in [e.bytes, counts[0], counts[1]]
        .into_iter()
        .chain(json)
        .chain(md)
        .chain(links)
    {
        out.push(b' ');
        out.extend_from_slice(number.format(n).as_bytes());
    }
    out.push(b' ');
    serde_json::to_writer(&mut *out, e.path).expect("a string serializes");
    out.push(b'\n');
}

/// Parses a stored table; `None` if it is not one.
fn parse_table(bytes: &[u8]) -> Option<Table> {
    let text = std::str::from_utf8(bytes)
        .ok()?
        .strip_prefix(TABLE_HEADER)?;
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let newline: String = serde_json::from_str(first.strip_prefix("newline ")?).ok()?;
    // 38,405 lines on tldr: parsed on all cores, in order, each straight into its place.
    use rayon::prelude::*;
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', rest.as_bytes()).count() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', rest.as_bytes()) {
        lines.push(&rest[start..end]);
        start = end + 1;
    }
    if start < rest.len() {
        lines.push(&rest[start..]);
    }
    let mut docs = Vec::with_capacity(lines.len());
    lines
        .par_iter()
        .with_min_len(1024)
        .map(|line| parse_table_line(line))
        .collect_into_vec(&mut docs);
    let docs = docs.into_iter().collect::<Option<Vec<Entry>>>()?;
    Some(Table { newline, docs })
}

/// One doc's line of the table: `sha256 bytes words tokens j0 j1 m0 m1 l0 l1 "path"`.
fn parse_table_line(line: &str) -> Option<Entry> {
    let mut fields = line.splitn(11, ' ');
    let sha256 = fields.next()?.to_string();
    let mut n = || fields.next()?.parse::<u64>().ok();
    let numbers = [n()?, n()?, n()?, n()?, n()?, n()?, n()?, n()?, n()?];
    let path = fields.next()?;
    // Most paths need no escapes: skip the JSON parser for them.
    let path = match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(plain) if !plain.contains(['\\', '"']) => plain.to_string(),
        _ => serde_json::from_str(path).ok()?,
    };
    let [bytes, words, tokens, j0, j1, m0, m1, l0, l1] = numbers;
    Some(Entry {
        path,
        sha256,
        bytes,
        words: words as usize,
        tokens: tokens as usize,
        json: [j0, j1],
        md: [m0, m1],
        links: [l0, l1],
    })
}

/// The table of the run that wrote the stamp; `None` if missing or not of the stamp's docs.
pub fn load_table(root: &Path, stamp: &Stamp) -> Option<Table> {
    let table = parse_table(&read(root, TABLE_FILE)?)?;
    let digest = docs_digest(
        table
            .docs
            .iter()
            .map(|e| (e.path.as_str(), e.sha256.as_str())),
    );
    (digest == stamp.docs).then_some(table)
}

/// What `generate` stores in the cache once it has written its outputs ([`store`]).
#[derive(Debug)]
pub struct Record {
    pub stamp: Stamp,
    /// The token counts of `INDEX.md`'s blocks ([`crate::tokens::BlockMemo`]).
    pub index_blocks: std::collections::BTreeMap<String, usize>,
    /// The line break of `INDEX.md`'s generated lines.
    pub newline: String,
    /// For each doc in path order: its object in `INDEX.json` and its lines in `INDEX.md`.
    pub spans: Vec<(Span, Span)>,
    /// Where the docs come from when the run kept some from the last run's outputs; `None`
    /// when the run's index holds every doc.
    pub spliced: Option<Spliced>,
}

/// The docs of a run that analysed only the changed ones ([`crate::splice`]).
#[derive(Debug)]
pub struct Spliced {
    /// The last run's table.
    pub table: Table,
    /// The digest (hex) of the last run's links file, which the table's `links` spans point
    /// into ([`Stamp::links`]).
    pub links_digest: String,
    /// Each doc in path order.
    pub rows: Vec<Row>,
    /// The docs analysed afresh.
    pub fresh: Vec<Doc>,
}

/// Where one doc of a spliced run comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Unchanged: the entry of the last run's table at this position.
    Kept(usize),
    /// Analysed afresh: the doc of [`Spliced::fresh`] at this position.
    Fresh(usize),
}

/// Where a doc of a run that stores the cache comes from.
enum Source<'a> {
    Doc(&'a Doc),
    Kept(&'a Entry),
}

/// The columns of a table line that come from the doc itself.
struct EntryOf<'a> {
    path: &'a str,
    sha256: &'a str,
    bytes: u64,
    words: usize,
    tokens: usize,
}

impl<'a> Source<'a> {
    fn entry(&self) -> EntryOf<'a> {
        match *self {
            Source::Doc(d) => EntryOf {
                path: &d.path,
                sha256: &d.sha256,
                bytes: d.bytes,
                words: d.words,
                tokens: d.tokens,
            },
            Source::Kept(e) => EntryOf {
                path: &e.path,
                sha256: &e.sha256,
                bytes: e.bytes,
                words: e.words,
                tokens: e.tokens,
            },
        }
    }
}

/// [`LinkFacts`] borrowed from a doc.
#[derive(Serialize)]
struct Facts<'a> {
    path: &'a str,
    tokens: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sections: Vec<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    anchors: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<&'a Link>,
    #[serde(skip_serializing_if = "<[DocWarning]>::is_empty")]
    warnings: &'a [DocWarning],
}

impl<'a> Facts<'a> {
    fn of(d: &'a Doc) -> Facts<'a> {
        Facts {
            path: &d.path,
            tokens: d.tokens,
            sections: d.sections.iter().map(|s| s.anchor.as_str()).collect(),
            anchors: &d.anchors,
            // External links and the like are never checked offline.
            links: d
                .links
                .iter()
                .filter(|l| matches!(l.kind, LinkKind::File | LinkKind::Anchor))
                .collect(),
            warnings: &d.warnings,
        }
    }
}

/// Serializes elements `0..count` with `element` on all cores, in chunks of a few hundred,
/// and writes them to `out` in order (as a JSON array if `array`); returns where each one is.
/// The chunks go a batch at a time, so only one batch is in memory, not the file's megabytes.
fn write_serialized(
    out: &mut dyn std::io::Write,
    count: usize,
    array: bool,
    element: impl Fn(usize, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<Vec<Span>> {
    use rayon::prelude::*;
    const PER_TASK: usize = 256;
    const TASKS_PER_BATCH: usize = 16;
    let tasks = count.div_ceil(PER_TASK);
    let mut spans = Vec::with_capacity(count);
    let mut at = 0;
    for first in (0..tasks).step_by(TASKS_PER_BATCH) {
        let parts = (first..tasks.min(first + TASKS_PER_BATCH))
            .into_par_iter()
            .map(|task| {
                let (mut bytes, mut spans) = (Vec::new(), Vec::new());
                for k in task * PER_TASK..count.min((task + 1) * PER_TASK) {
                    if array {
                        bytes.push(if k == 0 { b'[' } else { b',' });
                    }
                    let start = bytes.len() as u64;
                    element(k, &mut bytes)?;
                    spans.push([start, bytes.len() as u64]);
                }
                Ok((bytes, spans))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        for (bytes, part) in parts {
            spans.extend(part.iter().map(|[a, b]| [at + a, at + b]));
            at += bytes.len() as u64;
            out.write_all(&bytes)?;
        }
    }
    match (array, count) {
        (true, 0) => out.write_all(b"[]")?,
        (true, _) => out.write_all(b"]")?,
        (false, _) => {}
    }
    Ok(spans)
}

/// Writes what `record` describes but the stamp: the link facts of its docs (those of `index`,
/// or for a spliced run the kept ones copied from the last links file and the fresh ones), the
/// table and the block counts, creating the cache folder with its `.gitignore` and
/// `CACHEDIR.TAG`. It may run while the outputs are written; the stamp, which vouches for
/// them, is written once they are ([`StampToWrite::write`]). Best effort: a missing stamp only
/// costs the next run time. Removes a stale stamp it cannot replace, so it is never trusted
/// for outputs it did not see; `None` then, and when the cache is off.
pub fn store<'a>(
    root: &Path,
    config: &Config,
    record: &'a Record,
    index: Option<&'a crate::Index>,
) -> Option<StampToWrite> {
    if !config.cache {
        return None;
    }
    let written = (|| -> std::io::Result<StampToWrite> {
        let dir = folder_to_write(root)?;
        for name in SUPERSEDED {
            let _ = std::fs::remove_file(dir.join(name));
        }
        let fresh = |doc: &Doc, out: &mut Vec<u8>| {
            serde_json::to_writer(out, &Facts::of(doc)).expect("facts serialize")
        };
        // Each doc in path order, from the index or, for a spliced run, kept or fresh.
        let rows = record.spans.len();
        let doc_of = |k: usize| -> std::io::Result<Source> {
            match (&record.spliced, index) {
                (None, Some(index)) => index.docs.get(k).map(Source::Doc),
                (Some(spliced), _) => spliced.rows.get(k).map(|row| match *row {
                    Row::Kept(i) => Source::Kept(&spliced.table.docs[i]),
                    Row::Fresh(j) => Source::Doc(&spliced.fresh[j]),
                }),
                (None, None) => None,
            }
            .ok_or_else(|| std::io::Error::other("spans and docs differ"))
        };
        // The links file first, then the table that points into it: never both in memory.
        let old = match &record.spliced {
            Some(spliced) => {
                let old = read(root, LINKS_FILE).unwrap_or_default();
                if crate::output::hex(&crate::output::digest(&old)) != spliced.links_digest {
                    return Err(std::io::Error::other("the links file changed"));
                }
                old
            }
            None => Vec::new(),
        };
        // Not synced: a cache file lost in a crash costs the next run time, nothing else (the
        // stamp is checked against the outputs' bytes). Returns the digest of what it wrote.
        let atomic =
            |name: &str, render: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>| {
                crate::output::write_atomic_unsynced_with(&dir.join(name), render)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            };
        // Everything else first: the stamp vouches for it.
        let mut facts = Vec::new();
        let links_digest = atomic(LINKS_FILE, &mut |w| {
            facts = write_serialized(w, rows, true, |k, out| {
                match doc_of(k)? {
                    Source::Doc(doc) => fresh(doc, out),
                    Source::Kept(e) => {
                        let [a, b] = e.links;
                        let kept = old
                            .get(a as usize..b as usize)
                            .ok_or_else(|| std::io::Error::other("a span out of range"))?;
                        out.extend_from_slice(kept);
                    }
                }
                Ok(())
            })?;
            Ok(())
        })?;
        let links_digest = crate::output::hex(&links_digest);
        drop(old);
        atomic(TABLE_FILE, &mut |w| {
            let mut header = Vec::new();
            write_table_header(&mut header, &record.newline);
            w.write_all(&header)?;
            write_serialized(w, rows, false, |k, out| {
                let (json, md) = record.spans[k];
                write_table_line(out, doc_of(k)?.entry(), [json, md, facts[k]]);
                Ok(())
            })
            .map(drop)
        })?;
        atomic(BLOCKS_FILE, &mut |w| {
            serde_json::to_writer(w, &record.index_blocks).map_err(std::io::Error::other)
        })?;
        let stamp = Stamp {
            links: links_digest,
            ..record.stamp.clone()
        };
        let mut text = serde_json::to_vec(&stamp).expect("a stamp serializes");
        text.push(b'\n');
        Ok(StampToWrite {
            path: dir.join(STAMP_FILE),
            text,
        })
    })();
    if written.is_err() {
        invalidate(root);
    }
    written.ok()
}

/// The stamp of a run whose other cache files [`store`] wrote, to write once the outputs it
/// describes are written.
#[derive(Debug)]
pub struct StampToWrite {
    path: PathBuf,
    text: Vec<u8>,
}

impl StampToWrite {
    /// Writes the stamp (best effort: without it, the next run only takes longer).
    pub fn write(self) {
        if crate::output::write_atomic_unsynced(&self.path, &self.text).is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The cache folder, created with its `.gitignore` and `CACHEDIR.TAG` if it does not exist;
/// an error if something else than a plain folder is in its place. Threads that store files of
/// the same run call it at once.
pub(crate) fn folder_to_write(root: &Path) -> std::io::Result<PathBuf> {
    let dir = root.join(CACHE_DIR);
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        // A symlink (which could lead out of the tree) or a file: not docidx's folder.
        Ok(_) => return Err(std::io::Error::other("not a plain folder")),
        Err(_) => {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                // Made a moment ago by another thread of this run (or another run), which
                // writes the files below.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return match std::fs::symlink_metadata(&dir) {
                        Ok(meta) if meta.is_dir() => Ok(dir),
                        _ => Err(std::io::Error::other("not a plain folder")),
                    };
                }
                Err(e) => return Err(e),
            }
            std::fs::write(
                dir.join(".gitignore"),
                "# Created by docidx: the cache is never committed.\n*\n",
            )?;
            std::fs::write(
                dir.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n\
                 # This file is a cache directory tag created by docidx.\n\
                 # For information about cache directory tags see https://bford.info/cachedir/\n",
            )?;
        }
    }
    Ok(dir)
}

/// Removes the stamp (the outputs are about to change in a way it does not describe).
pub fn invalidate(root: &Path) {
    if let Some(dir) = cache_dir(root) {
        let _ = std::fs::remove_file(dir.join(STAMP_FILE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_that_make_the_folder_at_once_all_get_it() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            let made: Vec<_> = std::thread::scope(|scope| {
                let threads: Vec<_> = (0..4)
                    .map(|_| scope.spawn(|| folder_to_write(root).map_err(|e| e.to_string())))
                    .collect();
                threads.into_iter().map(|t| t.join().unwrap()).collect()
            });
            assert!(
                made.iter().all(|m| m.as_ref() == Ok(&root.join(CACHE_DIR))),
                "{made:?}"
            );
        }
    }

    #[test]
    fn docs_digest_hashes_each_path_and_hash_in_order() {
        // Enough docs to fill several of the blocks it hashes at a time.
        let docs: Vec<(String, String)> = (0..2_000)
            .map(|i| (format!("docs/{i}.md"), format!("{i:064x}")))
            .collect();
        let mut joined = Vec::new();
        for (path, sha256) in &docs {
            joined.extend_from_slice(format!("{path}\0{sha256}\n").as_bytes());
        }
        let pairs = docs.iter().map(|(p, s)| (p.as_str(), s.as_str()));
        let digest = |bytes: &[u8]| crate::output::hex(&crate::output::digest(bytes));
        assert_eq!(docs_digest(pairs), digest(&joined));
        assert_eq!(docs_digest([]), digest(b""));
    }
}
