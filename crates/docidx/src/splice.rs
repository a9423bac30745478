//! A `generate` run after a few docs changed: only those docs are read and analysed again.
//! The entries of the others are copied byte for byte from the `INDEX.md` and `INDEX.json`
//! the last run wrote, which the cache vouches for, so the run costs the changed docs, the
//! walk, read and hash of the tree, and writing the outputs.
//!
//! It applies when the stamp's settings match and every output is exactly as the last run
//! wrote it; anything else (an output edited by hand, a budget, `llms.txt`, a missing or
//! inconsistent cache) takes the full path of [`crate::generate::plan`]. Either way the
//! outputs are the same bytes.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analyse::{self, Doc};
use crate::cache::{self, Record, Row, Spliced, Stamp};
use crate::config::Config;
use crate::error::{Result, Warning};
use crate::generate::{self, Frame, Known, Layout, Options, Plan};
use crate::index::{self, Scan};
use crate::known_files::FileKey;
use crate::manifest::{self, Changes};
use crate::output::{read_if_exists, Output, SpanReader};
use crate::render::index_json::{self, Entry, Statistics};
use crate::render::index_md::{self, Detail, Lines};
use crate::tokens;
use crate::walk;

/// The outputs as the run found them, in the order of [`Layout::outputs`].
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Their digests, which match the stamp.
    pub digests: &'a [[u8; 32]],
    /// Their keys where they vouch for the digests ([`Output::vouched`]).
    pub keys: &'a [Option<FileKey>],
}

/// The plan of a run where only docs changed since the stamp, or `None` when the full path
/// must run instead.
pub fn plan(
    config: &Config,
    layout: &Layout,
    options: &Options,
    stamp: &Stamp,
    scan: &Scan,
    seen: Seen,
) -> Result<Option<Plan>> {
    let Seen { digests, keys } = seen;
    let key = |i: usize| keys.get(i).copied().flatten();
    if config.budget.is_some() || config.llms_txt || !config.cache {
        return Ok(None);
    }
    // Changed docs are counted, and so are the blocks of INDEX.md that change.
    tokens::build_in_background(config.encoding);
    // The table, and the outputs its spans point into, read at once. The outputs were hashed a
    // moment ago; if one changes before the new outputs are written, `write_all` finds it and
    // writes nothing.
    let (table, outputs) = rayon::join(
        || cache::load_table(&layout.root, stamp),
        || -> Result<_> {
            Ok((
                read_if_exists(&layout.index_md)?,
                SpanReader::open(&layout.index_json)?,
            ))
        },
    );
    let (Some(table), (Some(md_bytes), Some(mut json))) = (table, outputs?) else {
        return Ok(None);
    };
    let Ok(md_text) = std::str::from_utf8(&md_bytes) else {
        return Ok(None);
    };
    let frame = Frame::of_text(&layout.index_md, Some(md_text), options.force)?;
    if frame.newline != table.newline {
        return Ok(None);
    }

    // Each doc in path order: kept (same path and bytes as in the table) or to analyse. The
    // table and the scan are both in path order, so one pass over each pairs them up.
    let mut rows = Vec::new();
    let mut changed: Vec<&walk::DocFile> = Vec::new();
    let mut next = 0;
    for (file, sha256) in scan.hashed() {
        // Past the docs removed since the table was written.
        while table.docs.get(next).is_some_and(|e| e.path < file.rel) {
            next += 1;
        }
        match table.docs.get(next) {
            Some(e) if e.path == file.rel && e.sha256 == sha256 => {
                rows.push(Row::Kept(next));
                next += 1;
            }
            _ => {
                rows.push(Row::Fresh(changed.len()));
                changed.push(file);
            }
        }
    }
    // Every span the run copies must lie in the files it copies from.
    let md_of = |i: usize| {
        let [a, b] = table.docs[i].md;
        md_text.get(a as usize..b as usize)
    };
    let json_len = json.len();
    let json_of = |i: usize| {
        let [a, b] = table.docs[i].json;
        (a <= b && b <= json_len).then_some([a, b])
    };
    let kept = || {
        rows.iter().filter_map(|r| match r {
            Row::Kept(i) => Some(*i),
            Row::Fresh(_) => None,
        })
    };
    if kept().any(|i| md_of(i).is_none() || json_of(i).is_none()) {
        return Ok(None);
    }

    let Some(fresh) = analyse_changed(layout, config, &changed)? else {
        return Ok(None);
    };
    let docs = Docs {
        table: &table,
        rows: &rows,
        fresh: &fresh,
    };
    let totals = docs.totals();
    let body = index_md::render_body_of(
        rows.iter().map(|&row| {
            let lines = match row {
                Row::Kept(i) => Lines::Kept(md_of(i).expect("checked above")),
                Row::Fresh(j) => Lines::Doc(&fresh[j]),
            };
            (docs.path(row), lines)
        }),
        &layout.index_dir,
        Detail {
            sections_over: Some(config.section_threshold),
            summary_chars: None,
        },
        frame.newline,
    );
    let md_len = md_bytes.len();
    drop(md_bytes);
    let known_index = (!stamp.statistics.index_sha256.is_empty()).then(|| {
        (
            stamp.statistics.index_tokens,
            stamp.statistics.index_sha256.clone(),
        )
    });
    let blocks = tokens::BlockMemo::new(cache::load_blocks(&layout.root, config));
    let navigation = frame.navigation(&layout.index_dir);
    let settings = index::settings(config);

    // What needs the docs alone is worked out on a thread of its own while the outputs render.
    let (by_docs, rendered) = std::thread::scope(|scope| {
        let by_docs = scope.spawn(|| {
            // Changes since the last run, whose manifest the table holds (in the same order).
            let changes = Changes::between_sorted(
                table
                    .docs
                    .iter()
                    .map(|e| (e.path.as_str(), e.sha256.as_str())),
                docs.pairs(),
            );
            let doc_warnings = docs.warnings(stamp);
            // The walk's and reading's warnings, and the docs' own.
            let mut warnings = scan.warnings();
            warnings.extend(doc_warnings.iter().cloned());
            warnings.sort();
            (
                changes,
                manifest::render_sorted(docs.pairs()),
                cache::docs_digest(docs.pairs()),
                doc_warnings,
                warnings,
            )
        });
        let md = generate::render_md(
            body.text,
            (totals.documents, totals.tokens, config.encoding),
            &frame,
            Known {
                index: known_index.as_ref(),
                index_len: Some(md_len),
                blocks: &blocks,
            },
        );
        let statistics = totals.with_index_digest(&md.sha256, md.tokens);
        let json = generate::json_output(
            layout.index_json.clone(),
            Some(digests[1]),
            options.check,
            |w| {
                index_json::write_of(
                    w,
                    config.encoding,
                    &settings,
                    &statistics,
                    &navigation,
                    rows.iter().map(|row| match *row {
                        Row::Kept(i) => Entry::Kept(json_of(i).expect("checked above")),
                        Row::Fresh(j) => Entry::Doc(&fresh[j]),
                    }),
                    &mut |span, w| json.copy(span, w),
                )
            },
        );
        let by_docs = by_docs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (by_docs, json.map(|json| (md, statistics, json)))
    });
    let (changes, manifest_text, docs_digest, doc_warnings, warnings) = by_docs;
    let (md, statistics, (json_output, json_spans)) = rendered?;
    drop(json);

    let body_at = md.body_at as u64;
    let outputs = vec![
        Output::hashed(
            layout.index_md.clone(),
            md.text.into_bytes(),
            md.digest,
            Some(digests[0]),
        )
        .vouched(key(0)),
        json_output.vouched(key(1)),
        Output::with_digest(layout.manifest.clone(), manifest_text, Some(digests[2]))
            .vouched(key(2))
            .regenerable(),
    ];
    let analysed = fresh.len();
    let record = (!options.check).then(|| Record {
        stamp: generate::new_stamp(
            config,
            layout,
            docs_digest,
            &outputs,
            statistics.clone(),
            doc_warnings,
            Vec::new(),
        ),
        index_blocks: blocks.into_used(),
        newline: frame.newline.to_string(),
        spans: generate::spans_of(&json_spans, &body.spans, body_at),
        spliced: Some(Spliced {
            table,
            links_digest: stamp.links.clone(),
            rows,
            fresh,
        }),
    });
    Ok(Some(Plan {
        outputs,
        index: None,
        statistics,
        changes,
        warnings,
        incomplete: false,
        analysed,
        budget_notes: Vec::new(),
        cache: record,
        known_files: None,
        known_outputs: None,
    }))
}

/// The docs of a spliced run, in path order.
struct Docs<'a> {
    /// The last run's table, which the kept rows point into.
    table: &'a cache::Table,
    rows: &'a [Row],
    /// The docs analysed afresh, which the fresh rows point into.
    fresh: &'a [Doc],
}

impl<'a> Docs<'a> {
    fn path(&self, row: Row) -> &'a str {
        match row {
            Row::Kept(i) => &self.table.docs[i].path,
            Row::Fresh(j) => &self.fresh[j].path,
        }
    }

    /// Each doc's path and SHA-256 (hex).
    fn pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + '_ {
        self.rows.iter().map(|&row| match row {
            Row::Kept(i) => (&*self.table.docs[i].path, &*self.table.docs[i].sha256),
            Row::Fresh(j) => (&*self.fresh[j].path, &*self.fresh[j].sha256),
        })
    }

    /// The totals of the docs (the index's own are added once it is rendered).
    fn totals(&self) -> Statistics {
        let mut totals = Statistics::default();
        for &row in self.rows {
            match row {
                Row::Kept(i) => {
                    let e = &self.table.docs[i];
                    totals.add(e.bytes, e.tokens, e.words);
                }
                Row::Fresh(j) => {
                    let d = &self.fresh[j];
                    totals.add(d.bytes, d.tokens, d.words);
                }
            }
        }
        totals
    }

    /// The docs' own warnings, in path order: the kept ones as the stamp has them, the fresh
    /// ones from their analysis.
    fn warnings(&self, stamp: &Stamp) -> Vec<Warning> {
        // Those of docs no longer kept are never taken out.
        let mut by_path: HashMap<String, Vec<Warning>> = HashMap::new();
        for w in stamp.doc_warnings() {
            by_path.entry(w.path.clone()).or_default().push(w);
        }
        let mut warnings = Vec::new();
        for &row in self.rows {
            match row {
                Row::Kept(_) if by_path.is_empty() => {}
                Row::Kept(_) => warnings.extend(by_path.remove(self.path(row)).unwrap_or_default()),
                Row::Fresh(j) => warnings.extend(self.fresh[j].path_warnings()),
            }
        }
        warnings
    }
}

/// Reads and analyses the changed docs in parallel; `None` if one can no longer be read as
/// it was when the tree was scanned (the full path then reports it).
fn analyse_changed(
    layout: &Layout,
    config: &Config,
    changed: &[&walk::DocFile],
) -> Result<Option<Vec<Doc>>> {
    let settings = index::settings(config);
    let pool = index::thread_pool(&layout.root, config)?;
    Ok(pool.install(|| {
        changed
            .par_iter()
            .map_init(walk::Folders::default, |folders, file| {
                let analysed =
                    walk::read_doc_with(folders, &file.path, config.max_file_size, |bytes| {
                        // The warnings returned are the doc's own (`Doc::path_warnings`).
                        let sha256 = analyse::sha256_hex(bytes);
                        analyse::analyse_hashed(&file.rel, bytes, sha256, &settings).0
                    });
                match analysed {
                    Ok(walk::Content::Bytes(doc)) => Some(doc),
                    _ => None,
                }
            })
            .collect()
    }))
}
