//! The floors of a docs tree: what no indexer of that tree can beat on this machine.
//!
//! ```text
//! floors TREE [--encoding o200k|cl100k] [--threads N] [--repeat R]
//! ```
//!
//! Prints one JSON object:
//! - the walk alone, the walk + `stat` of every document, and the walk + read + SHA-256 of
//!   every document, with one thread and with `N` threads (default: every core). A warm
//!   `generate` / `validate` with nothing changed has to do at least the walk + `stat` (with
//!   the cache's known files) or the walk + read + hash (without them, or on a fresh clone).
//! - the time docidx takes to make its counter ready (loading its vocabulary table, 3 to 4 ms;
//!   bpe-openai's own encoder, which docidx no longer builds for ordinary text, takes 20 to
//!   30 ms), and the single-thread counting rate on this
//!   tree's documents of the tokenizer itself (bpe-openai's `Tokenizer::count`) and of docidx's
//!   counter ([`docidx::tokens::count`]: the same counts, with a memo of short pieces), and
//!   docidx's rate on `N` threads, for comparison. A cold `generate` has to count every byte,
//!   so its floor is `bytes ÷ (N × single-thread rate) + encoder build`.
//!
//! Each time is the median of `R` runs (default 3) after one unmeasured run, so the files are
//! in the page cache, as they are for the whole-process runs compare.py sets beside these.
//! The walk is docidx's own ([`docidx::walk::discover`] with the default config, leaving out the
//! `INDEX.md` that `generate` would write), so the files and bytes are the ones docidx indexes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use docidx::walk::{DocFile, Folders};
use docidx::{Config, Encoding};

const USAGE: &str = "usage: floors TREE [--encoding o200k|cl100k] [--threads N] [--repeat R]";

struct Args {
    root: PathBuf,
    encoding: Encoding,
    threads: usize,
    repeat: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut root = None;
    let mut encoding = Encoding::default();
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut repeat = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--encoding" => {
                encoding = args
                    .next()
                    .ok_or("--encoding needs a value")?
                    .parse()
                    .map_err(|e: String| e)?;
            }
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--threads needs a positive number")?;
            }
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--repeat needs a positive number")?;
            }
            "-h" | "--help" => {
                return Err(USAGE.into());
            }
            _ if root.is_none() && !arg.starts_with('-') => root = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(Args {
        root: root.ok_or(USAGE)?,
        encoding,
        threads,
        repeat,
    })
}

/// docidx's walk of `root` on `threads` threads, without the `INDEX.md` it would write.
fn walk(root: &Path, threads: usize) -> docidx::Result<Vec<DocFile>> {
    let config = Config {
        jobs: Some(threads),
        ..Config::default()
    };
    let layout = docidx::generate::Layout::new(root, &config)?;
    Ok(docidx::walk::discover(root, &config, &[layout.index_md_rel()])?.files)
}

/// Runs `work` on every item, spread over `threads` fresh threads, each with its own
/// [`Folders`] (as `generate`'s threads look docs up); returns the sum of its results.
fn each<T: Sync>(
    items: &[T],
    threads: usize,
    work: impl Fn(&mut Folders, &T) -> usize + Sync,
) -> usize {
    let next = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut sum = 0;
                let mut folders = Folders::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    sum += work(&mut folders, item);
                }
                total.fetch_add(sum, Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}

/// Reads and hashes every file the way `generate` does (its reader, SHA-256 as hex); returns
/// the bytes read.
fn read_and_hash(folders: &mut Folders, file: &DocFile) -> usize {
    let read = docidx::walk::read_doc_with(folders, &file.path, u64::MAX, |bytes| {
        std::hint::black_box(docidx::analyse::sha256_hex(bytes));
        bytes.len()
    });
    match read {
        Ok(docidx::walk::Content::Bytes(n)) => n,
        _ => 0,
    }
}

/// Walk, then `stat` every document (as a run with the cache's known files does), on
/// `threads` threads; returns how many were regular files.
fn walk_stat(root: &Path, threads: usize) -> docidx::Result<usize> {
    let files = walk(root, threads)?;
    Ok(each(&files, threads, |folders, file| {
        usize::from(folders.key(&file.path).is_some())
    }))
}

/// Walk, then read and hash every document, on `threads` threads: (files, bytes).
fn walk_read_hash(root: &Path, threads: usize) -> docidx::Result<(usize, usize)> {
    let files = walk(root, threads)?;
    let bytes = each(&files, threads, read_and_hash);
    Ok((files.len(), bytes))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("floors: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("floors: {e}");
            ExitCode::from(2)
        }
    }
}

/// The median time of `repeat` runs of `f` (after one unmeasured run that warms the caches).
fn median_secs(repeat: usize, mut f: impl FnMut() -> docidx::Result<()>) -> docidx::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Counts every text on `threads` fresh threads (so docidx's per-thread memo starts empty, as
/// in a cold run) with `count`; returns the total tokens.
fn count_all(
    encoding: Encoding,
    texts: &[String],
    threads: usize,
    count: fn(Encoding, &str) -> usize,
) -> usize {
    each(texts, threads, |_, t| count(encoding, t))
}

/// bpe-openai's own count, without docidx's memo: the tokenizer's rate.
fn tokenizer_count(encoding: Encoding, text: &str) -> usize {
    match encoding {
        Encoding::O200kBase => bpe_openai::o200k_base().count(text),
        Encoding::Cl100kBase => bpe_openai::cl100k_base().count(text),
    }
}

fn run(args: &Args) -> docidx::Result<String> {
    let root = &args.root;
    let n = args.threads;
    let repeat = args.repeat;

    // docidx loads its vocabulary once per process, on first use: time that first. This is the
    // floor's "encoder build" (the lower of the two: bpe-openai's encoder takes longer).
    let start = Instant::now();
    docidx::tokens::count(args.encoding, "");
    let encoder_build = start.elapsed().as_secs_f64();

    let files = walk(root, 1)?;
    let walk_1 = median_secs(repeat, || walk(root, 1).map(drop))?;
    let walk_n = median_secs(repeat, || walk(root, n).map(drop))?;
    walk_stat(root, n)?;
    let ws_1 = median_secs(repeat, || walk_stat(root, 1).map(drop))?;
    let ws_n = median_secs(repeat, || walk_stat(root, n).map(drop))?;
    let (count, bytes) = walk_read_hash(root, n)?;
    let wrh_1 = median_secs(repeat, || walk_read_hash(root, 1).map(drop))?;
    let wrh_n = median_secs(repeat, || walk_read_hash(root, n).map(drop))?;

    // The documents in memory as text (invalid UTF-8 replaced, as analyse does), so counting
    // is timed alone.
    let texts: Vec<String> = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(&f.path).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect();
    let text_bytes: usize = texts.iter().map(String::len).sum();
    let docidx_count = docidx::tokens::count;
    let tokens = count_all(args.encoding, &texts, 1, docidx_count);
    let tokenizer_tokens = count_all(args.encoding, &texts, 1, tokenizer_count);
    if tokens != tokenizer_tokens {
        return Err(docidx::Error::Other {
            path: root.clone(),
            message: format!("docidx counts {tokens} tokens, the tokenizer {tokenizer_tokens}"),
        });
    }
    let tokenizer_1 = median_secs(repeat, || {
        std::hint::black_box(count_all(args.encoding, &texts, 1, tokenizer_count));
        Ok(())
    })?;
    let count_1 = median_secs(repeat, || {
        std::hint::black_box(count_all(args.encoding, &texts, 1, docidx_count));
        Ok(())
    })?;
    let count_n = median_secs(repeat, || {
        std::hint::black_box(count_all(args.encoding, &texts, n, docidx_count));
        Ok(())
    })?;

    let rate = |secs: f64| {
        if secs > 0.0 {
            text_bytes as f64 / 1e6 / secs
        } else {
            0.0
        }
    };
    let tree = root
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let fields = [
        ("tree", format!("\"{tree}\"")),
        ("encoding", format!("\"{}\"", args.encoding)),
        ("threads", n.to_string()),
        ("repeat", repeat.to_string()),
        ("files", count.to_string()),
        ("bytes", bytes.to_string()),
        ("tokens", tokens.to_string()),
        ("walk_1t_s", format!("{walk_1:.6}")),
        ("walk_nt_s", format!("{walk_n:.6}")),
        ("walk_stat_1t_s", format!("{ws_1:.6}")),
        ("walk_stat_nt_s", format!("{ws_n:.6}")),
        ("walk_read_hash_1t_s", format!("{wrh_1:.6}")),
        ("walk_read_hash_nt_s", format!("{wrh_n:.6}")),
        ("encoder_build_s", format!("{encoder_build:.6}")),
        ("tokenizer_1t_s", format!("{tokenizer_1:.6}")),
        ("tokenizer_1t_mb_s", format!("{:.3}", rate(tokenizer_1))),
        ("count_1t_s", format!("{count_1:.6}")),
        ("count_1t_mb_s", format!("{:.3}", rate(count_1))),
        ("count_nt_s", format!("{count_n:.6}")),
        ("count_nt_mb_s", format!("{:.3}", rate(count_n))),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    Ok(format!("{{{}}}", body.join(", ")))
}
