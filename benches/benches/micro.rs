//! Micro-benchmarks of the pieces of a `generate` run: counting tokens, analysing one document,
//! counting a document's sections in one pass, and rendering `INDEX.md` / `INDEX.json`.
//!
//! ```sh
//! cargo bench -p docidx-benches --bench micro            # all of them
//! cargo bench -p docidx-benches --bench micro -- tokens  # only names containing "tokens"
//! ```
//!
//! Every input is built here, so the benchmarks run on a clone of the repository alone.

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use docidx::analyse::{self, Settings};
use docidx::render::index_json::{self, Statistics};
use docidx::render::index_md::{self, Detail};
use docidx::tokens::{self, SpanCounts};
use docidx::{Encoding, Index};

const ENCODINGS: [(Encoding, &str); 2] = [
    (Encoding::O200kBase, "o200k"),
    (Encoding::Cl100kBase, "cl100k"),
];

/// A small deterministic generator, so every run benchmarks the same bytes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const WORDS: &[&str] = &[
    "the",
    "index",
    "document",
    "token",
    "agent",
    "reads",
    "section",
    "lines",
    "of",
    "a",
    "configuration",
    "server",
    "cluster",
    "application",
    "sync",
    "repository",
    "to",
    "and",
    "with",
    "is",
    "deploy",
    "manifest",
    "Kubernetes",
    "namespace",
    "policy",
    "runs",
    "when",
    "each",
    "file",
    "changes",
    "hash",
    "über",
    "naïve",
    "café",
    "日本語",
    "—",
    "e.g.",
    "`--flag`",
    "**bold**",
    "_emphasis_",
    "2024",
    "v1.2.3",
    "0.35",
    "100",
    "it's",
    "we'll",
    "can't",
];

fn sentence(rng: &mut Lcg, out: &mut String) {
    let n = 6 + rng.next() % 14;
    for i in 0..n {
        let w = rng.pick(WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                out.extend(first.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
        if rng.next().is_multiple_of(23) {
            let _ = write!(out, " [{w}](../guide/{w}.md#{w}-options)");
        }
    }
    out.push_str(if rng.next().is_multiple_of(7) {
        "?"
    } else {
        "."
    });
}

/// A real-looking Markdown document of about `target` bytes: front matter, nested headings,
/// paragraphs with links and inline code, lists, a table and fenced code blocks.
fn markdown_doc(seed: u64, target: usize) -> String {
    let mut rng = Lcg(seed);
    let mut out = String::with_capacity(target + 1024);
    let _ = writeln!(
        out,
        "---\ntitle: Operator manual {seed}\ndescription: How to run, sync and roll back applications.\n---\n"
    );
    let _ = writeln!(out, "# Operator manual {seed}\n");
    let mut section = 0;
    while out.len() < target {
        section += 1;
        let level = if section % 4 == 1 { 2 } else { 3 };
        let _ = writeln!(
            out,
            "{} {} {section}\n",
            "#".repeat(level),
            rng.pick(&[
                "Installing",
                "Sync options",
                "Rollback",
                "Health checks",
                "FAQ"
            ])
        );
        for _ in 0..(1 + rng.next() % 3) {
            for _ in 0..(2 + rng.next() % 4) {
                sentence(&mut rng, &mut out);
                out.push(' ');
            }
            out.push_str("\n\n");
        }
        match rng.next() % 4 {
            0 => {
                out.push_str("```yaml\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: guestbook\n  namespace: argocd\nspec:\n  syncPolicy:\n    automated:\n      prune: true\n```\n\n");
            }
            1 => {
                for _ in 0..(3 + rng.next() % 4) {
                    out.push_str("- ");
                    sentence(&mut rng, &mut out);
                    out.push('\n');
                }
                out.push('\n');
            }
            2 => {
                out.push_str("| flag | default | what |\n| --- | --- | --- |\n");
                for _ in 0..(2 + rng.next() % 4) {
                    let w = rng.pick(WORDS);
                    let _ = writeln!(
                        out,
                        "| `--{w}` | `{}` | {w} of the sync |",
                        rng.next() % 100
                    );
                }
                out.push('\n');
            }
            _ => {
                out.push_str(
                    "```sh\nargocd app sync guestbook --prune\nkubectl -n argocd get pods\n```\n\n",
                );
            }
        }
    }
    out
}

/// An index of `n` documents in a few folders, analysed like `generate` would.
fn synthetic_index(n: usize, settings: &Settings) -> Index {
    let mut docs: Vec<_> = (0..n)
        .map(|i| {
            let folder = [
                "",
                "guide/",
                "guide/advanced/",
                "reference/",
                "ops/runbooks/",
            ][i % 5];
            // Mostly small docs, some large enough to get their sections listed.
            let size = if i % 10 == 0 {
                12_000
            } else {
                1_500 + (i * 37) % 3_000
            };
            let text = markdown_doc(i as u64, size);
            analyse::analyse(&format!("{folder}doc-{i:04}.md"), text.as_bytes(), settings).0
        })
        .collect();
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    Index {
        encoding: settings.encoding,
        docs,
    }
}

/// Byte offsets of the start of each 1-based line, plus the text's length at the end.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

fn bench_tokens(c: &mut Criterion) {
    let doc = markdown_doc(1, 24_000);
    let mut group = c.benchmark_group("tokens/count");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    for (encoding, name) in ENCODINGS {
        tokens::count(encoding, ""); // build the encoder outside the measurement
                                     // The same doc again and again: after the first pass every short piece is in the
                                     // memo, so this is docidx's best case; `tokenizer` is bpe-openai alone.
        group.bench_function(format!("{name}/docidx, memo warm"), |b| {
            b.iter(|| tokens::count(encoding, black_box(&doc)))
        });
        let tokenizer = match encoding {
            Encoding::O200kBase => bpe_openai::o200k_base(),
            Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        };
        group.bench_function(format!("{name}/tokenizer"), |b| {
            b.iter(|| tokenizer.count(black_box(doc.as_str())))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    group.bench_function("sha256_hex", |b| {
        b.iter(|| analyse::sha256_hex(black_box(doc.as_bytes())))
    });
    group.finish();
}

fn bench_analyse(c: &mut Criterion) {
    let doc = markdown_doc(1, 24_000); // the same doc as tokens/count, to compare
    let mut group = c.benchmark_group("analyse");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    for (encoding, name) in ENCODINGS {
        let settings = Settings {
            encoding,
            summary_chars: 160,
        };
        tokens::count(encoding, "");
        group.bench_function(name, |b| {
            b.iter(|| analyse::analyse("guide/manual.md", black_box(doc.as_bytes()), &settings))
        });
    }
    group.finish();
}

/// One pass over the text for the whole count and every section's count, against counting the
/// whole text and then each (nested) section again.
fn bench_sections(c: &mut Criterion) {
    let encoding = Encoding::O200kBase;
    let settings = Settings {
        encoding,
        summary_chars: 160,
    };
    let text = markdown_doc(1, 24_000);
    let doc = analyse::analyse("manual.md", text.as_bytes(), &settings).0;
    let starts = line_starts(&text);
    let ranges: Vec<(usize, usize)> = doc
        .sections
        .iter()
        .map(|s| {
            (
                starts[s.start_line - 1],
                starts[s.end_line.min(starts.len() - 1)],
            )
        })
        .collect();
    let cuts: Vec<usize> = ranges.iter().map(|r| r.0).collect();
    // Both ways give the same numbers.
    let spans = SpanCounts::new(encoding, &text, &cuts);
    for &(a, b) in &ranges {
        assert_eq!(
            spans.span(encoding, &text, a, b),
            tokens::count(encoding, &text[a..b])
        );
    }

    let mut group = c.benchmark_group(format!("sections/{}", ranges.len()));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("span_counts_one_pass", |b| {
        b.iter(|| {
            let spans = SpanCounts::new(encoding, black_box(&text), &cuts);
            let sections: usize = ranges
                .iter()
                .map(|&(a, b)| spans.span(encoding, &text, a, b))
                .sum();
            (spans.total(), sections)
        })
    });
    group.bench_function("whole_then_each_section", |b| {
        b.iter(|| {
            let total = tokens::count(encoding, black_box(&text));
            let sections: usize = ranges
                .iter()
                .map(|&(a, b)| tokens::count(encoding, &text[a..b]))
                .sum();
            (total, sections)
        })
    });
    group.finish();
}

fn bench_render(c: &mut Criterion) {
    let settings = Settings {
        encoding: Encoding::O200kBase,
        summary_chars: 160,
    };
    let index = synthetic_index(500, &settings);
    let detail = Detail {
        sections_over: Some(1500),
        summary_chars: None,
    };
    let body = index_md::render_body(&index, "", detail, "\n");
    let header = index_md::render_header(&index, 12_345, "\n");
    let statistics = Statistics::of(&index, &format!("{header}{body}"), 12_345);
    let json = index_json::render(&index, &settings, statistics.clone(), Vec::new());

    let mut group = c.benchmark_group("render/500-docs");
    group.throughput(Throughput::Bytes(header.len() as u64));
    group.bench_function("index_md_header", |b| {
        b.iter(|| index_md::render_header(black_box(&index), 12_345, "\n"))
    });
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("index_md_body", |b| {
        b.iter(|| index_md::render_body(black_box(&index), "", detail, "\n"))
    });
    // The header states the token count of the whole file, so generate counts INDEX.md too.
    group.bench_function("index_md_count_tokens", |b| {
        b.iter(|| tokens::count(settings.encoding, black_box(&body)))
    });
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("index_json", |b| {
        b.iter_batched(
            || statistics.clone(),
            |stats| index_json::render(black_box(&index), &settings, stats, Vec::new()),
            BatchSize::SmallInput,
        )
    });
    // A warm run reads the previous INDEX.json to reuse its analyses.
    group.bench_function("index_json_parse", |b| {
        b.iter(|| index_json::parse(black_box(json.as_bytes())))
    });
    group.finish();
}

criterion_group! {
    name = micro;
    // Two busy cores: fewer, shorter samples keep a full run to a few minutes.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_tokens, bench_analyse, bench_sections, bench_render
}
criterion_main!(micro);
