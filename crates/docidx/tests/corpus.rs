//! Optional checks on the real corpora in `../shared/corpora/` (skipped, with a message, when a
//! clone has no `../shared/` beside it). They prove, on real documents, the rule the one-pass
//! section counting relies on: the count of a whole doc equals the sum of its spans cut at
//! heading lines, and each section's count equals the count of exactly its lines.

use std::path::{Path, PathBuf};
use std::process::Command;

use docidx::analyse::{analyse, lines::LineIndex, Settings};
use docidx::{tokens, Encoding};

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    dir.join("book.tar.gz").exists().then_some(dir)
}

/// Unpacks the corpus `name` into `into`; returns its Markdown files.
fn unpack(corpora: &Path, name: &str, into: &Path) -> Vec<PathBuf> {
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(corpora.join(format!("{name}.tar.gz")))
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar runs");
    assert!(status.success());
    let mut files = Vec::new();
    markdown_files(&into.join(name), &mut files);
    files
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            markdown_files(&path, out);
        } else if docidx::walk::is_markdown(&entry.file_name().to_string_lossy()) {
            out.push(path);
        }
    }
}

#[test]
fn section_counts_are_exact_on_real_corpora() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: no ../shared/corpora beside this clone");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = (0, 0);
    for name in ["book", "argo-cd-docs"] {
        let files = unpack(&corpora, name, tmp.path());
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let settings = Settings {
                encoding,
                summary_chars: 160,
            };
            for file in &files {
                let bytes = std::fs::read(file).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                let (doc, _) = analyse("x.md", &bytes, &settings);
                assert_eq!(
                    doc.tokens,
                    tokens::count(encoding, &text),
                    "{}",
                    file.display()
                );
                let lines = LineIndex::new(&text);
                for s in &doc.sections {
                    let span = &text[lines.start(s.start_line)..lines.start(s.end_line + 1)];
                    assert_eq!(
                        s.tokens,
                        tokens::count(encoding, span),
                        "{} {}",
                        file.display(),
                        s.anchor
                    );
                }
                checked.0 += 1;
                checked.1 += doc.sections.len();
            }
        }
    }
    eprintln!("checked {} docs and {} sections", checked.0, checked.1);
    assert!(checked.0 > 1000);
}

#[test]
fn pieces_and_counts_equal_bpe_openai_on_real_corpora() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: no ../shared/corpora beside this clone");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    // tldr is in 40 languages and scripts: letters, marks and numbers of every kind.
    for name in ["book", "argo-cd-docs", "tldr"] {
        let files = unpack(&corpora, name, tmp.path());
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for (encoding, regex) in [
                (Encoding::Cl100kBase, bpe_openai::cl100k_base()),
                (Encoding::O200kBase, bpe_openai::o200k_base()),
            ] {
                assert!(
                    tokens::pieces(encoding, &text).eq(regex.split(&text)),
                    "{encoding} {}",
                    file.display()
                );
                // docidx's own merges over its rank table, against bpe-openai's encoder.
                assert_eq!(
                    tokens::count(encoding, &text),
                    regex.count(&text),
                    "{encoding} {}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} docs");
    assert!(checked > 30_000);
}

#[test]
fn anchors_equal_githubs_on_real_corpora() {
    // `../shared/bench/anchors/`: every heading of two corpora with the anchor GitHub gives it,
    // from `github-slugger` over remark's plain text of the heading.
    let Some(corpora) = corpora() else {
        eprintln!("skipped: no ../shared/corpora beside this clone");
        return;
    };
    let oracle = corpora.join("../bench/anchors");
    let tmp = tempfile::tempdir().unwrap();
    let settings = Settings {
        encoding: Encoding::Cl100kBase,
        summary_chars: 160,
    };
    let mut checked = 0;
    for name in ["book", "argo-cd-docs"] {
        let files = unpack(&corpora, name, tmp.path());
        let tsv = std::fs::read_to_string(oracle.join(format!("{name}.tsv"))).unwrap();
        let mut by_path = std::collections::BTreeMap::<&str, Vec<(usize, &str)>>::new();
        for row in tsv.lines() {
            let fields: Vec<&str> = row.split('\t').collect();
            let (path, line, anchor) = (fields[0], fields[1], fields[fields.len() - 1]);
            by_path
                .entry(path)
                .or_default()
                .push((line.parse().unwrap(), anchor));
        }
        // Every doc: one without a row must have no heading.
        for file in &files {
            let path = file.strip_prefix(tmp.path().join(name)).unwrap();
            let path = path.to_str().unwrap();
            let expected = by_path.remove(path).unwrap_or_default();
            let (doc, _) = analyse(path, &std::fs::read(file).unwrap(), &settings);
            let found: Vec<(usize, &str)> = doc
                .sections
                .iter()
                .map(|s| (s.start_line, s.anchor.as_str()))
                .collect();
            assert_eq!(found, expected, "{name}/{path}");
            checked += expected.len();
        }
        assert!(by_path.is_empty(), "rows of no doc: {:?}", by_path.keys());
    }
    eprintln!("checked {checked} anchors");
    assert!(checked > 1000);
}
