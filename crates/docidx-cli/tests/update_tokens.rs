//! Integration tests: the `docidx update-tokens` binary on copies of `fixtures/update-tokens/`,
//! a hand-written INDEX.md with CRLF line endings, non-ASCII text, trailing spaces, claims in
//! headings, tables and lists, links up and down the tree, a linked YAML file and broken links.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{copy_dir, fixture};
use docidx::claims;
use docidx::resolve::resolve;
use docidx::{Config, Encoding};

/// A temporary copy of the fixture tree.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("update-tokens"), dir.path());
    dir
}

fn docidx(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docidx"))
        .arg("update-tokens")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn index(root: &Path) -> String {
    fs::read_to_string(root.join("docs/INDEX.md")).unwrap()
}

/// Every file of the tree with its bytes, to prove a run wrote nothing.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// `text` with the number of every claim cut out.
fn without_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    for c in claims::find(text) {
        out.push_str(&text[at..c.number.start]);
        at = c.number.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The report with the run time (`in 0.12s`) replaced, so it can be snapshotted.
fn without_timing(report: &str) -> String {
    report
        .lines()
        .map(|line| match line.rfind(" in ") {
            Some(i) if line.starts_with("docidx: ") && line.ends_with('s') => {
                format!("{} in [time]", &line[..i])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn count_file(path: &Path) -> usize {
    let bytes = fs::read(path).unwrap();
    docidx::tokens::count(Encoding::O200kBase, &String::from_utf8_lossy(&bytes))
}

#[test]
fn updates_the_numbers_and_nothing_else() {
    let dir = tree();
    let root = dir.path();
    let old = index(root);
    let out = docidx(root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let new = index(root);
    assert_ne!(old, new);

    // Byte for byte, the files differ only inside the claims' numbers.
    let (old_claims, new_claims) = (claims::find(&old), claims::find(&new));
    assert_eq!(old_claims.len(), 15);
    assert_eq!(
        old_claims.iter().map(|c| &c.target).collect::<Vec<_>>(),
        new_claims.iter().map(|c| &c.target).collect::<Vec<_>>()
    );
    assert_eq!(without_numbers(&old), without_numbers(&new));
    assert_eq!(
        new.matches('\n').count(),
        new.matches("\r\n").count(),
        "CRLF kept"
    );
    assert!(
        new.contains("Übersicht  \r\n"),
        "trailing spaces and non-ASCII kept"
    );

    // Every claim with a working link states the exact count of the linked file, in its style.
    let mut checked = 0;
    for (old_claim, claim) in old_claims.iter().zip(&new_claims) {
        let r = resolve("docs", &claim.target);
        let path = root.join(&r.path);
        if claim.target.contains("://") || !path.is_file() {
            assert_eq!(claim.value, old_claim.value, "{} left alone", claim.target);
            continue;
        }
        assert_eq!(claim.value, count_file(&path), "{}", claim.target);
        assert_eq!(claim.approximate, old_claim.approximate);
        if old_claim.separators {
            assert_eq!(
                &new[claim.number.clone()],
                docidx::render::thousands(claim.value)
            );
        } else {
            assert!(!new[claim.number.clone()].contains(','));
        }
        checked += 1;
    }
    assert_eq!(checked, 13);

    // The linked YAML file has its count too.
    let yaml = count_file(&root.join("config/settings.yaml"));
    assert!(
        new.contains(&format!(
            "[settings.yaml](../config/settings.yaml) ({yaml} tokens)"
        )),
        "{new}"
    );

    // insta compares text with normalised line endings; the bytes are checked above.
    insta::assert_snapshot!("INDEX.md", new.replace("\r\n", "\n"));

    // Report: doc changes, then updated claims, then broken claims, then the summary.
    let err = stderr(&out);
    insta::assert_snapshot!("report", without_timing(&err));
    let lines: Vec<&str> = err.lines().collect();
    let first = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{err}"))
    };
    let changes = first("added: docs/notes.md");
    let ops = first("docs/INDEX.md:12: OPERATIONS.md: 1,528 → ");
    let yaml_line = first(&format!(
        "docs/INDEX.md:25: config/settings.yaml: 45 → {yaml}"
    ));
    let broken =
        first("warning: docs/INDEX.md:25: claim for ../runbook.md left alone: no such file");
    let external = first("claim for https://status.example.com left alone: external link");
    let summary = first("docidx: 15 claims in docs/INDEX.md (12 updated, 1 exact, 2 broken)");
    assert!(changes < ops && ops < yaml_line && yaml_line < broken);
    assert!(broken < external && external < summary, "{err}");
    assert!(err.contains("wrote INDEX.md, .doc_hashes.json"), "{err}");
    // Without INDEX.json nothing can be reused: the linked files are counted, the rest hashed.
    assert!(err.contains("9 files tokenized"), "{err}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("docs/.doc_hashes.json")).unwrap()).unwrap();
    let paths: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 9, "every Markdown doc but INDEX.md: {paths:?}");
    assert!(!root.join("docs/INDEX.json").exists(), "not created");
}

#[test]
fn second_run_changes_nothing_and_check_passes() {
    let dir = tree();
    let root = dir.path();
    assert!(docidx(root, &["-q"]).status.success());
    let before = snapshot(root);

    let second = docidx(root, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(
        err.contains("(0 updated, 13 exact, 2 broken)") && err.contains("nothing to write"),
        "{err}"
    );
    assert!(err.contains("docs: 0 added, 0 removed, 0 changed"), "{err}");
    assert!(!err.contains(" → "), "no claim line: {err}");
    assert_eq!(snapshot(root), before);

    let check = docidx(root, &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stderr(&check).contains("up to date"), "{}", stderr(&check));
    assert_eq!(snapshot(root), before);

    // Many changed docs are summed up in one line.
    for i in 0..11 {
        fs::write(root.join(format!("docs/new-{i}.md")), "# New\n").unwrap();
    }
    let third = docidx(root, &[]);
    let err = stderr(&third);
    assert!(
        err.starts_with("since the last manifest: 11 docs added, 0 removed, 0 changed\n"),
        "{err}"
    );
    assert!(err.contains("wrote .doc_hashes.json in"), "{err}");
}

#[test]
fn check_on_a_stale_index_exits_1_and_writes_nothing() {
    let dir = tree();
    let root = dir.path();
    let before = snapshot(root);
    let check = docidx(root, &["--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let err = stderr(&check);
    assert!(
        err.contains("docs/INDEX.md:8: ARCHITECTURE.md: 3,833 → "),
        "{err}"
    );
    assert!(
        err.contains("would change: ") && err.contains("INDEX.md"),
        "{err}"
    );
    assert!(
        err.contains("12 stale") && err.contains("out of date"),
        "{err}"
    );
    assert_eq!(snapshot(root), before, "--check must not write");

    // A doc edited after an update makes its claims stale again.
    assert!(docidx(root, &["-q"]).status.success());
    fs::write(
        root.join("docs/glossary.md"),
        "# Glossary\n\nShorter now.\n",
    )
    .unwrap();
    let check = docidx(root, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let err = stderr(&check);
    assert!(err.contains("changed: docs/glossary.md\n"), "{err}");
    assert!(
        err.contains("docs/INDEX.md:31: docs/glossary.md: 50 → "),
        "{err}"
    );
}

#[test]
fn fail_on_change_exits_1_after_writing() {
    let dir = tree();
    let root = dir.path();
    let out = docidx(root, &["--fail-on-change"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote INDEX.md"), "{}", stderr(&out));
    assert_ne!(
        index(root),
        fs::read_to_string(fixture("update-tokens/docs/INDEX.md")).unwrap()
    );
    let again = docidx(root, &["--fail-on-change"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn threshold_updates_only_claims_far_enough_off() {
    let dir = tree();
    let root = dir.path();
    let old = index(root);
    let out = docidx(root, &["--threshold", "50%"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let new = index(root);
    assert_eq!(without_numbers(&old), without_numbers(&new));
    for (before, after) in claims::find(&old).iter().zip(claims::find(&new)) {
        let path = root.join(resolve("docs", &before.target).path);
        if before.target.contains("://") || !path.is_file() {
            continue;
        }
        let exact = count_file(&path);
        let far = before.value.abs_diff(exact) as f64 > 0.5 * exact as f64;
        let expected = if far { exact } else { before.value };
        assert_eq!(after.value, expected, "{}", before.target);
    }
    assert!(
        stderr(&out).contains("within the threshold"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn index_json_is_brought_up_to_date_when_it_exists() {
    let dir = tree();
    let root = dir.path();
    let json_path = root.join("docs/INDEX.json");
    fs::write(&json_path, "{}\n").unwrap();
    let out = docidx(root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("INDEX.json"), "{}", stderr(&out));

    let check_json = |root: &Path| {
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
        let docs = json["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 9);
        let mut total = 0;
        for doc in docs {
            let path = root.join(doc["path"].as_str().unwrap());
            assert_eq!(doc["tokens"], count_file(&path), "{path:?}");
            total += count_file(&path);
        }
        let stats = &json["statistics"];
        assert_eq!(stats["tokens"], total);
        assert_eq!(
            stats["index_tokens"],
            count_file(&root.join("docs/INDEX.md"))
        );
        json
    };
    let json = check_json(root);
    let persona = &json["navigation"][0];
    assert_eq!(persona["heading"], "Quick Navigation By Persona");
    assert_eq!(persona["rows"][0]["Start here"]["docs"][0], "CLAUDE.md");

    // A changed doc: its count is refreshed in INDEX.json, the others are reused.
    fs::write(root.join("OPERATIONS.md"), "# Operations\n\nCall Ana. ☎️\n").unwrap();
    let out = docidx(root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("changed: OPERATIONS.md"), "{err}");
    assert!(
        err.contains("2 files tokenized"),
        "OPERATIONS.md and the YAML file: {err}"
    );
    check_json(root);
    let new = index(root);
    let ops = count_file(&root.join("OPERATIONS.md"));
    assert!(new.contains(&format!("[OPERATIONS.md](../OPERATIONS.md) ({ops} tokens)")));

    let check = docidx(root, &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn a_file_changed_on_disk_meanwhile_is_not_overwritten() {
    let dir = tree();
    let root = dir.path();
    let config = Config::load(root).unwrap();
    let plan = docidx::update_tokens::plan(root, &config, &Default::default()).unwrap();
    assert!(plan.index_md().is_change());
    let edited = "# Edited by a person while docidx was counting\r\n";
    fs::write(root.join("docs/INDEX.md"), edited).unwrap();
    let err = docidx::output::write_all(&plan.outputs).unwrap_err();
    assert!(matches!(err, docidx::Error::Changed { .. }), "{err}");
    assert!(err.to_string().contains("INDEX.md"), "{err}");
    assert_eq!(index(root), edited);
}

#[test]
fn explicit_index_path_and_errors() {
    let dir = tree();
    let root = dir.path();
    fs::rename(root.join("docs/INDEX.md"), root.join("docs/guides/MAP.md")).unwrap();
    let missing = docidx(root, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("docs/INDEX.md: no such file"),
        "{}",
        stderr(&missing)
    );

    // Links resolve from the folder of the chosen file: `../OPERATIONS.md` is now docs/OPERATIONS.md.
    let out = docidx(root, &["--index", "docs/guides/MAP.md", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docs/guides/MAP.md:12: claim for ../OPERATIONS.md left alone: no such file"),
        "{err}"
    );

    let bad = docidx(root, &["--threshold=-1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("fraction"), "{}", stderr(&bad));
}
