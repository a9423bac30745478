//! Building the index: walk, then read, hash and analyse every document in parallel, reusing
//! the previous analysis of any document whose bytes have not changed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::analyse::{self, Doc, Settings};
use crate::config::{Config, Encoding};
use crate::error::{Error, Result, Warning};
use crate::known_files::{self, FileKey, KnownFiles};
use crate::walk;

/// How far the current [`build`] has got: documents found and documents read so far. A
/// program can poll it to show progress (the docidx CLI does, on a terminal, after a second).
pub static PROGRESS: Progress = Progress {
    total: AtomicUsize::new(0),
    done: AtomicUsize::new(0),
};

/// Counters for [`PROGRESS`].
#[derive(Debug)]
pub struct Progress {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
}

/// The sorted documents of a tree: the single input of every renderer and validation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub encoding: Encoding,
    /// Sorted by path.
    pub docs: Vec<Doc>,
}

impl Index {
    /// Tokens of all documents together.
    pub fn total_tokens(&self) -> usize {
        self.docs.iter().map(|d| d.tokens).sum()
    }

    /// The document at `path` (relative to the root, `/`-separated).
    pub fn doc(&self, path: &str) -> Option<&Doc> {
        self.docs
            .binary_search_by(|d| d.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.docs[i])
    }
}

/// An index and what happened while building it.
#[derive(Debug)]
pub struct Built {
    pub index: Index,
    /// Skipped files, invalid UTF-8, malformed front matter… sorted by path.
    pub warnings: Vec<Warning>,
    /// Whether some file or folder could not be read.
    pub incomplete: bool,
    /// Documents analysed afresh (the others were reused).
    pub analysed: usize,
    /// For each doc of the index, its key as `fstat` gave it before it was read, when the
    /// build read every doc itself with the cache on ([`crate::known_files`]); else empty.
    pub keys: Vec<Option<FileKey>>,
}

/// The analysis settings of a config.
pub fn settings(config: &Config) -> Settings {
    Settings {
        encoding: config.encoding,
        summary_chars: config.summary_chars,
    }
}

/// The most files one task of a per-file loop takes. Rayon otherwise splits a loop into a few
/// long runs per thread; a run still going when the other threads run out of work leaves them
/// idle (on tldr, one core idled for the last 50 to 75 ms of a cold run's analysis).
pub(crate) const FILES_PER_TASK: usize = 16;

/// A pool of `config.jobs` worker threads (one per core by default) for per-file work.
pub fn thread_pool(root: &Path, config: &Config) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Other {
            path: root.into(),
            message: e.to_string(),
        })
}

/// The docs of a tree read and hashed, not analysed: enough to tell whether anything changed
/// since the last run ([`crate::cache`]) before doing any more work.
#[derive(Debug)]
pub struct Scan {
    pub discovery: walk::Discovery,
    /// For each file of `discovery`, in the same order.
    hashes: Vec<Hashed>,
    /// For each file of `discovery`, its key as `stat` saw it before it was read; all `None`
    /// when the cache is off.
    keys: Vec<Option<FileKey>>,
    /// How many files the known files record (0 without them).
    recorded: usize,
    /// The files of `discovery` hashed without being recognised from the known files.
    unrecognised: Vec<usize>,
    /// [`Scan::digest`], when the known files recognised every doc and hold no other.
    digest: Option<String>,
}

#[derive(Debug)]
enum Hashed {
    Sha256(String),
    Skipped(Warning),
    Unreadable(Warning),
}

impl Scan {
    /// [`crate::cache::docs_digest`] of the docs read.
    pub fn digest(&self) -> String {
        if let Some(digest) = &self.digest {
            return digest.clone();
        }
        crate::cache::docs_digest(
            self.hashed()
                .map(|(file, sha256)| (file.rel.as_str(), sha256)),
        )
    }

    /// The docs read, with their SHA-256 (hex), in path order; files too large or unreadable
    /// are left out.
    pub fn hashed(&self) -> impl Iterator<Item = (&walk::DocFile, &str)> {
        self.discovery
            .files
            .iter()
            .zip(&self.hashes)
            .filter_map(|(file, hashed)| match hashed {
                Hashed::Sha256(sha256) => Some((file, sha256.as_str())),
                _ => None,
            })
    }

    /// Whether some file or folder could not be read.
    pub fn incomplete(&self) -> bool {
        self.discovery.incomplete
            || self
                .hashes
                .iter()
                .any(|h| matches!(h, Hashed::Unreadable(_)))
    }

    /// Warnings from the walk and from reading (files over the size limit, unreadable files),
    /// sorted.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = self.discovery.warnings.clone();
        warnings.extend(self.hashes.iter().filter_map(|h| match h {
            Hashed::Skipped(w) | Hashed::Unreadable(w) => Some(w.clone()),
            Hashed::Sha256(_) => None,
        }));
        warnings.sort();
        warnings
    }

    /// The known files to record for the docs hashed ([`known_files::render`]), with the
    /// settled ones of a run that began at `started`; `None` when they are recorded already.
    pub fn known_files(&self, started: SystemTime) -> Option<String> {
        // Worth writing again when a doc not recognised has settled, or when some recorded
        // doc is gone. The line of a doc that changed a moment ago (too recently to record)
        // can stay: its key no longer matches, so the next run reads that doc.
        let recordable = |&i: &usize| {
            let rel = &self.discovery.files[i].rel;
            self.keys[i].is_some_and(|key| known_files::recordable(rel, &key, started))
        };
        let gone = self.recorded > self.discovery.files.len();
        if !gone && !self.unrecognised.iter().any(recordable) {
            return None;
        }
        let docs = self
            .discovery
            .files
            .iter()
            .zip(&self.hashes)
            .zip(&self.keys);
        Some(known_files::render(
            docs.filter_map(|((file, hashed), key)| match hashed {
                Hashed::Sha256(sha256) => Some((file.rel.as_str(), sha256.as_str(), *key)),
                _ => None,
            }),
            started,
        ))
    }
}

/// Walks `root` (skipping `not_docs`) and reads and hashes every document in parallel.
///
/// With the cache on, each doc is `stat`ed first, and one that the known files record with the
/// same key ([`crate::known_files`]) is not read: its SHA-256 is the recorded one.
pub fn scan(root: &Path, config: &Config, not_docs: &[String]) -> Result<Scan> {
    // While the tree is walked: the known files, and the digest of the docs as they record
    // them, which is the scan's when they recognise every doc.
    let (discovery, known) = rayon::join(
        || walk::discover(root, config, not_docs),
        || {
            KnownFiles::load(root, config, known_files::Kind::Docs).map(|known| {
                let digest = known.docs_digest();
                (known, digest)
            })
        },
    );
    let (known, known_digest) = known.unzip();
    let discovery = discovery?;
    let pool = thread_pool(root, config)?;
    let max = config.max_file_size;
    // The docs hashed without being recognised, in no order until sorted below: rare in a
    // warm run, and cheap beside reading a doc in any other.
    let unrecognised = std::sync::Mutex::new(Vec::new());
    let (hashes, keys): (Vec<Hashed>, Vec<Option<FileKey>>) = pool.install(|| {
        discovery
            .files
            .par_iter()
            .with_max_len(FILES_PER_TASK)
            .enumerate()
            .map_init(walk::Folders::default, |folders, (i, file)| {
                // With known files, `stat` first; without, the key comes from the open doc.
                let mut key = known.as_ref().and_then(|_| folders.key(&file.path));
                let recorded = match (&known, &key) {
                    (Some(known), Some(key)) if key.size() <= max => {
                        known.digest(&file.rel, key, i)
                    }
                    _ => None,
                };
                if let Some(sha256) = recorded {
                    return (Hashed::Sha256(sha256.to_owned()), key);
                }
                let read = if config.cache && known.is_none() {
                    walk::read_doc_keyed(folders, &file.path, max, analyse::sha256_hex).map(
                        |(c, k)| {
                            key = k;
                            c
                        },
                    )
                } else {
                    walk::read_doc_with(folders, &file.path, max, analyse::sha256_hex)
                };
                let hashed = match read {
                    Ok(walk::Content::Bytes(sha256)) => {
                        let mut unrecognised = unrecognised.lock().expect("no thread panics");
                        unrecognised.push(i);
                        Hashed::Sha256(sha256)
                    }
                    Ok(walk::Content::TooLarge(size)) => {
                        Hashed::Skipped(walk::too_large(&file.rel, size, max))
                    }
                    Err(e) => {
                        Hashed::Unreadable(Warning::new(&file.rel, format!("cannot read: {e}")))
                    }
                };
                (hashed, key)
            })
            .unzip()
    });
    let mut unrecognised = unrecognised.into_inner().expect("no thread panicked");
    unrecognised.sort_unstable();
    let recorded = known.as_ref().map_or(0, KnownFiles::len);
    // Every doc recognised, each from its own line, and no other line: the same docs.
    let all_recognised = unrecognised.is_empty()
        && recorded == hashes.len()
        && hashes.iter().all(|h| matches!(h, Hashed::Sha256(_)));
    Ok(Scan {
        discovery,
        hashes,
        keys,
        recorded,
        unrecognised,
        digest: known_digest.filter(|_| all_recognised),
    })
}

/// Walks `root` and analyses every document (skipping `not_docs`, root-relative paths).
///
/// `previous` are analyses from an earlier run with the same docidx version, encoding and
/// settings ([`crate::render::index_json::reusable_docs`] checks that): a document whose
/// SHA-256 matches its previous analysis is not parsed or tokenized again. They are moved into
/// the new index, not copied. With a [`Scan`] of the tree, its walk is used and a document
/// whose hash matches its previous analysis is not even read again.
pub fn build(
    root: &Path,
    config: &Config,
    not_docs: &[String],
    previous: Vec<Doc>,
    scanned: Option<Scan>,
) -> Result<Built> {
    let (found, hashes) = match scanned {
        Some(scan) => (scan.discovery, Some(scan.hashes)),
        None => (walk::discover(root, config, not_docs)?, None),
    };
    let settings = settings(config);
    let pool = thread_pool(root, config)?;
    // A scan has the keys already.
    let want_keys = config.cache && hashes.is_none();

    // Not boxed: the docs are collected in place into the buffer of the outcomes (see below),
    // so a large tree never holds its analyses twice.
    #[allow(clippy::large_enum_variant)]
    enum Outcome {
        Reused(usize),
        Analysed(Doc, Vec<Warning>),
        Unreadable(Warning),
        Skipped(Warning),
    }
    PROGRESS.done.store(0, Ordering::Relaxed);
    PROGRESS.total.store(found.files.len(), Ordering::Relaxed);
    let by_path: HashMap<&str, usize> = previous
        .iter()
        .enumerate()
        .map(|(i, d)| (d.path.as_str(), i))
        .collect();
    let reusable = |rel: &str, sha256: &str| {
        by_path
            .get(rel)
            .copied()
            .filter(|&i| previous[i].sha256 == sha256)
    };
    let outcomes: Vec<(Outcome, Option<FileKey>)> = pool.install(|| {
        found
            .files
            .par_iter()
            .with_max_len(FILES_PER_TASK)
            .enumerate()
            .map_init(walk::Folders::default, |folders, (i, file)| {
                PROGRESS.done.fetch_add(1, Ordering::Relaxed);
                match hashes.as_ref().map(|h| &h[i]) {
                    Some(Hashed::Sha256(sha256)) => {
                        if let Some(i) = reusable(&file.rel, sha256) {
                            return (Outcome::Reused(i), None);
                        }
                    }
                    Some(Hashed::Skipped(w)) => return (Outcome::Skipped(w.clone()), None),
                    Some(Hashed::Unreadable(w)) => return (Outcome::Unreadable(w.clone()), None),
                    None => {}
                }
                let analyse = |bytes: &[u8]| {
                    let sha256 = analyse::sha256_hex(bytes);
                    match reusable(&file.rel, &sha256) {
                        Some(i) => Err(i),
                        None => Ok(analyse::analyse_hashed(&file.rel, bytes, sha256, &settings)),
                    }
                };
                let max = config.max_file_size;
                let (analysed, key) = if want_keys {
                    match walk::read_doc_keyed(folders, &file.path, max, analyse) {
                        Ok((content, key)) => (Ok(content), key),
                        Err(e) => (Err(e), None),
                    }
                } else {
                    (walk::read_doc_with(folders, &file.path, max, analyse), None)
                };
                let outcome = match analysed {
                    Ok(walk::Content::Bytes(Ok((doc, warnings)))) => {
                        Outcome::Analysed(doc, warnings)
                    }
                    Ok(walk::Content::Bytes(Err(i))) => Outcome::Reused(i),
                    Ok(walk::Content::TooLarge(size)) => {
                        Outcome::Skipped(walk::too_large(&file.rel, size, config.max_file_size))
                    }
                    Err(e) => {
                        Outcome::Unreadable(Warning::new(&file.rel, format!("cannot read: {e}")))
                    }
                };
                (outcome, key)
            })
            .collect()
    });

    drop(by_path);
    let mut previous: Vec<Option<Doc>> = previous.into_iter().map(Some).collect();
    let mut warnings = found.warnings;
    let mut incomplete = found.incomplete;
    let mut analysed = 0;
    let mut keys = Vec::with_capacity(if want_keys { outcomes.len() } else { 0 });
    // `into_iter().filter_map().collect()` reuses the outcomes' allocation for the docs.
    let docs: Vec<Doc> = outcomes
        .into_iter()
        .filter_map(|(outcome, key)| {
            let doc = match outcome {
                Outcome::Reused(i) => {
                    let doc = previous[i]
                        .take()
                        .expect("each path is reused at most once");
                    warnings.extend(doc.path_warnings());
                    Some(doc)
                }
                Outcome::Analysed(doc, w) => {
                    analysed += 1;
                    warnings.extend(w);
                    Some(doc)
                }
                Outcome::Skipped(w) => {
                    warnings.push(w);
                    None
                }
                Outcome::Unreadable(w) => {
                    incomplete = true;
                    warnings.push(w);
                    None
                }
            };
            if want_keys && doc.is_some() {
                keys.push(key);
            }
            doc
        })
        .collect();
    warnings.sort();
    Ok(Built {
        index: Index {
            encoding: config.encoding,
            docs,
        },
        warnings,
        incomplete,
        analysed,
        keys,
    })
}
