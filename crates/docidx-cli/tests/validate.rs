//! Integration tests: `docidx validate` on the rule fixtures under `fixtures/validate/`.

mod common;

use common::{copy_dir, places, Place};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/validate")
        .join(name)
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docidx"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `(rule, path, line, column)` of every finding, from `--format json`, and the exit code.
fn findings(name: &str, extra: &[&str]) -> (Vec<Place>, Option<i32>) {
    let mut args = vec!["validate", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args, &fixture(name));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let list = places(&json);
    (list, out.status.code())
}

fn f(rule: &str, path: &str, line: u64, column: u64) -> Place {
    (rule.into(), path.into(), line, column)
}

#[test]
fn valid_links_and_anchors_give_no_findings() {
    let (list, code) = findings("valid", &[]);
    assert_eq!(
        list,
        [],
        "unicode, emoji, duplicates, %20, folders, images, .html sources"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn each_rule_reports_known_findings_at_known_places() {
    let cases: &[(&str, Vec<Place>, i32)] = &[
        (
            "broken-link",
            vec![
                f("broken-link", "docs/a.md", 4, 9),
                f("broken-link", "docs/a.md", 4, 35),
                f("broken-link", "docs/a.md", 6, 14),
            ],
            1,
        ),
        (
            "broken-anchor",
            vec![
                f("broken-anchor", "docs/a.md", 5, 1),
                f("broken-anchor", "docs/a.md", 6, 15),
            ],
            1,
        ),
        (
            "link-outside-root",
            vec![f("link-outside-root", "docs/a.md", 3, 13)],
            0,
        ),
        (
            "unindexed-doc",
            vec![f("unindexed-doc", "docs/forgotten.md", 1, 1)],
            0,
        ),
        (
            "missing-doc",
            vec![f("missing-doc", "docs/INDEX.md", 4, 3)],
            1,
        ),
        (
            "stale-tokens",
            vec![f("stale-tokens", "docs/INDEX.md", 3, 21)],
            0,
        ),
        (
            "stale-index",
            vec![f("stale-index", "docs/.doc_hashes.json", 1, 1)],
            1,
        ),
        (
            "file-count",
            vec![f("file-count", "docs/INDEX.md", 7, 12)],
            0,
        ),
        (
            "index-budget",
            vec![f("index-budget", "docs/INDEX.md", 1, 1)],
            1,
        ),
    ];
    for (name, expected, code) in cases {
        let (list, got) = findings(name, &[]);
        assert_eq!(&list, expected, "{name}");
        assert_eq!(got, Some(*code), "{name}");
    }
}

#[test]
fn exact_and_deny_warnings() {
    // The small doc's claim is within 20% but not exact.
    let (list, _) = findings("stale-tokens", &["--exact"]);
    assert_eq!(list.len(), 2, "{list:?}");
    let (_, code) = findings("link-outside-root", &["--deny", "warnings"]);
    assert_eq!(code, Some(1));
}

#[test]
fn human_output_points_at_the_link() {
    let out = run(&["validate", "."], &fixture("broken-anchor"));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("human-broken-anchor", text);
    assert!(text.contains(
        "docs/a.md:5:1: error[broken-anchor]: no heading for #-emergency-procedures in docs/a.md"
    ));
}

#[test]
fn github_and_sarif_formats() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let out = Command::new(env!("CARGO_BIN_EXE_docidx"))
        .args(["validate", ".", "--format", "github"])
        .current_dir(fixture("broken-link"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("github-broken-link", text);
    assert!(text.starts_with("::error file=docs/a.md,line=4,col=9,title=docidx broken-link::"));
    let table = fs::read_to_string(&summary).unwrap();
    assert!(table.contains("| `broken-link` | error | 3 |"), "{table}");

    let out = run(
        &["validate", ".", "--format", "sarif"],
        &fixture("broken-link"),
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "broken-link");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 9);
}

fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(listing(&entry.path()));
        } else {
            out.push((entry.path(), fs::read(entry.path()).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn generate_then_validate_is_clean_and_a_change_makes_the_index_stale() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/nested"),
        dir.path(),
    );
    // A doc without a summary: its generated line ends in "(N tokens)" right after the link,
    // which is a claim for update-tokens' syntax; validate leaves it to stale-index.
    fs::write(dir.path().join("docs/bare.md"), "# Bare\n").unwrap();
    assert!(run(&["generate", "-q", "."], dir.path()).status.success());
    let out = run(&["validate", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"], serde_json::json!([]), "{json}");
    assert_eq!(
        json["summary"]["coverage"],
        serde_json::json!({"indexed": 6, "total": 6})
    );

    fs::write(
        dir.path().join("docs/overview.md"),
        "# Overview\n\nChanged.\n",
    )
    .unwrap();
    let bare = "# Bare\n\nNow with many more words than it had before, so its count is off.\n";
    fs::write(dir.path().join("docs/bare.md"), bare).unwrap();
    let before = listing(dir.path());
    let out = run(&["validate", ".", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(listing(dir.path()), before, "validate never writes");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"stale-tokens"), "{rules:?}");
    let stale: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "stale-index")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        stale,
        ["docs/.doc_hashes.json", "docs/INDEX.json", "docs/INDEX.md"]
    );
}

#[test]
fn rules_can_be_turned_off_or_reranked() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("broken-anchor"), dir.path());
    fs::write(
        dir.path().join("docidx.toml"),
        "[validate.rules]\nbroken-anchor = \"warning\"\n",
    )
    .unwrap();
    let out = run(&["validate", ".", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["warnings"], 2);

    fs::write(
        dir.path().join("docidx.toml"),
        "[validate.rules]\nbroken-anchor = \"off\"\n",
    )
    .unwrap();
    let out = run(&["validate", "."], dir.path());
    assert_eq!(out.status.code(), Some(0));

    fs::write(
        dir.path().join("docidx.toml"),
        "[validate.rules]\nbroken-anchr = \"off\"\n",
    )
    .unwrap();
    let out = run(&["validate", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken-anchr"));
}
