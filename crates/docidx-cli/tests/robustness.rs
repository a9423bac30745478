//! Robustness: no input makes `docidx` crash, hang or destroy work. One test (or a few) per
//! case of the robustness issue; docs/robustness.md lists them and what each one simulates.
//!
//! Every tree is built by the test in a temporary folder, since most of these cases cannot
//! live in git (invalid file names, symlink loops, sockets, permissions). Every run of the
//! binary has a time limit: a run that does not finish in time is killed and the test fails,
//! so a hang shows up as a failure, not as a stuck CI job.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use docidx::Encoding;

/// Generous: the slowest case takes a few seconds in a debug build on a busy machine.
const LIMIT: Duration = Duration::from_secs(120);

const BEGIN: &str = "<!-- docidx:begin -->";
const END: &str = "<!-- docidx:end -->";
const OUTPUTS: [&str; 3] = ["INDEX.md", "INDEX.json", ".doc_hashes.json"];

/// A generate run that could not write: exit 2, an error naming an output and `error`, the old
/// outputs of `root` as `before`, and no temporary file left.
fn assert_write_refused(ran: &Ran, error: &str, root: &Path, before: &[Option<Vec<u8>>]) {
    ran.assert_code(2);
    assert!(
        ran.stderr.contains("error: ")
            && names_an_output(&ran.stderr)
            && ran.stderr.contains(error),
        "{}",
        ran.stderr
    );
    assert!(outputs(root) == before, "the old outputs are untouched");
    assert_eq!(leftovers(root), Vec::<String>::new());
}

/// Whether a message names one of the outputs in `docs/` (which one fails first depends on
/// the order they are staged in: INDEX.json is streamed to its temporary file first).
fn names_an_output(message: &str) -> bool {
    OUTPUTS
        .iter()
        .any(|o| message.contains(&format!("docs/{o}")))
}

/// What a run of the binary did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn assert_code(&self, code: i32) -> &Ran {
        assert_eq!(self.code, Some(code), "stderr:\n{}", self.stderr);
        self
    }
}

fn docidx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_docidx"))
}

/// Runs `command` to the end, or kills it after `limit` and fails the test.
fn finish(mut command: Command, limit: Duration) -> Ran {
    command
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("{command:?}");
    let mut child = command.spawn().unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hung: {shown} still running after {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `docidx SUBCOMMAND ROOT ARGS…` with the time limit.
fn run(subcommand: &str, root: &Path, args: &[&str]) -> Ran {
    let mut command = docidx();
    command.arg(subcommand).arg(root).args(args);
    finish(command, LIMIT)
}

fn generate(root: &Path, args: &[&str]) -> Ran {
    run("generate", root, args)
}

/// `validate --format json`: the findings as `(rule, path, line, column)`, and the run.
fn validate(root: &Path) -> (Vec<common::Place>, Ran) {
    let ran = run("validate", root, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", ran.stdout, ran.stderr));
    let findings = common::places(&json);
    (findings, ran)
}

/// A new tree with a `docs/` folder (where the outputs go) holding `files`.
fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("docs")).unwrap();
    for (path, bytes) in files {
        write(dir.path(), path, bytes);
    }
    dir
}

fn write(root: &Path, path: &str, bytes: &[u8]) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// The three outputs in `docs/` (missing ones as `None`).
fn outputs(root: &Path) -> Vec<Option<Vec<u8>>> {
    OUTPUTS
        .iter()
        .map(|name| fs::read(root.join("docs").join(name)).ok())
        .collect()
}

fn index_json(root: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(root.join("docs/INDEX.json")).unwrap()).unwrap()
}

/// The `INDEX.json` entry of the doc at root-relative `path`.
fn doc(json: &serde_json::Value, path: &str) -> serde_json::Value {
    json["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == path)
        .unwrap_or_else(|| panic!("{path} is not in INDEX.json"))
        .clone()
}

/// Why an output's bytes are not a complete file of its kind, if they are not.
fn incomplete(name: &str, bytes: &[u8]) -> Option<String> {
    let problem = match name {
        "INDEX.md" => {
            let text = String::from_utf8_lossy(bytes);
            let ok = text.contains(&format!("{BEGIN}\n")) && text.ends_with(&format!("{END}\n"));
            (!ok).then(|| "no complete generated region".to_string())
        }
        "INDEX.json" => serde_json::from_slice::<serde_json::Value>(bytes)
            .err()
            .map(|e| e.to_string())
            .or_else(|| (!bytes.ends_with(b"}\n")).then(|| "no final newline".into())),
        _ => serde_json::from_slice::<std::collections::BTreeMap<String, String>>(bytes)
            .err()
            .map(|e| e.to_string()),
    };
    problem.map(|p| format!("{name}: {p}"))
}

/// Every output that exists is a complete file.
fn assert_complete_or_absent(root: &Path) {
    for (name, bytes) in OUTPUTS.iter().zip(outputs(root)) {
        if let Some(problem) = bytes.and_then(|b| incomplete(name, &b)) {
            panic!("{problem}");
        }
    }
}

/// Files in the output folder that are not outputs or docs (leftover temporary files).
fn leftovers(root: &Path) -> Vec<String> {
    fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

// ---------------------------------------------------------------------------------------------
// Inputs

#[test]
fn invalid_utf8_is_indexed_with_a_warning_naming_file_and_byte() {
    let bytes: &[u8] = b"# Caf\xc3\xa9\n\nCaf\xe9 au lait \xff\xfe.\n";
    let dir = tree(&[("docs/latin1.md", bytes)]);
    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    assert_eq!(
        occurrences(
            &ran.stderr,
            "warning: docs/latin1.md: invalid UTF-8 at byte 12;"
        ),
        1,
        "{}",
        ran.stderr
    );
    let doc = doc(&index_json(dir.path()), "docs/latin1.md");
    assert_eq!(doc["title"], "Café");
    assert_eq!(doc["sha256"], docidx::analyse::sha256_hex(bytes));
    assert_eq!(doc["bytes"], bytes.len());
    let lossy = String::from_utf8_lossy(bytes);
    assert_eq!(
        doc["tokens"],
        docidx::tokens::count(Encoding::O200kBase, &lossy)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("docs/.doc_hashes.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["docs/latin1.md"], doc["sha256"]);
    // The run after reuses the analysis and still names the problem.
    let again = generate(dir.path(), &[]);
    again.assert_code(0);
    assert!(again
        .stderr
        .contains("docs/latin1.md: invalid UTF-8 at byte 12"));
}

#[test]
fn bom_crlf_and_lone_cr_give_the_same_titles_and_line_numbers() {
    let body = "# Title\n\nIntro [x](missing.md).\n\n## Part\n\n[y](gone.md)\n";
    let crlf = body.replace('\n', "\r\n");
    let cr = body.replace('\n', "\r");
    let files: Vec<(String, Vec<u8>)> = vec![
        ("docs/lf.md".into(), body.into()),
        ("docs/crlf.md".into(), crlf.clone().into()),
        ("docs/cr.md".into(), cr.clone().into()),
        ("docs/bom-lf.md".into(), format!("\u{feff}{body}").into()),
        ("docs/bom-crlf.md".into(), format!("\u{feff}{crlf}").into()),
        ("docs/bom-cr.md".into(), format!("\u{feff}{cr}").into()),
        (
            "docs/fm-cr.md".into(),
            format!("---\rtitle: Front Title\r---\r{cr}").into(),
        ),
    ];
    let dir = tree(&[]);
    for (path, bytes) in &files {
        write(dir.path(), path, bytes);
    }
    generate(dir.path(), &[]).assert_code(0);
    let json = index_json(dir.path());
    for (path, _) in &files {
        let d = doc(&json, path);
        let sections: Vec<(String, u64, u64)> = d["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["heading"].as_str().unwrap().to_string(),
                    s["start_line"].as_u64().unwrap(),
                    s["end_line"].as_u64().unwrap(),
                )
            })
            .collect();
        if path.as_str() == "docs/fm-cr.md" {
            assert_eq!(d["title"], "Front Title", "{path}");
            assert_eq!(
                sections,
                [("Title".into(), 4, 10), ("Part".into(), 8, 10)],
                "{path}"
            );
        } else {
            assert_eq!(d["title"], "Title", "{path}: no BOM in the title");
            assert_eq!(
                sections,
                [("Title".into(), 1, 7), ("Part".into(), 5, 7)],
                "{path}"
            );
            assert_eq!(d["lines"], 7, "{path}");
            assert_eq!(d["summary"], "Intro x.", "{path}");
        }
    }
    // validate reports the broken links at the same lines and columns in every file.
    let (findings, ran) = validate(dir.path());
    ran.assert_code(1);
    for (path, _) in &files {
        let offset = u64::from(path.as_str() == "docs/fm-cr.md") * 3;
        let places: Vec<(u64, u64)> = findings
            .iter()
            .filter(|f| f.0 == "broken-link" && &f.1 == path)
            .map(|f| (f.2, f.3))
            .collect();
        assert_eq!(places, [(3 + offset, 7), (7 + offset, 1)], "{path}");
    }
}

#[test]
fn empty_front_matter_only_and_malformed_front_matter_are_indexed() {
    let dir = tree(&[
        ("docs/empty.md", b""),
        (
            "docs/only-front-matter.md",
            b"---\ntitle: Only Front Matter\ndescription: Described here.\n---\n",
        ),
        (
            "docs/malformed.md",
            b"---\ntitle: [unclosed\ntags: {\n---\n# Malformed\n\nBody.\n",
        ),
        (
            "docs/unclosed.md",
            b"---\ntitle: never closed\n\n# Unclosed\n",
        ),
    ]);
    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    let warnings: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", ran.stderr);
    assert!(
        warnings[0].starts_with("warning: docs/malformed.md:")
            && warnings[0].contains("malformed front matter"),
        "{}",
        ran.stderr
    );
    let json = index_json(dir.path());
    let empty = doc(&json, "docs/empty.md");
    assert_eq!(
        (&empty["title"], &empty["tokens"], &empty["lines"]),
        (&"empty.md".into(), &0.into(), &0.into())
    );
    let fm = doc(&json, "docs/only-front-matter.md");
    assert_eq!(fm["title"], "Only Front Matter");
    assert_eq!(fm["summary"], "Described here.");
    assert_eq!(fm["sections"], serde_json::json!([]));
    let bad = doc(&json, "docs/malformed.md");
    assert_eq!(bad["title"], "Malformed");
    assert_eq!(bad["front_matter"], serde_json::Value::Null);
    assert_eq!(doc(&json, "docs/unclosed.md")["title"], "Unclosed");
}

#[test]
fn a_4_mb_line_without_whitespace_takes_bounded_time() {
    const MB4: usize = 4 * 1024 * 1024;
    let dir = tree(&[]);
    // Letters (one pre-tokenizer piece), and characters Markdown parsers treat specially.
    let variants = [
        ("letters", "a"),
        ("links", "[a]("),
        ("stars", "*"),
        ("angles", "<"),
        ("unicode", "日"),
    ];
    for (name, unit) in variants {
        let line = unit.repeat(MB4 / unit.len());
        write(
            dir.path(),
            &format!("docs/{name}.md"),
            format!("# {name}\n\n{line}\n").as_bytes(),
        );
    }
    let start = Instant::now();
    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    eprintln!("5 docs of 4 MB each indexed in {:?}", start.elapsed());
    let json = index_json(dir.path());
    assert_eq!(json["documents"].as_array().unwrap().len(), variants.len());
    let (_, ran) = validate(dir.path());
    assert!(ran.code == Some(0) || ran.code == Some(1), "{}", ran.stderr);
}

#[test]
fn a_file_over_the_size_limit_is_skipped_with_a_warning() {
    let dir = tree(&[
        ("docs/small.md", b"# Small\n"),
        ("docs/big.md", &[b'x'; 2000]),
    ]);
    // Over the default limit of 16 MiB, without writing 16 MiB: a sparse file.
    let huge = fs::File::create(dir.path().join("docs/huge.md")).unwrap();
    huge.set_len(16 * 1024 * 1024 + 1).unwrap();
    let ran = generate(dir.path(), &["--max-file-size", "1000"]);
    ran.assert_code(0);
    assert_eq!(
        occurrences(
            &ran.stderr,
            "warning: docs/big.md: 2000 bytes is over the size limit of 1000 bytes (max-file-size); skipped"
        ),
        1,
        "{}",
        ran.stderr
    );
    let json = index_json(dir.path());
    let paths: Vec<&str> = json["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["docs/small.md"]);

    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    assert!(
        ran.stderr.contains(
            "warning: docs/huge.md: 16777217 bytes is over the size limit of 16777216 bytes"
        ),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("docs/big.md"));
}

#[test]
fn ten_thousand_headings_and_nesting_a_thousand_deep() {
    let mut headings = String::from("# Many\n\n");
    for i in 0..10_000 {
        let level = "#".repeat(2 + i % 5);
        headings.push_str(&format!("{level} Heading {}\n\ntext {i}\n\n", i % 100));
    }
    let mut lists = String::from("# Lists\n\n");
    for depth in 0..1000 {
        lists.push_str(&format!("{}- item {depth}\n", "  ".repeat(depth)));
    }
    let mut ordered = String::from("# Ordered\n\n");
    for depth in 0..1000 {
        ordered.push_str(&format!("{}1. item\n", "   ".repeat(depth)));
    }
    let quotes = format!("# Quotes\n\n{} deep\n", "> ".repeat(1000));
    let mixed = format!("# Mixed\n\n{}[x](x.md) (5 tokens)\n", "> - ".repeat(1000));
    let brackets = format!(
        "# Brackets\n\n{}x{}\n\n{}x{}\n\n{}\n",
        "[".repeat(1000),
        "](y.md)".repeat(1000),
        "*".repeat(1000),
        "*".repeat(1000),
        "<a>".repeat(1000)
    );
    let front = format!(
        "---\na: {}{}\n---\n# Deep front matter\n",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let dir = tree(&[
        ("docs/headings.md", headings.as_bytes()),
        ("docs/lists.md", lists.as_bytes()),
        ("docs/ordered.md", ordered.as_bytes()),
        ("docs/quotes.md", quotes.as_bytes()),
        ("docs/mixed.md", mixed.as_bytes()),
        ("docs/brackets.md", brackets.as_bytes()),
        ("docs/front.md", front.as_bytes()),
    ]);
    generate(dir.path(), &[]).assert_code(0);
    let json = index_json(dir.path());
    let many = doc(&json, "docs/headings.md");
    assert_eq!(many["sections"].as_array().unwrap().len(), 10_001);
    assert_eq!(doc(&json, "docs/front.md")["title"], "Deep front matter");
    assert_eq!(json["documents"].as_array().unwrap().len(), 7);
    // The rules and the claim finder walk the same documents.
    let (_, ran) = validate(dir.path());
    assert!(ran.code == Some(1), "{}", ran.stderr);
    let index = format!(
        "# Hand-written\n\n{}[lists](lists.md) (1 tokens)\n",
        "> ".repeat(1000)
    );
    write(dir.path(), "docs/INDEX.md", index.as_bytes());
    let ran = run("update-tokens", dir.path(), &[]);
    assert!(ran.code == Some(0) || ran.code == Some(1), "{}", ran.stderr);
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn symlink_loops_escapes_and_dangling_links_are_reported_once() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    fs::create_dir_all(root.join("docs/sub")).unwrap();
    write(&root, "docs/a.md", b"# A\n\n[link](escape.md#secret)\n");
    write(&root, "docs/sub/b.md", b"# B\n");
    write(
        base.path(),
        "outside/secret.md",
        b"# Secret\n\nNot in ROOT.\n",
    );
    let d = root.join("docs");
    symlink("..", d.join("sub/up")); // a folder loop
    symlink("self.md", d.join("self.md")); // a link to itself
    symlink("ping.md", d.join("pong.md")); // two links to each other
    symlink("pong.md", d.join("ping.md"));
    symlink(base.path().join("outside/secret.md"), d.join("escape.md"));
    symlink(base.path().join("outside"), d.join("outside-dir"));
    symlink("../../outside/secret.md", d.join("relative-escape.md"));
    symlink("nothing-here.md", d.join("dangling.md"));
    symlink("sub/b.md", d.join("inside.md")); // stays in ROOT: followed

    let ran = generate(&root, &[]);
    ran.assert_code(0);
    for (path, what) in [
        ("docs/sub/up", "symlink loop; not followed"),
        ("docs/self.md", "symlink loop; not followed"),
        ("docs/ping.md", "symlink loop; not followed"),
        ("docs/pong.md", "symlink loop; not followed"),
        (
            "docs/escape.md",
            "symlink points outside the root; not followed",
        ),
        (
            "docs/outside-dir",
            "symlink points outside the root; not followed",
        ),
        (
            "docs/relative-escape.md",
            "symlink points outside the root; not followed",
        ),
        ("docs/dangling.md", "dangling symlink; skipped"),
    ] {
        let line = format!("warning: {path}: {what}\n");
        assert_eq!(
            occurrences(&ran.stderr, &line),
            1,
            "{line}in:\n{}",
            ran.stderr
        );
        assert_eq!(
            occurrences(&ran.stderr, &format!("warning: {path}:")),
            1,
            "{path} reported once:\n{}",
            ran.stderr
        );
    }
    let json = fs::read_to_string(d.join("INDEX.json")).unwrap();
    assert!(!json.contains("Secret") && !json.contains("Not in ROOT"));
    let index = index_json(&root);
    let paths: Vec<&str> = index["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["docs/a.md", "docs/inside.md", "docs/sub/b.md"]);
    let (_, ran) = validate(&root);
    assert!(ran.code.is_some(), "{}", ran.stderr);
}

#[test]
fn an_output_linked_out_of_root_is_neither_read_nor_replaced() {
    // `docs/INDEX.md` as a symlink to a file elsewhere: reading it would copy that file into
    // the tree (with --force, as the hand-written part of the new INDEX.md).
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    write(&root, "docs/a.md", b"# A\n");
    write(base.path(), "outside/secret.md", b"SECRET-TOKEN\n");
    write(base.path(), "outside/secret.json", b"{\"SECRET\": 1}\n");
    let secret = base.path().join("outside/secret.md");
    for (output, target) in [
        ("docs/INDEX.md", "secret.md"),
        ("docs/INDEX.json", "secret.json"),
        ("docs/.doc_hashes.json", "secret.json"),
    ] {
        let link = root.join(output);
        symlink(base.path().join("outside").join(target), &link);
        let runs: [(&str, &[&str]); 4] = [
            ("generate", &[]),
            ("generate", &["--force"]),
            ("validate", &[]),
            ("update-tokens", &[]),
        ];
        for (subcommand, args) in runs {
            let ran = run(subcommand, &root, args);
            ran.assert_code(2);
            assert!(
                ran.stderr.contains(&format!(
                    "{output}: is a symlink to a file outside ROOT; docidx neither reads nor replaces it"
                )),
                "{subcommand} {args:?}: {}",
                ran.stderr
            );
        }
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        fs::remove_file(&link).unwrap();
    }
    assert_eq!(fs::read(&secret).unwrap(), b"SECRET-TOKEN\n");
    // Nothing of the secret files reached the tree.
    for entry in walkdir_files(&root) {
        let bytes = fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("SECRET"),
            "{entry:?}"
        );
    }
    // A link that stays in the tree, or leads nowhere, is read (if it can be) and replaced.
    symlink("a.md", root.join("docs/INDEX.md"));
    generate(&root, &["--force"]).assert_code(0);
    assert!(fs::symlink_metadata(root.join("docs/INDEX.md"))
        .unwrap()
        .is_file());
}

/// Every file under `dir`, recursively.
fn walkdir_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walkdir_files(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[test]
fn validate_does_not_follow_a_symlink_out_of_root() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    write(&root, "docs/a.md", b"# A\n\n[link](escape.md#secret)\n");
    write(base.path(), "outside/secret.md", b"# Secret\n");
    symlink(
        base.path().join("outside/secret.md"),
        root.join("docs/escape.md"),
    );
    let (findings, ran) = validate(&root);
    assert!(ran.code.is_some());
    // Whatever the rule, the link must be reported: its anchor cannot be checked without
    // reading a file outside ROOT.
    assert!(
        findings
            .iter()
            .any(|f| f.1 == "docs/a.md" && f.2 == 3 && f.0 != "unindexed-doc"),
        "{findings:?}"
    );
}

/// The current user can be kept out of a file by its permissions: not root, or root without
/// the capabilities that bypass them (`setpriv` drops them). `None` when neither is possible.
fn without_permission_bypass() -> Option<Command> {
    use std::os::unix::fs::MetadataExt;
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).ok()?;
    if uid != 0 {
        return Some(docidx());
    }
    let drop = "--bounding-set=-dac_override,-dac_read_search";
    let works = Command::new("setpriv")
        .args([drop, "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        return None;
    }
    let mut command = Command::new("setpriv");
    command.arg(drop).arg(env!("CARGO_BIN_EXE_docidx"));
    Some(command)
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn an_unreadable_file_and_folder_are_named_and_the_rest_is_indexed() {
    let Some(mut command) = without_permission_bypass() else {
        eprintln!(
            "skipped: running as root and setpriv cannot drop CAP_DAC_OVERRIDE, so permissions \
             cannot keep this process out of a file"
        );
        return;
    };
    let dir = tree(&[
        ("docs/ok.md", b"# Ok\n"),
        ("docs/secret.md", b"# Secret\n"),
        ("docs/private/inner.md", b"# Inner\n"),
    ]);
    chmod(&dir.path().join("docs/secret.md"), 0o000);
    chmod(&dir.path().join("docs/private"), 0o000);
    command.arg("generate").arg(dir.path());
    let ran = finish(command, LIMIT);
    chmod(&dir.path().join("docs/private"), 0o755);
    chmod(&dir.path().join("docs/secret.md"), 0o644);
    ran.assert_code(2);
    assert!(
        ran.stderr.contains("warning: docs/secret.md: cannot read:")
            && ran.stderr.contains("warning: docs/private:")
            && ran.stderr.contains("error: some files could not be read"),
        "{}",
        ran.stderr
    );
    let json = index_json(dir.path());
    assert_eq!(json["documents"].as_array().unwrap().len(), 1);
    doc(&json, "docs/ok.md");
}

#[test]
fn a_named_pipe_or_socket_named_like_a_doc_is_skipped_and_never_waited_on() {
    // Opening a named pipe to read waits for a writer; a socket cannot be opened at all. Neither
    // is a document: each is skipped with a warning, and no run waits (the time limit fails a
    // run that does).
    let dir = tree(&[
        ("docs/ok.md", b"# Ok\n"),
        (
            "docs/claims.md",
            b"# Claims\n\n- [the pipe](pipe.md) (12 tokens)\n- [ok](ok.md) (1 tokens)\n",
        ),
    ]);
    let made = Command::new("mkfifo")
        .arg(dir.path().join("docs/pipe.md"))
        .status()
        .unwrap();
    assert!(made.success());
    let _socket =
        std::os::unix::net::UnixListener::bind(dir.path().join("docs/socket.md")).unwrap();
    let skipped = |stderr: &str| {
        ["docs/pipe.md", "docs/socket.md"].iter().all(|path| {
            occurrences(
                stderr,
                &format!(
                    "warning: {path}: not a regular file (a named pipe, socket or device); skipped"
                ),
            ) == 1
        })
    };
    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    assert!(skipped(&ran.stderr), "{}", ran.stderr);
    let json = index_json(dir.path());
    assert_eq!(json["documents"].as_array().unwrap().len(), 2);
    doc(&json, "docs/ok.md");
    assert_complete_or_absent(dir.path());

    let check = generate(dir.path(), &["--check"]);
    check.assert_code(0);
    assert!(skipped(&check.stderr), "{}", check.stderr);
    let (findings, ran) = validate(dir.path());
    ran.assert_code(0);
    assert!(skipped(&ran.stderr), "{}", ran.stderr);
    // The link to the pipe leads to a file that exists: nothing to report, and nothing read.
    assert_eq!(findings, Vec::<common::Place>::new());
    // A token claim about the pipe is left alone, not read; the other one is brought up to date.
    let ran = run("update-tokens", dir.path(), &["--index", "docs/claims.md"]);
    ran.assert_code(0);
    assert!(
        ran.stderr.contains(
            "docs/claims.md:3: claim for pipe.md left alone: cannot read: not a regular file"
        ) && ran.stderr.contains("docs/claims.md:4: docs/ok.md: 1 → 3"),
        "{}",
        ran.stderr
    );
    // A pipe in the config file's place is an error naming it, not a wait.
    let made = Command::new("mkfifo")
        .arg(dir.path().join("docidx.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let ran = generate(dir.path(), &[]);
    ran.assert_code(2);
    assert!(
        ran.stderr
            .contains("docidx.toml: not a regular file (a named pipe, socket or device)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `docidx man | head -1`: the reader is gone before docidx writes. That is no error.
    let dir = tree(&[("docs/a.md", b"# A\n\n[gone](missing.md)\n")]);
    let root = dir.path().to_str().unwrap();
    let runs: [(&[&str], i32); 4] = [
        (&["completions", "bash"], 0),
        (&["man"], 0),
        (&["validate", root], 1),
        (&["validate", root, "--format", "json"], 1),
    ];
    for (args, code) in runs {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = docidx()
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn file_names_with_spaces_hash_percent_and_unicode_resolve() {
    let names = [
        "with space.md",
        "hash#1.md",
        "100%.md",
        "ünïcødé 日本.md",
        "all # % ? mixed.md",
    ];
    let mut links = String::from("# Links\n\n");
    for name in names {
        let encoded = docidx::resolve::percent_encode_path(name);
        links.push_str(&format!("- [{name}]({encoded})\n"));
        // Every byte percent-encoded, with an anchor.
        let all: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        links.push_str(&format!("- [{name}, all encoded]({all}#title)\n"));
    }
    links.push_str("- [raw unicode](ünïcødé%20日本.md)\n- [angle](<with space.md>)\n");
    let dir = tree(&[("docs/links.md", links.as_bytes())]);
    for name in names {
        write(dir.path(), &format!("docs/{name}"), b"# Title\n");
    }
    generate(dir.path(), &[]).assert_code(0);
    let json = index_json(dir.path());
    for name in names {
        assert_eq!(doc(&json, &format!("docs/{name}"))["title"], "Title");
    }
    let (findings, ran) = validate(dir.path());
    assert_eq!(findings, [], "{}", ran.stderr);
    ran.assert_code(0);
}

#[test]
fn a_file_name_that_is_not_utf8_is_indexed() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tree(&[("docs/ok.md", b"# Ok\n")]);
    let name = OsStr::from_bytes(b"caf\xe9 latin1.md");
    fs::write(dir.path().join("docs").join(name), b"# Latin-1 name\n").unwrap();
    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    let json = index_json(dir.path());
    // The invalid byte keeps its value, written %E9 (a literal % would be %25).
    let d = doc(&json, "docs/caf%E9 latin1.md");
    assert_eq!(d["title"], "Latin-1 name");
    assert_complete_or_absent(dir.path());
}

#[test]
fn links_to_a_file_name_that_is_not_utf8_resolve() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tree(&[("docs/links.md", b"# Links\n\n[latin-1](caf%E9.md)\n")]);
    for raw in [&b"caf\xe9.md"[..], b"caf\xe8.md"] {
        fs::write(
            dir.path().join("docs").join(OsStr::from_bytes(raw)),
            b"# C\n",
        )
        .unwrap();
    }
    generate(dir.path(), &[]).assert_code(0);
    let manifest: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fs::read(dir.path().join("docs/.doc_hashes.json")).unwrap())
            .unwrap();
    assert_eq!(manifest.len(), 3, "two different files, two entries");
    let (findings, _) = validate(dir.path());
    assert_eq!(findings, []);
}

#[test]
fn links_that_climb_out_of_root_are_reported_and_never_read() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    write(base.path(), "outside.md", b"# Outside\n\nSecret words.\n");
    write(
        &root,
        "docs/a.md",
        b"# A\n\n[passwd](../../../../etc/passwd)\n[outside](../../outside.md#outside)\n[root](/../outside.md)\n",
    );
    generate(&root, &[]).assert_code(0);
    let (findings, ran) = validate(&root);
    ran.assert_code(0);
    let outside: Vec<(u64, u64)> = findings
        .iter()
        .filter(|f| f.0 == "link-outside-root" && f.1 == "docs/a.md")
        .map(|f| (f.2, f.3))
        .collect();
    assert_eq!(outside, [(3, 1), (4, 1), (5, 1)], "{findings:?}");

    // update-tokens leaves claims about files outside ROOT alone: it does not read them.
    let index = "# Index\n\n- [passwd](../../../../etc/passwd) (5 tokens)\n- [outside](../../outside.md) (5 tokens)\n";
    write(&root, "docs/INDEX.md", index.as_bytes());
    let ran = run("update-tokens", &root, &[]);
    assert!(
        occurrences(&ran.stderr, "outside ROOT; not read") == 2,
        "{}",
        ran.stderr
    );
    assert_eq!(
        fs::read_to_string(root.join("docs/INDEX.md")).unwrap(),
        index
    );
}

#[test]
fn broken_markers_refuse_to_write_explain_and_exit_2() {
    let cases = [
        ("only a begin marker", format!("# Index\n\n{BEGIN}\nold\n")),
        ("only an end marker", format!("# Index\n\nold\n{END}\n")),
        (
            "markers in the wrong order",
            format!("# Index\n{END}\nold\n{BEGIN}\n"),
        ),
        (
            "two generated regions",
            format!("# Index\n{BEGIN}\na\n{END}\n\n{BEGIN}\nb\n{END}\n"),
        ),
    ];
    for (case, text) in cases {
        for force in [false, true] {
            let dir = tree(&[("docs/a.md", b"# A\n")]);
            // Earlier outputs of a good run, then the markers are broken and a doc changes.
            generate(dir.path(), &[]).assert_code(0);
            let before = outputs(dir.path());
            write(dir.path(), "docs/INDEX.md", text.as_bytes());
            write(dir.path(), "docs/b.md", b"# B\n");
            let args: &[&str] = if force { &["--force"] } else { &[] };
            let ran = generate(dir.path(), args);
            ran.assert_code(2);
            assert!(
                ran.stderr.contains("error: ")
                    && ran.stderr.contains("INDEX.md")
                    && ran.stderr.contains("line")
                    && ran.stderr.contains("left untouched"),
                "{case}: {}",
                ran.stderr
            );
            assert_eq!(
                fs::read_to_string(dir.path().join("docs/INDEX.md")).unwrap(),
                text,
                "{case}: INDEX.md untouched"
            );
            assert!(
                outputs(dir.path())[1..] == before[1..],
                "{case}: other outputs untouched"
            );
            assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        }
    }
}

#[test]
fn a_read_only_output_folder_names_the_file_and_keeps_the_old_outputs() {
    let Some(mut command) = without_permission_bypass() else {
        eprintln!(
            "skipped: running as root and setpriv cannot drop CAP_DAC_OVERRIDE, so a read-only \
             folder cannot stop this process (the write-error test still covers failed writes)"
        );
        return;
    };
    let dir = tree(&[("docs/a.md", b"# A\n")]);
    generate(dir.path(), &[]).assert_code(0);
    let before = outputs(dir.path());
    write(dir.path(), "docs/b.md", b"# B\n");
    chmod(&dir.path().join("docs"), 0o555);
    command.arg("generate").arg(dir.path());
    let ran = finish(command, LIMIT);
    chmod(&dir.path().join("docs"), 0o755);
    assert_write_refused(&ran, "ermission denied", dir.path(), &before);
}

/// `docidx generate ROOT` that cannot write a file past `bytes` bytes: writes beyond fail with
/// EFBIG ("File too large"), as they would with ENOSPC on a full disk. SIGXFSZ is ignored
/// (inherited through exec) so the write fails instead of killing the process.
fn generate_with_file_size_limit(root: &Path, bytes: u64) -> Option<Ran> {
    let works = Command::new("prlimit")
        .args(["--fsize=1000:1000", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        return None;
    }
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize="$1:$1" "$2" generate "$3""#)
        .arg("sh")
        .arg(bytes.to_string())
        .arg(env!("CARGO_BIN_EXE_docidx"))
        .arg(root);
    Some(finish(command, LIMIT))
}

#[test]
fn a_write_error_names_the_file_and_keeps_the_old_outputs() {
    let dir = tree(&[("docs/a.md", b"# A\n\nShort.\n")]);
    generate(dir.path(), &[]).assert_code(0);
    let before = outputs(dir.path());
    // Every output is about to grow past the limit.
    let long = format!("# B\n\n{}\n", "Words and more words. ".repeat(40));
    for i in 0..40 {
        write(dir.path(), &format!("docs/b{i:02}.md"), long.as_bytes());
    }
    let Some(ran) = generate_with_file_size_limit(dir.path(), 256) else {
        eprintln!("skipped: prlimit is not available to limit the file size");
        return;
    };
    assert_write_refused(&ran, "File too large", dir.path(), &before);
    // The next run, with room to write, repairs the set.
    generate(dir.path(), &[]).assert_code(0);
    generate(dir.path(), &["--check"]).assert_code(0);
}

#[test]
fn a_full_disk_names_the_file_and_keeps_the_old_outputs() {
    // A real full disk: a small tmpfs, mounted in a mount namespace of its own (so nothing
    // outside this test sees it), filled up before docidx runs. Skipped where mounting is not
    // allowed.
    let dir = tempfile::tempdir().unwrap();
    let (src, mnt, out) = (
        dir.path().join("src"),
        dir.path().join("mnt"),
        dir.path().join("out"),
    );
    fs::create_dir_all(src.join("docs")).unwrap();
    fs::create_dir_all(&mnt).unwrap();
    fs::create_dir_all(&out).unwrap();
    write(&src, "docs/a.md", b"# A\n\nShort.\n");
    let script = r#"
        set -u
        src="$1"; mnt="$2"; out="$3"; docidx="$4"
        mount -t tmpfs -o size=512k tmpfs "$mnt" || exit 100
        cp -a "$src/." "$mnt/"
        "$docidx" generate -q "$mnt" || exit 101
        mkdir "$out/before" && cp "$mnt/docs/INDEX.md" "$mnt/docs/INDEX.json" "$mnt/docs/.doc_hashes.json" "$out/before/"
        printf '# B

New.
' > "$mnt/docs/b.md"
        dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
        "$docidx" generate "$mnt" 2> "$out/stderr"
        echo $? > "$out/code"
        mkdir "$out/after" && cp "$mnt/docs/INDEX.md" "$mnt/docs/INDEX.json" "$mnt/docs/.doc_hashes.json" "$out/after/"
        ls -a "$mnt/docs" > "$out/listing"
        rm "$mnt/filler"
        "$docidx" generate -q "$mnt" && "$docidx" generate -q --check "$mnt"
        echo $? > "$out/repaired"
    "#;
    let mut command = Command::new("unshare");
    command
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args([&src, &mnt, &out])
        .arg(env!("CARGO_BIN_EXE_docidx"));
    let ran = finish(command, LIMIT);
    if ran.code != Some(0) {
        eprintln!(
            "skipped: cannot mount a tmpfs in a mount namespace here (exit {:?}): {}",
            ran.code, ran.stderr
        );
        return;
    }
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap();
    let stderr = read("stderr");
    assert_eq!(read("code").trim(), "2", "{stderr}");
    // Which output hits the full disk first depends on the free bytes left (deleting the
    // cache's stamp frees a page); the message names it.
    assert!(
        stderr.contains("error: ")
            && OUTPUTS
                .iter()
                .any(|o| stderr.contains(&format!("docs/{o}")))
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
    for name in OUTPUTS {
        assert!(
            fs::read(out.join("before").join(name)).unwrap()
                == fs::read(out.join("after").join(name)).unwrap(),
            "{name} untouched"
        );
    }
    assert!(!read("listing").contains(".tmp"), "{}", read("listing"));
    assert_eq!(read("repaired").trim(), "0", "the next run repairs the set");
}

#[test]
fn a_write_error_on_a_later_output_keeps_every_old_output() {
    let dir = tree(&[("docs/a.md", b"# A\n\nShort.\n")]);
    generate(dir.path(), &[]).assert_code(0);
    let before = outputs(dir.path());
    write(dir.path(), "docs/b.md", b"# B\n\nShort too.\n");
    // Room for the new INDEX.md, not for the new INDEX.json.
    let md_len = before[0].as_ref().unwrap().len() as u64;
    let json_len = before[1].as_ref().unwrap().len() as u64;
    assert!(md_len + 400 < json_len, "{md_len} {json_len}");
    let Some(ran) = generate_with_file_size_limit(dir.path(), md_len + 200) else {
        eprintln!("skipped: prlimit is not available to limit the file size");
        return;
    };
    ran.assert_code(2);
    assert!(ran.stderr.contains("docs/INDEX.json"), "{}", ran.stderr);
    assert!(
        outputs(dir.path()) == before,
        "the old outputs are untouched"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency and interruption

/// A tree of `n` docs in a few folders, big enough that a run takes a moment.
fn big_tree(n: usize) -> tempfile::TempDir {
    let dir = tree(&[]);
    let para =
        "Some words about the topic, with `code`, *emphasis* and a [link](../README.md).\n\n";
    for i in 0..n {
        let text = format!(
            "# Doc {i}\n\n{}## Part\n\n{}",
            para.repeat(1 + i % 7),
            para.repeat(3)
        );
        write(
            dir.path(),
            &format!("docs/part{}/doc{i:03}.md", i % 5),
            text.as_bytes(),
        );
    }
    write(dir.path(), "README.md", b"# Readme\n");
    dir
}

#[test]
fn two_concurrent_generates_always_leave_complete_outputs() {
    let dir = big_tree(60);
    let root: PathBuf = dir.path().to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (root, stop, reads) = (root.clone(), stop.clone(), reads.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for name in OUTPUTS {
                    if let Ok(bytes) = fs::read(root.join("docs").join(name)) {
                        if let Some(problem) = incomplete(name, &bytes) {
                            return Err(problem);
                        }
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(())
        })
    };
    let mut refused = 0;
    for round in 0..20 {
        // Something to write every round.
        write(
            &root,
            &format!("docs/part{}/doc{:03}.md", round % 5, round),
            format!("# Changed in round {round}\n").as_bytes(),
        );
        let spawn = || -> Child {
            docidx()
                .args(["generate", "-q"])
                .arg(&root)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => {}
                // The protection against overwriting a file changed meanwhile may stop one.
                Some(2) if stderr.contains("changed on disk while docidx was working") => {
                    refused += 1
                }
                other => panic!("round {round}: exit {other:?}: {stderr}"),
            }
        }
        assert_complete_or_absent(&root);
        let check = generate(&root, &["--check"]);
        check.assert_code(0);
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap().unwrap();
    assert!(reads.load(Ordering::Relaxed) > 0);
    eprintln!(
        "20 rounds: {refused} runs stopped because an output changed meanwhile; {} complete reads",
        reads.load(Ordering::Relaxed)
    );
}

#[test]
fn a_run_killed_between_outputs_is_repaired_by_the_next() {
    let dir = tree(&[("docs/a.md", b"# A\n")]);
    generate(dir.path(), &[]).assert_code(0);
    let stale_json = fs::read(dir.path().join("docs/INDEX.json")).unwrap();
    let stale_manifest = fs::read(dir.path().join("docs/.doc_hashes.json")).unwrap();
    write(dir.path(), "docs/b.md", b"# B\n");
    generate(dir.path(), &[]).assert_code(0);
    // As if killed after INDEX.md was renamed into place, while INDEX.json was half-written:
    // the old INDEX.json and manifest, and a truncated temporary file beside them.
    fs::write(dir.path().join("docs/INDEX.json"), &stale_json).unwrap();
    fs::write(dir.path().join("docs/.doc_hashes.json"), &stale_manifest).unwrap();
    let partial = &fs::read(dir.path().join("docs/INDEX.json")).unwrap()[..100];
    fs::write(
        dir.path().join("docs/.INDEX.json.docidx-999999-0.tmp"),
        partial,
    )
    .unwrap();
    generate(dir.path(), &["--check"]).assert_code(1);
    let (findings, _) = validate(dir.path());
    assert!(
        findings.iter().any(|f| f.0 == "stale-index"),
        "{findings:?}"
    );

    let ran = generate(dir.path(), &[]);
    ran.assert_code(0);
    assert_complete_or_absent(dir.path());
    generate(dir.path(), &["--check"]).assert_code(0);
    let (findings, _) = validate(dir.path());
    assert!(
        !findings.iter().any(|f| f.0 == "stale-index"),
        "{findings:?}"
    );
    doc(&index_json(dir.path()), "docs/b.md");

    // A truncated INDEX.json (written by something else, not atomically) is rewritten too.
    let full = fs::read(dir.path().join("docs/INDEX.json")).unwrap();
    fs::write(dir.path().join("docs/INDEX.json"), &full[..full.len() / 2]).unwrap();
    generate(dir.path(), &[]).assert_code(0);
    assert_eq!(fs::read(dir.path().join("docs/INDEX.json")).unwrap(), full);
}

#[test]
fn killing_generate_at_any_moment_never_leaves_a_truncated_output() {
    let dir = big_tree(150);
    let root = dir.path();
    let change = |round: u64| {
        write(
            root,
            &format!("docs/part0/doc{:03}.md", round * 5),
            format!("# Round {round}\n").as_bytes(),
        )
    };
    // How long a whole run takes here, to spread the kills over it.
    generate(root, &[]).assert_code(0);
    change(99);
    let start = Instant::now();
    generate(root, &[]).assert_code(0);
    let whole = start.elapsed().as_millis() as u64;
    let mut killed = 0;
    for round in 0u64..12 {
        change(round);
        let mut child = docidx()
            .args(["generate", "-q"])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the run: early, while analysing, while writing.
        thread::sleep(Duration::from_millis(1 + whole * (round + 1) / 12));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            killed += 1;
        }
        child.wait().unwrap();
        assert_complete_or_absent(root);
    }
    eprintln!("killed {killed} of 12 runs (a whole run takes {whole} ms)");
    generate(root, &[]).assert_code(0);
    assert_complete_or_absent(root);
    generate(root, &["--check"]).assert_code(0);
    let (findings, _) = validate(root);
    assert!(
        !findings.iter().any(|f| f.0 == "stale-index"),
        "{findings:?}"
    );
}
