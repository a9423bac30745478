//! Integration tests: the `docidx generate` binary on copies of the fixture trees.

mod common;

use common::fixture_copy as tree;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn docidx(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docidx"))
        .arg("generate")
        .arg(root)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn outputs(root: &Path) -> Vec<Vec<u8>> {
    ["INDEX.md", "INDEX.json", ".doc_hashes.json"]
        .iter()
        .map(|n| fs::read(root.join("docs").join(n)).unwrap())
        .collect()
}

#[test]
fn second_run_changes_nothing_and_check_passes() {
    let dir = tree("nested");
    let first = docidx(dir.path(), &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stderr(&first).contains("5 docs"), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("5 added, 0 removed, 0 changed"),
        "{}",
        stderr(&first)
    );
    let before = outputs(dir.path());

    let second = docidx(dir.path(), &[]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stderr(&second).contains("0 added, 0 removed, 0 changed; nothing to write"),
        "{}",
        stderr(&second)
    );
    assert_eq!(outputs(dir.path()), before);

    let check = docidx(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn check_reports_a_changed_doc_and_writes_nothing() {
    let dir = tree("nested");
    assert!(docidx(dir.path(), &["-q"]).status.success());
    let before = outputs(dir.path());
    fs::write(
        dir.path().join("docs/overview.md"),
        "# Overview\n\nRewritten.\n",
    )
    .unwrap();
    fs::write(dir.path().join("docs/new.md"), "# New\n").unwrap();
    let check = docidx(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let err = stderr(&check);
    assert!(
        err.contains("would change") && err.contains("INDEX.json"),
        "{err}"
    );
    assert!(err.contains("1 added, 0 removed, 1 changed"), "{err}");
    assert_eq!(outputs(dir.path()), before, "--check must not write");
}

#[test]
fn same_bytes_at_any_thread_count() {
    let a = tree("nested");
    let b = tree("nested");
    assert!(docidx(a.path(), &["--jobs", "1", "-q"]).status.success());
    assert!(docidx(b.path(), &["--jobs", "2", "-q"]).status.success());
    assert_eq!(outputs(a.path()), outputs(b.path()));
}

#[test]
fn outputs_hold_no_absolute_path() {
    let dir = tree("nested");
    assert!(docidx(dir.path(), &["-q"]).status.success());
    let tmp = dir.path().to_string_lossy().into_owned();
    for bytes in outputs(dir.path()) {
        assert!(!String::from_utf8(bytes).unwrap().contains(&tmp));
    }
}

#[test]
fn index_without_markers_is_not_overwritten_unless_forced() {
    let dir = tree("nested");
    let index = dir.path().join("docs/INDEX.md");
    let hand_written = "# My index\n\nWritten by hand.\n";
    fs::write(&index, hand_written).unwrap();

    let refused = docidx(dir.path(), &[]);
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains("INDEX.md")
            && err.contains("<!-- docidx:begin -->")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&index).unwrap(), hand_written);
    assert!(
        !dir.path().join("docs/INDEX.json").exists(),
        "nothing is half-written"
    );

    let forced = docidx(dir.path(), &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    let text = fs::read_to_string(&index).unwrap();
    assert!(text.starts_with(hand_written));
    assert!(
        text.contains("<!-- docidx:begin -->\n")
            && text.trim_end().ends_with("<!-- docidx:end -->")
    );
}

#[test]
fn broken_markers_are_explained_and_the_file_untouched() {
    let dir = tree("nested");
    let index = dir.path().join("docs/INDEX.md");
    for (text, expect) in [
        ("# I\n<!-- docidx:begin -->\n", "no <!-- docidx:end -->"),
        ("<!-- docidx:end -->\n<!-- docidx:begin -->\n", "before"),
        (
            "<!-- docidx:begin -->\n<!-- docidx:end -->\n<!-- docidx:begin -->\n<!-- docidx:end -->\n",
            "more than one",
        ),
    ] {
        fs::write(&index, text).unwrap();
        let out = docidx(dir.path(), &["--force"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(expect), "{}", stderr(&out));
        assert_eq!(fs::read_to_string(&index).unwrap(), text);
    }
}

#[test]
fn crlf_index_keeps_crlf() {
    let dir = tree("hand-written");
    let index = dir.path().join("docs/INDEX.md");
    let crlf = fs::read_to_string(&index).unwrap().replace('\n', "\r\n");
    fs::write(&index, &crlf).unwrap();
    assert!(docidx(dir.path(), &["-q"]).status.success());
    let text = fs::read_to_string(&index).unwrap();
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line ends in CRLF"
    );
}

#[test]
fn budget_drops_detail_but_never_a_doc() {
    let dir = tree("nested");
    let out = docidx(dir.path(), &["--budget", "330"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("dropped the section lists"), "{err}");
    let md = fs::read_to_string(dir.path().join("docs/INDEX.md")).unwrap();
    assert!(!md.contains("lines "), "section lists are gone");
    for doc in [
        "overview.md",
        "api/reference.md",
        "guide/install.md",
        "guide/deep/troubleshooting.md",
        "../README.md",
    ] {
        assert!(md.contains(&format!("]({doc})")), "{doc} is still listed");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("docs/INDEX.json")).unwrap()).unwrap();
    assert!(json["statistics"]["index_tokens"].as_u64().unwrap() <= 330);
}

#[test]
fn errors_name_the_path_and_exit_2() {
    let out = docidx(Path::new("/nonexistent/docs-tree"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/docs-tree"),
        "{}",
        stderr(&out)
    );

    let dir = tree("nested");
    fs::write(dir.path().join("docidx.toml"), "encodng = 'o200k'\n").unwrap();
    let out = docidx(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("docidx.toml") && stderr(&out).contains("encodng"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reuses_previous_analysis_for_unchanged_docs() {
    let dir = tree("nested");
    assert!(docidx(dir.path(), &["-q"]).status.success());
    // Corrupt the cached count of an unchanged doc: the reuse path must keep it (proving reuse),
    // and a changed doc must be recounted.
    let json_path = dir.path().join("docs/INDEX.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
    let docs = json["documents"].as_array_mut().unwrap();
    let overview = docs
        .iter_mut()
        .find(|d| d["path"] == "docs/overview.md")
        .unwrap();
    overview["tokens"] = 999_999.into();
    fs::write(&json_path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    assert!(docidx(dir.path(), &["-q"]).status.success());
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
    let tokens = |p: &str| {
        json["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == p)
            .unwrap()["tokens"]
            .clone()
    };
    assert_eq!(
        tokens("docs/overview.md"),
        999_999,
        "unchanged doc reused from INDEX.json"
    );

    let new_text = "# Overview\n\nNew.\n";
    fs::write(dir.path().join("docs/overview.md"), new_text).unwrap();
    assert!(docidx(dir.path(), &["-q"]).status.success());
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
    let tokens = json["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "docs/overview.md")
        .unwrap()["tokens"]
        .clone();
    let expected = docidx::tokens::count(docidx::Encoding::O200kBase, new_text);
    assert_eq!(tokens, expected, "a changed doc is counted again");
}

#[test]
fn output_folder_outside_the_root_is_refused_before_anything_is_created() {
    let dir = tree("nested");
    let root = dir.path().join("tree");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("a.md"), "# A\n").unwrap();
    let out = docidx(&root, &["--out-dir", "../elsewhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("inside the root"), "{}", stderr(&out));
    assert!(!dir.path().join("elsewhere").exists());
}

#[cfg(unix)]
#[test]
fn dangling_symlinks_and_loops_are_reported_not_fatal() {
    let dir = tree("nested");
    std::os::unix::fs::symlink("does-not-exist.md", dir.path().join("docs/dangling.md")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("docs/loop")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("docs/outside")).unwrap();
    let out = docidx(dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("docs/dangling.md: dangling symlink; skipped"),
        "{err}"
    );
    assert!(
        err.contains("docs/outside: symlink points outside the root; not followed"),
        "{err}"
    );
    assert!(err.contains("5 docs"), "{err}");
}

#[test]
fn include_can_name_an_ignored_folder() {
    let dir = tree("nested");
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".gitignore"), "ign/\n").unwrap();
    fs::create_dir_all(dir.path().join("ign")).unwrap();
    fs::write(dir.path().join("ign/kept.md"), "# Kept\n").unwrap();
    let out = docidx(dir.path(), &["--check"]);
    assert!(
        stderr(&out).contains("5 docs"),
        "ignored by .gitignore: {}",
        stderr(&out)
    );
    let includes = [
        "--include",
        "ign/**",
        "--include",
        "docs/**",
        "--include",
        "README.md",
    ];
    let out = docidx(dir.path(), &[&["--check"][..], &includes].concat());
    assert!(stderr(&out).contains("6 docs"), "{}", stderr(&out));
}

#[test]
fn an_index_that_is_not_utf8_is_left_alone() {
    let dir = tree("nested");
    let index = dir.path().join("docs/INDEX.md");
    let bytes = b"# I\n\xff\n<!-- docidx:begin -->\n<!-- docidx:end -->\n".to_vec();
    fs::write(&index, &bytes).unwrap();
    let out = docidx(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
    assert_eq!(fs::read(&index).unwrap(), bytes);
}
