//! Property tests (proptest): no input makes the analysis or the claim rewriter panic; the
//! outputs do not depend on thread count or discovery order; `generate` then `validate` finds
//! nothing stale; `update-tokens` twice equals once.
//!
//! Case counts are kept small so `cargo test --workspace` stays fast; raise them for a longer
//! search with `PROPTEST_CASES=2000 cargo test -p docidx --test properties` (see
//! docs/robustness.md). Inputs that once failed are kept at the end as plain regression tests.

use std::fs;
use std::path::Path;

use docidx::analyse::{self, analyse, Settings};
use docidx::claims::{self, Claim};
use docidx::validate::{self, Rule};
use docidx::{generate, output, update_tokens, Config, Doc, Encoding};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

fn settings(encoding: Encoding, summary_chars: usize) -> Settings {
    Settings {
        encoding,
        summary_chars,
    }
}

/// Pieces of Markdown that exercise every branch of the analysis: headings of every kind,
/// lists and quotes, links of every kind, token claims, front matter fences, code, tables,
/// HTML anchors, attribute ids, markers, and characters that are one byte in one place and
/// four in another.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "#{1,7}[ \t]{0,2}[a-zA-Z0-9 ]{0,12}",
        "[a-z ]{0,8}\\{#[a-z-]{0,6}\\}",
        Just("===".to_string()),
        Just("---".to_string()),
        Just("+++".to_string()),
        Just("...".to_string()),
        "title: [a-zA-Z\\[\\]{}:'\" ]{0,12}",
        "(description|summary) = \"[a-z ]{0,10}\"",
        "[ ]{0,6}([-*+]|[0-9]{1,3}[.)])[ ]{0,2}[a-z]{0,6}",
        "(> ?){1,8}[a-z ]{0,6}",
        "\\[[a-z ]{0,6}\\]\\(([a-z./#%]|\\.\\.|%20){0,12}\\)",
        "\\[[a-z]{1,4}\\]\\([a-z/]{1,6}\\.md\\)[ \t]{0,2}\\([ ]?~?[ ]?[0-9]{1,7}(,[0-9]{3})?[ ]?(tokens|Token|tok|TOKENS)[ ]?\\)",
        "\\[[a-z]{1,4}\\](\\[\\]|\\[[a-z]{1,3}\\])?",
        "\\[[a-z]{1,3}\\]: [a-z./]{0,8}",
        "!\\[[a-z]{0,4}\\]\\([a-z.]{0,6}\\)",
        "<(https?://[a-z.]{1,8}|[a-z]{1,4}@[a-z]{1,4}\\.io)>",
        "<(a|img|div) (id|name|href|src)=[\"'][a-z#./ &;]{0,8}[\"']>",
        "```[a-z]{0,4}",
        "~~~",
        "    [a-z ]{0,8}",
        "\\|[ a-z|-]{0,12}",
        "[ \t]{0,3}",
        "[\\\\`*_~&;<>\\[\\]()!|#:-]{1,6}",
        Just("<!-- docidx:begin -->".to_string()),
        Just("<!-- docidx:end -->".to_string()),
        Just("\u{feff}".to_string()),
        "[é🚀日本語\u{fffd}\u{200b}\u{a0}\t]{1,4}",
        "[a-zA-Z0-9 ,.]{0,30}",
    ]
}

/// A document as lines, without their line breaks.
fn lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::collection::vec(fragment(), 1..4), 0..30)
        .prop_map(|lines| lines.into_iter().map(|parts| parts.concat()).collect())
}

/// Lines joined with a mix of `\n`, `\r\n` and lone `\r`, sometimes without a final break.
fn markdown() -> impl Strategy<Value = String> {
    (lines(), prop::collection::vec(0..4u8, 30)).prop_map(|(lines, breaks)| {
        let mut text = String::new();
        for (line, b) in lines.iter().zip(breaks.iter().cycle()) {
            text.push_str(line);
            text.push_str(["\n", "\r\n", "\r", "\n"][usize::from(*b)]);
        }
        if breaks.first() == Some(&3) {
            text.pop();
        }
        text
    })
}

/// Lines of a text whose lines end at `\n`, `\r\n` or a lone `\r` (a last line without a break
/// counts).
fn line_count(text: &str) -> usize {
    let breaks = text.replace("\r\n", "\n").replace('\r', "\n");
    breaks.matches('\n').count() + usize::from(!breaks.is_empty() && !breaks.ends_with('\n'))
}

/// What must hold for any analysis of any bytes.
fn check_doc(doc: &Doc, bytes: &[u8]) {
    assert_eq!(doc.bytes, bytes.len() as u64);
    assert_eq!(
        doc.sha256,
        analyse::sha256_hex(bytes),
        "the hash is of the raw bytes"
    );
    let last = doc.lines.max(1);
    for s in &doc.sections {
        assert!(
            1 <= s.start_line && s.start_line <= s.end_line && s.end_line <= last,
            "{s:?} in a doc of {} lines",
            doc.lines
        );
        assert!(s.tokens <= doc.tokens);
        assert!((1..=6).contains(&s.level));
    }
    for l in &doc.links {
        assert!(1 <= l.line && l.line <= last && l.column >= 1, "{l:?}");
    }
    assert!(!doc.title.is_empty());
    // The analysis goes into INDEX.json, which the next run reads back.
    let json = serde_json::to_string(doc).expect("a Doc serializes");
    serde_json::from_str::<Doc>(&json).expect("INDEX.json can be read back");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn analyse_never_panics_on_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cl100k in any::<bool>(),
        summary_chars in 0usize..200,
    ) {
        let encoding = if cl100k { Encoding::Cl100kBase } else { Encoding::O200kBase };
        let (doc, warnings) = analyse("d/x.md", &bytes, &settings(encoding, summary_chars));
        check_doc(&doc, &bytes);
        let lossy = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(doc.tokens, docidx::tokens::count(encoding, &lossy));
        if let Err(e) = std::str::from_utf8(&bytes) {
            let wanted = format!("invalid UTF-8 at byte {}", e.valid_up_to());
            prop_assert!(warnings.iter().any(|w| w.path == "d/x.md" && w.message.contains(&wanted)));
        }
    }

    #[test]
    fn analyse_never_panics_on_random_markdown(text in markdown(), summary_chars in 0usize..200) {
        let (doc, _) = analyse("x.md", text.as_bytes(), &settings(Encoding::O200kBase, summary_chars));
        check_doc(&doc, text.as_bytes());
        prop_assert_eq!(doc.tokens, docidx::tokens::count(Encoding::O200kBase, &text));
        prop_assert_eq!(doc.lines, line_count(&text));
    }

    #[test]
    fn analyse_never_panics_on_random_strings(text in any::<String>()) {
        let (doc, _) = analyse("x.md", text.as_bytes(), &settings(Encoding::O200kBase, 160));
        check_doc(&doc, text.as_bytes());
    }

    /// `\n`, `\r\n` and a lone `\r` are the same line break: the same titles, summaries, sections,
    /// anchors and link positions whichever a file uses, and a BOM changes none of them.
    #[test]
    fn line_endings_and_bom_do_not_change_the_outline(lines in lines()) {
        let outline = |newline: &str, bom: bool| {
            let mut text = if bom { "\u{feff}".to_string() } else { String::new() };
            for l in &lines {
                text.push_str(l);
                text.push_str(newline);
            }
            let (doc, warnings) = analyse("x.md", text.as_bytes(), &settings(Encoding::O200kBase, 160));
            let sections: Vec<_> = doc
                .sections
                .iter()
                .map(|s| (s.level, s.heading.clone(), s.anchor.clone(), s.start_line, s.end_line))
                .collect();
            let links: Vec<_> = doc.links.iter().map(|l| (l.target.clone(), l.line, l.column)).collect();
            let warnings: Vec<_> = warnings.iter().map(|w| w.line).collect();
            (doc.title, doc.summary, doc.lines, sections, links, doc.front_matter, warnings)
        };
        // A file with only a BOM has one (empty) line; an empty file has none.
        prop_assume!(!lines.is_empty() && !lines[0].starts_with('\u{feff}'));
        // TOML forbids a lone CR, so TOML front matter is left out of the comparison.
        prop_assume!(lines.first().is_none_or(|l| l.trim_end() != "+++"));
        let lf = outline("\n", false);
        prop_assert_eq!(&lf, &outline("\r\n", false));
        prop_assert_eq!(&lf, &outline("\r", false));
        prop_assert_eq!(&lf, &outline("\n", true));
        prop_assert_eq!(&lf, &outline("\r\n", true));
    }

    #[test]
    fn claims_never_panic_on_random_strings(text in any::<String>()) {
        let found = claims::find(&text);
        let new: Vec<(&Claim, String)> = found.iter().map(|c| (c, claims::format_count(c, 1234))).collect();
        claims::replace_numbers(&text, &new);
    }

    /// Rewriting claims changes only their numbers, and the claims are found again with the new
    /// numbers, in their own style.
    #[test]
    fn claims_rewrite_only_numbers_and_round_trip(
        text in markdown(),
        counts in prop::collection::vec(0usize..3_000_000, 1..40),
    ) {
        let found = claims::find(&text);
        let new: Vec<(&Claim, String)> = found
            .iter()
            .zip(counts.iter().cycle())
            .map(|(c, &n)| (c, claims::format_count(c, n)))
            .collect();
        let out = claims::replace_numbers(&text, &new);
        let mut at_text = 0;
        let mut at_out = 0;
        for (c, number) in &new {
            prop_assert!(at_text <= c.number.start, "claims are in text order");
            let kept = &text[at_text..c.number.start];
            prop_assert_eq!(&out[at_out..at_out + kept.len()], kept);
            at_out += kept.len();
            prop_assert_eq!(&out[at_out..at_out + number.len()], number.as_str());
            at_out += number.len();
            at_text = c.number.end;
            let value: usize = number.replace(',', "").parse().unwrap();
            prop_assert_eq!(number.contains(','), c.separators && value >= 1000);
        }
        prop_assert_eq!(&out[at_out..], &text[at_text..]);

        let again = claims::find(&out);
        let values: Vec<usize> = again.iter().map(|c| c.value).collect();
        let wanted: Vec<usize> = new.iter().map(|(_, n)| n.replace(',', "").parse().unwrap()).collect();
        prop_assert_eq!(values, wanted);
        let targets: Vec<&str> = again.iter().map(|c| c.target.as_str()).collect();
        let before: Vec<&str> = found.iter().map(|c| c.target.as_str()).collect();
        prop_assert_eq!(targets, before);
    }
}

/// A random tree: `(path, contents)`, paths in a few folders, names with spaces, `#`, `%` and
/// non-ASCII characters, contents from [`markdown`] (some with links between the files).
fn tree() -> impl Strategy<Value = Vec<(String, String)>> {
    let dir = prop_oneof![
        Just(""),
        Just("guide/"),
        Just("guide/deep er/"),
        Just("ünï/"),
        Just(".hidden/")
    ];
    let name = "[a-z]{1,6}( [a-z#%]{1,3})?";
    let ext = prop_oneof![Just(".md"), Just(".mdx"), Just(".txt")];
    prop::collection::btree_map((dir, name, ext), markdown(), 1..8).prop_map(|files| {
        files
            .into_iter()
            .map(|((dir, name, ext), text)| (format!("{dir}{name}{ext}"), text))
            .collect()
    })
}

/// Writes `files` under `root` in the given order (file creation order is the order a folder
/// lists its entries on most file systems, so this changes the walk's discovery order).
fn write_tree(root: &Path, files: &[(String, String)]) {
    for (path, text) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// The outputs of `generate` as (file name, bytes).
fn generated(root: &Path, jobs: usize) -> Vec<(String, Vec<u8>)> {
    let config = Config {
        jobs: Some(jobs),
        ..Config::default()
    };
    let plan = generate::plan(root, &config, &generate::Options::default()).unwrap();
    plan.outputs
        .into_iter()
        .map(|o| {
            let name = o.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, o.bytes().unwrap())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The same tree, created in two different orders, gives byte-identical outputs at 1 to 4
    /// threads.
    #[test]
    fn outputs_do_not_depend_on_threads_or_discovery_order(files in tree(), seed in any::<u64>()) {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write_tree(a.path(), &files);
        let mut shuffled = files.clone();
        shuffled.reverse();
        let k = (seed as usize) % shuffled.len().max(1);
        shuffled.rotate_left(k);
        write_tree(b.path(), &shuffled);
        let first = generated(a.path(), 1);
        for jobs in 1..=4 {
            prop_assert_eq!(&generated(a.path(), jobs), &first, "jobs {}", jobs);
            prop_assert_eq!(&generated(b.path(), jobs), &first, "shuffled, jobs {}", jobs);
        }
    }

    /// `generate` then `validate`: nothing stale; a second `generate` writes nothing.
    #[test]
    fn generate_then_validate_finds_nothing_stale(files in tree()) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &files);
        let config = Config::default();
        let plan = generate::plan(dir.path(), &config, &generate::Options::default()).unwrap();
        output::write_all(&plan.outputs).unwrap();
        let report = validate::validate(dir.path(), &config, &validate::Options::default()).unwrap();
        let stale: Vec<_> = report.findings.iter().filter(|f| f.rule == Rule::StaleIndex).collect();
        prop_assert!(stale.is_empty(), "{:?}", stale);
        let again = generate::plan(dir.path(), &config, &generate::Options::default()).unwrap();
        prop_assert!(again.outputs.iter().all(|o| !o.is_change()), "a second run changes nothing");
    }

    /// `update-tokens` twice equals once, on a hand-written INDEX.md with claims about the
    /// tree's files (some exact, some not, some broken).
    #[test]
    fn update_tokens_twice_equals_once(
        files in tree(),
        claims in prop::collection::vec((0usize..20, 0usize..5000, any::<bool>()), 1..12),
        prose in markdown(),
        with_json in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &files);
        let config = Config::default();
        if with_json {
            let plan = generate::plan(dir.path(), &config, &generate::Options::default()).unwrap();
            output::write_all(&plan.outputs).unwrap();
        }
        let mut index = fs::read_to_string(dir.path().join("INDEX.md")).unwrap_or_default();
        index.push_str(&prose);
        index.push('\n');
        for (i, n, separators) in claims {
            let target = files
                .get(i)
                .map_or("missing.md".to_string(), |(p, _)| docidx::resolve::percent_encode_path(p));
            let n = if separators { docidx::render::thousands(n) } else { n.to_string() };
            index.push_str(&format!("\n- [{i}]({target}) (~{n} tokens)\n"));
        }
        fs::write(dir.path().join("INDEX.md"), &index).unwrap();
        let options = update_tokens::Options::default();
        let once = update_tokens::plan(dir.path(), &config, &options).unwrap();
        output::write_all(&once.outputs).unwrap();
        let after_once: Vec<Vec<u8>> = once.outputs.iter().map(|o| fs::read(&o.path).unwrap()).collect();
        let twice = update_tokens::plan(dir.path(), &config, &options).unwrap();
        prop_assert!(twice.updated.is_empty(), "{:?}", twice.updated);
        prop_assert!(!twice.is_change());
        output::write_all(&twice.outputs).unwrap();
        let after_twice: Vec<Vec<u8>> = twice.outputs.iter().map(|o| fs::read(&o.path).unwrap()).collect();
        prop_assert_eq!(after_once, after_twice);
    }
}

// Regression tests: inputs that once broke a property, kept as they were found.

/// Front matter nested deeper than a JSON reader accepts made an `INDEX.json` that docidx could
/// not read back (serde_json stops at 128 levels), so `validate` right after `generate` reported
/// `stale-index`. Such front matter is now malformed (a warning) and left out.
#[test]
fn regression_front_matter_too_deep_for_index_json() {
    for open in ["a: ", "a:\n  - "] {
        let text = format!(
            "---\n{open}{}{}\n---\n# T\n",
            "[".repeat(126),
            "]".repeat(126)
        );
        let (doc, warnings) = analyse("x.md", text.as_bytes(), &settings(Encoding::O200kBase, 160));
        check_doc(&doc, text.as_bytes());
        assert_eq!(doc.front_matter, serde_json::Value::Null);
        assert!(warnings[0].message.contains("levels deep"), "{warnings:?}");
        assert_eq!(doc.title, "T");
    }

    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "---\na: {}{}\n---\n# Deep\n",
        "[".repeat(126),
        "]".repeat(126)
    );
    fs::write(dir.path().join("deep.md"), deep).unwrap();
    let config = Config::default();
    let plan = generate::plan(dir.path(), &config, &generate::Options::default()).unwrap();
    output::write_all(&plan.outputs).unwrap();
    let report = validate::validate(dir.path(), &config, &validate::Options::default()).unwrap();
    assert!(
        report.findings.iter().all(|f| f.rule != Rule::StaleIndex),
        "{:?}",
        report.findings
    );
}

/// Front matter with lone CR line breaks (classic Mac OS) was not recognised, so its lines
/// became a setext heading and the title came from the wrong place.
#[test]
fn regression_front_matter_with_lone_cr() {
    let text = "---\rtitle: Old Mac\r---\r# Heading\r\rBody.\r";
    let (doc, warnings) = analyse("x.md", text.as_bytes(), &settings(Encoding::O200kBase, 160));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(doc.title, "Old Mac");
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(
        (doc.sections[0].heading.as_str(), doc.sections[0].start_line),
        ("Heading", 4)
    );
}
