//! Integration tests: the cache in `ROOT/.docidx-cache/` makes a run on an unchanged tree
//! cheap, and never hides a change.

mod common;

use common::{copy_dir, fixture_copy as tree};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const OUTPUTS: [&str; 3] = ["INDEX.md", "INDEX.json", ".doc_hashes.json"];

fn docidx(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docidx"))
        .args(&args[..1])
        .arg(root)
        .args(&args[1..])
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn outputs(root: &Path) -> Vec<Vec<u8>> {
    OUTPUTS
        .iter()
        .map(|n| fs::read(root.join("docs").join(n)).unwrap())
        .collect()
}

/// `docidx validate ROOT --format json EXTRA…`: its exit code and report.
fn validate_json(root: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["validate", "--format", "json"];
    args.extend(extra);
    let out = docidx(root, &args);
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// The outputs a run without any cache writes for the same tree.
fn uncached_outputs(root: &Path) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(root, dir.path());
    let _ = fs::remove_dir_all(dir.path().join(".docidx-cache"));
    ok(docidx(dir.path(), &["generate", "-q", "--no-cache"]));
    outputs(dir.path())
}

#[test]
fn generate_keeps_a_git_ignored_cache_and_trusts_it_only_for_an_unchanged_tree() {
    let dir = tree("nested");
    let root = dir.path();
    ok(docidx(root, &["generate", "-q"]));
    let cache = root.join(".docidx-cache");
    assert_eq!(
        fs::read_to_string(cache.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );
    assert!(fs::read_to_string(cache.join("CACHEDIR.TAG"))
        .unwrap()
        .starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    let first = outputs(root);
    assert_eq!(first, uncached_outputs(root));

    // Nothing changed: nothing is written, and the summary is the same.
    let again = ok(docidx(root, &["generate"]));
    assert!(
        stderr(&again).contains("nothing to write"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("0 added, 0 removed, 0 changed"));
    assert_eq!(outputs(root), first);
    ok(docidx(root, &["generate", "--check"]));
    ok(docidx(root, &["update-tokens", "--check"]));

    // A changed doc.
    let doc = root.join("docs/overview.md");
    let mut text = fs::read_to_string(&doc).unwrap();
    text.push_str("\nOne more line about the overview.\n");
    fs::write(&doc, text).unwrap();
    let check = docidx(root, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&root.join("docs"))
            .iter()
            .filter(|n| n.ends_with(".tmp"))
            .count(),
        0,
        "--check stages no temporary file"
    );
    ok(docidx(root, &["generate", "-q"]));
    assert_eq!(outputs(root), uncached_outputs(root));
    assert_ne!(outputs(root), first);

    // An output edited by hand (the stamp recorded what was written, not what is there).
    let json = root.join("docs/INDEX.json");
    let written = fs::read(&json).unwrap();
    fs::write(&json, b"{}\n").unwrap();
    let check = docidx(root, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    ok(docidx(root, &["generate", "-q"]));
    assert_eq!(fs::read(&json).unwrap(), written);

    // Other settings.
    let settled = outputs(root);
    fs::write(root.join("docidx.toml"), "summary-chars = 20\n").unwrap();
    ok(docidx(root, &["generate", "-q"]));
    assert_ne!(outputs(root), settled);
    assert_eq!(outputs(root), uncached_outputs(root));
}

#[test]
fn no_cache_reads_and_writes_no_cache_folder() {
    let dir = tree("nested");
    ok(docidx(dir.path(), &["generate", "-q", "--no-cache"]));
    assert!(!dir.path().join(".docidx-cache").exists());
    fs::write(dir.path().join("docidx.toml"), "cache = false\n").unwrap();
    ok(docidx(dir.path(), &["generate", "-q"]));
    assert!(!dir.path().join(".docidx-cache").exists());
}

#[test]
fn validate_gives_the_same_report_from_the_cache_and_sees_changes() {
    for name in ["validate/broken-anchor", "validate/broken-link", "nested"] {
        let dir = tree(name);
        let root = dir.path();
        ok(docidx(root, &["generate", "-q"]));
        let report = |extra: &[&str]| validate_json(root, extra);
        let cached = report(&[]);
        assert_eq!(cached, report(&["--no-cache"]), "{name}");

        // A doc changed since generate: the cache must not vouch for the index any more.
        let doc = fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("INDEX.md"))
            .unwrap();
        let mut text = fs::read_to_string(&doc).unwrap();
        text.push_str("\nA new paragraph.\n");
        fs::write(&doc, text).unwrap();
        let (code, json) = report(&[]);
        assert_eq!(code, Some(1), "{name}: {json}");
        assert!(json.contains("stale-index"), "{name}: {json}");
        assert_eq!((code, json), report(&["--no-cache"]), "{name}");
    }
}

#[test]
fn update_tokens_check_passes_on_an_unchanged_tree_and_writing_drops_the_stamp() {
    let dir = tree("update-tokens");
    let root = dir.path();
    ok(docidx(root, &["generate", "-q", "--force"]));
    let stamp = root.join(".docidx-cache/stamp-v3.json");
    assert!(stamp.exists());
    let before = docidx(root, &["update-tokens", "--check"]);
    let no_cache = docidx(root, &["update-tokens", "--check", "--no-cache"]);
    // The fixture's hand-written claims are stale, with or without the cache.
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    assert_eq!(no_cache.status.code(), Some(1), "{}", stderr(&no_cache));
    // Writing the new numbers changes INDEX.md, so the stamp no longer describes it.
    ok(docidx(root, &["update-tokens", "-q"]));
    assert!(!stamp.exists());
    ok(docidx(root, &["update-tokens", "--check"]));
}

#[test]
fn validate_from_the_cache_still_checks_the_hand_written_part_of_index_md() {
    let dir = tree("hand-written");
    let root = dir.path();
    let index = root.join("docs/INDEX.md");
    let mut text = fs::read_to_string(&index).unwrap();
    text.push_str(
        "\nSee also [the old guide](old-guide.md) and [setup](overview.md#no-such-part).\n",
    );
    fs::write(&index, text).unwrap();
    ok(docidx(root, &["generate", "-q"]));
    let report = |extra: &[&str]| validate_json(root, extra);
    let (code, json) = report(&[]);
    assert_eq!((code, json.clone()), report(&["--no-cache"]));
    assert_eq!(code, Some(1), "{json}");
    assert!(
        json.contains("missing-doc") && json.contains("old-guide.md"),
        "{json}"
    );
}

#[test]
fn validate_of_an_unchanged_tree_takes_links_and_anchors_from_the_cache() {
    let dir = tree("validate/broken-anchor");
    let root = dir.path();
    ok(docidx(root, &["generate", "-q"]));
    let run = |extra: &[&str]| validate_json(root, extra).1;
    let honest = run(&[]);
    // Drop every section anchor from the cache: a run that uses it reports more anchors missing.
    let links = root.join(".docidx-cache/links-v2.json");
    let text = fs::read_to_string(&links).unwrap();
    let facts: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let emptied: Vec<serde_json::Value> = facts
        .into_iter()
        .map(|mut f| {
            f["sections"] = serde_json::json!([]);
            f
        })
        .collect();
    let emptied = serde_json::to_string(&emptied).unwrap();
    fs::write(&links, &emptied).unwrap();
    // The stamp names the links file it was written with.
    let stamp_path = root.join(".docidx-cache/stamp-v3.json");
    let mut stamp: serde_json::Value =
        serde_json::from_slice(&fs::read(&stamp_path).unwrap()).unwrap();
    let honest_links = stamp["links"].as_str().unwrap().to_string();
    let digest = |bytes: &[u8]| docidx::output::hex(&docidx::output::digest(bytes));
    assert_eq!(honest_links, digest(text.as_bytes()));
    stamp["links"] = digest(emptied.as_bytes()).into();
    fs::write(&stamp_path, stamp.to_string()).unwrap();
    let count = |json: &str| json.matches("broken-anchor").count();
    assert!(count(&run(&[])) > count(&honest), "{honest}");
    assert_eq!(run(&["--no-cache"]), honest);
    // A links file the stamp does not name is not used.
    stamp["links"] = honest_links.into();
    fs::write(&stamp_path, stamp.to_string()).unwrap();
    assert_eq!(run(&[]), honest);
}

#[test]
fn a_run_from_the_cache_repeats_the_warnings_of_the_full_run() {
    let dir = tree("front-matter");
    let root = dir.path();
    let warnings = |out: &Output| -> Vec<String> {
        stderr(out)
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .map(str::to_string)
            .collect()
    };
    let full = ok(docidx(root, &["generate"]));
    assert!(!warnings(&full).is_empty(), "{}", stderr(&full));
    let cached = ok(docidx(root, &["generate"]));
    assert!(stderr(&cached).contains("nothing to write"));
    assert_eq!(warnings(&cached), warnings(&full));
}

#[cfg(unix)]
#[test]
fn a_cache_folder_that_is_a_symlink_is_neither_read_nor_written() {
    let dir = tree("nested");
    let expected = uncached_outputs(dir.path());
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".docidx-cache")).unwrap();
    ok(docidx(dir.path(), &["generate", "-q"]));
    ok(docidx(dir.path(), &["generate", "-q", "--check"]));
    ok(docidx(dir.path(), &["validate"]));
    assert_eq!(
        fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing is written through the symlink"
    );
    assert_eq!(outputs(dir.path()), expected);
}

/// Runs `generate` on `root` and, on a copy of it without the cache, `generate --no-cache`:
/// the outputs, the warnings and the summary (but its time) must be the same.
fn generate_as_a_full_run_would(root: &Path, label: &str) -> Output {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(root, copy.path());
    let _ = fs::remove_dir_all(copy.path().join(".docidx-cache"));
    let run = ok(docidx(root, &["generate"]));
    let full = ok(docidx(copy.path(), &["generate", "--no-cache"]));
    assert_eq!(outputs(root), outputs(copy.path()), "{label}");
    let without_time = |out: &Output| -> Vec<String> {
        stderr(out)
            .lines()
            .map(|l| l.split(" in ").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(without_time(&run), without_time(&full), "{label}");
    run
}

/// The docs of a tree (not `INDEX.md`), sorted.
fn docs_of(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut docs = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with(".docidx-cache") {
                docs.extend(docs_of(&path));
            }
        } else if path.extension().is_some_and(|e| e == "md") && !path.ends_with("INDEX.md") {
            docs.push(path);
        }
    }
    docs.sort();
    docs
}

#[test]
fn a_run_after_docs_changed_writes_what_a_full_run_writes() {
    for (name, crlf) in [
        ("nested", false),
        ("front-matter", false),
        ("hand-written", false),
        ("hand-written", true),
    ] {
        let label = |step: &str| format!("{name} (CRLF: {crlf}): {step}");
        let dir = tree(name);
        let root = dir.path();
        if crlf {
            let index = root.join("docs/INDEX.md");
            let text = fs::read_to_string(&index).unwrap();
            fs::write(&index, text.replace('\n', "\r\n")).unwrap();
        }
        ok(docidx(root, &["generate", "-q"]));
        let docs = docs_of(root);
        assert!(docs.len() >= 3, "{docs:?}");

        // One doc changed, in a way that changes its line in INDEX.md.
        let mut text = fs::read_to_string(&docs[1]).unwrap();
        text.push_str("\n## A new part\n\nWith words, and a [link](#a-new-part).\n");
        fs::write(&docs[1], text).unwrap();
        let run = generate_as_a_full_run_would(root, &label("changed"));
        assert!(stderr(&run).contains("0 added, 0 removed, 1 changed"));

        // A doc added in a new folder, one beside the first, and the first removed.
        fs::create_dir_all(root.join("docs/zz-new")).unwrap();
        fs::write(root.join("docs/zz-new/fresh.md"), "# Fresh\n\nNew here.\n").unwrap();
        fs::write(root.join("docs/0-first.md"), "# First\n\nSorted first.\n").unwrap();
        fs::remove_file(&docs[0]).unwrap();
        let run = generate_as_a_full_run_would(root, &label("added and removed"));
        assert!(stderr(&run).contains("2 added, 1 removed, 0 changed"));

        // Nothing changed since: nothing to write.
        let again = ok(docidx(root, &["generate"]));
        assert!(stderr(&again).contains("nothing to write"));

        // A doc with a warning (malformed front matter) and the last doc removed.
        fs::write(root.join("docs/zz-new/bad.md"), "---\nkey: [\n---\n# Bad\n").unwrap();
        fs::remove_file(docs.last().unwrap()).unwrap();
        let run = generate_as_a_full_run_would(root, &label("warning"));
        assert!(stderr(&run).contains("bad.md"), "{}", stderr(&run));
    }
}

#[test]
fn a_run_after_a_doc_changed_takes_the_other_docs_from_the_cache() {
    let dir = tree("nested");
    let root = dir.path();
    ok(docidx(root, &["generate", "-q"]));
    // Add 1,000 to the count the cache keeps for every doc but the last.
    let table = root.join(".docidx-cache/docs-v1.txt");
    let text = fs::read_to_string(&table).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Two header lines ("docidx table 1", "newline …"), then a line per doc.
    assert!(lines[1].starts_with("newline "), "{text}");
    let header = 2;
    let docs = lines.len() - header;
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for line in &mut edited[header..header + docs - 1] {
        let mut fields: Vec<String> = line.splitn(11, ' ').map(str::to_string).collect();
        fields[3] = (fields[3].parse::<u64>().unwrap() + 1000).to_string();
        *line = fields.join(" ");
    }
    fs::write(&table, edited.join("\n") + "\n").unwrap();
    let total = |root: &Path| -> u64 {
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(root.join("docs/INDEX.json")).unwrap()).unwrap();
        json["statistics"]["tokens"].as_u64().unwrap()
    };
    let honest = total(root);

    // The last doc changes by a few tokens; the others' counts come from the table.
    let last = docs_of(root).pop().unwrap();
    let mut text = fs::read_to_string(&last).unwrap();
    text.push_str("\nMore.\n");
    fs::write(&last, text).unwrap();
    ok(docidx(root, &["generate", "-q"]));
    let kept = total(root) - honest;
    assert!(
        (1000 * (docs as u64 - 1)..1000 * (docs as u64 - 1) + 20).contains(&kept),
        "{kept}"
    );
    // Without the cache, the honest count.
    ok(docidx(root, &["generate", "-q", "--no-cache"]));
    assert!(total(root) - honest < 20);
}

#[test]
fn block_counts_survive_a_run_that_knew_the_whole_count() {
    let dir = tree("nested");
    let root = dir.path();
    let blocks = || -> usize {
        let text = fs::read(root.join(".docidx-cache/index-blocks-v2.json")).unwrap();
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&text).unwrap();
        map.len()
    };
    ok(docidx(root, &["generate", "-q"]));
    let counted = blocks();
    assert!(counted > 1, "{counted}");
    // Without the stamp the next run takes the full path, where INDEX.json knows the count of
    // the INDEX.md it writes: the blocks' counts must stay for the next change.
    fs::remove_file(root.join(".docidx-cache/stamp-v3.json")).unwrap();
    ok(docidx(root, &["generate", "-q"]));
    assert_eq!(blocks(), counted);
}

/// The inode of a file: a file replaced by an atomic write gets a new one.
#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).unwrap().ino()
}

/// Long enough for any file written before it to be settled ([`docidx::known_files`]): 100 ms
/// where file times have fractions of a second, 2 s where they are whole seconds.
#[cfg(unix)]
const SETTLED: std::time::Duration = std::time::Duration::from_millis(2_100);

/// The shortest time after which a file can be settled.
#[cfg(unix)]
const SETTLE: std::time::Duration = std::time::Duration::from_millis(100);

/// Rewrites `path` with bytes of the same length (a lowercase letter at or after `at`
/// changed) and puts its modification time back, so that only its change time tells.
#[cfg(unix)]
fn rewrite_keeping_size_and_time(path: &Path, at: usize) {
    let meta = fs::metadata(path).unwrap();
    let mut bytes = fs::read(path).unwrap();
    let at = at + bytes[at..].iter().position(u8::is_ascii_lowercase).unwrap();
    bytes[at] = if bytes[at] == b'z' {
        b'y'
    } else {
        bytes[at] + 1
    };
    fs::write(path, &bytes).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(meta.modified().unwrap()).unwrap();
    drop(file);
    let now = fs::metadata(path).unwrap();
    assert_eq!(
        (now.len(), now.modified().unwrap()),
        (meta.len(), meta.modified().unwrap())
    );
}

#[test]
#[cfg(unix)]
fn docs_are_recognised_by_stat_once_settled_and_a_rewrite_keeping_size_and_time_is_seen() {
    let dir = tree("nested");
    let written = std::time::Instant::now();
    let root = dir.path();
    let known = root.join(".docidx-cache/files-v1.txt");
    let docs = docs_of(root);
    // A doc written less than SETTLE before a run is not recorded, so the next run hashes it
    // again.
    ok(docidx(root, &["generate", "-q"]));
    if written.elapsed() < SETTLE {
        assert_eq!(fs::read_to_string(&known).unwrap(), "");
    }
    std::thread::sleep(SETTLED);

    // Each doc recorded once settled, with its SHA-256, size, times and inode, and its path,
    // by a run that reads every doc (no cache: keys from the open docs).
    fs::remove_dir_all(root.join(".docidx-cache")).unwrap();
    ok(docidx(root, &["generate", "-q"]));
    let lines = fs::read_to_string(&known).unwrap();
    assert_eq!(lines.lines().count(), docs.len(), "{lines}");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("docs/INDEX.json")).unwrap()).unwrap();
    for doc in json["documents"].as_array().unwrap() {
        let (path, sha256) = (
            doc["path"].as_str().unwrap(),
            doc["sha256"].as_str().unwrap(),
        );
        let line = lines.lines().find(|l| l.ends_with(&format!(" {path}")));
        assert!(line.unwrap().starts_with(&format!("{sha256} ")), "{path}");
    }
    // Every doc recognised without being read: the file is not written again.
    let before = inode(&known);
    ok(docidx(root, &["generate", "-q"]));
    ok(docidx(root, &["validate"]));
    assert_eq!(inode(&known), before);

    // New bytes of the same length, with the modification time put back: only the change
    // time tells, and it is enough.
    let recorded = inode(&known);
    rewrite_keeping_size_and_time(&docs[0], 0);
    let rewritten = std::time::Instant::now();
    let check = docidx(root, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let out = ok(docidx(root, &["generate"]));
    let unsettled = rewritten.elapsed() < SETTLE;
    assert!(stderr(&out).contains("1 changed"), "{}", stderr(&out));
    assert_eq!(outputs(root), uncached_outputs(root));
    // Written just before the run: nothing new to record, so the file is not written again.
    // It keeps the doc's old line, whose key no longer matches: the next run hashes the doc.
    if unsettled {
        assert_eq!(inode(&known), recorded);
    }
    // Once settled, recorded again by the next run, with its new SHA-256.
    std::thread::sleep(SETTLED);
    ok(docidx(root, &["generate", "-q"]));
    let lines = fs::read_to_string(&known).unwrap();
    assert_eq!(lines.lines().count(), docs.len(), "{lines}");
    let rel = docs[0].strip_prefix(root).unwrap().to_str().unwrap();
    let new_sha256 = docidx::analyse::sha256_hex(&fs::read(&docs[0]).unwrap());
    let line = lines.lines().find(|l| l.ends_with(&format!(" {rel}")));
    assert!(line.unwrap().starts_with(&new_sha256), "{lines}");

    // A doc removed: its line goes at once, with no doc to read.
    fs::remove_file(&docs[1]).unwrap();
    let out = ok(docidx(root, &["generate"]));
    assert!(stderr(&out).contains("1 removed"), "{}", stderr(&out));
    let lines = fs::read_to_string(&known).unwrap();
    assert_eq!(lines.lines().count(), docs.len() - 1, "{lines}");
    assert_eq!(outputs(root), uncached_outputs(root));
}

#[test]
#[cfg(unix)]
fn outputs_are_recognised_by_stat_once_settled_and_an_edit_keeping_size_and_time_is_seen() {
    let dir = tree("nested");
    let root = dir.path();
    let known = root.join(".docidx-cache/outputs-v2.txt");
    ok(docidx(root, &["generate", "-q"]));
    let generated = outputs(root);
    // Outputs just written are not recorded: the next run hashes them.
    assert!(!known.exists());
    std::thread::sleep(SETTLED);
    // A run that finds them as the stamp says, and settled, records them with their digests.
    ok(docidx(root, &["generate", "--check"]));
    assert!(!known.exists(), "--check only reads the cache");
    ok(docidx(root, &["generate", "-q"]));
    let lines = fs::read_to_string(&known).unwrap();
    let stamp: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(".docidx-cache/stamp-v3.json")).unwrap())
            .unwrap();
    let mut recorded: Vec<(&str, &str)> = lines
        .lines()
        .map(|l| (l.rsplit(' ').next().unwrap(), &l[..64]))
        .collect();
    recorded.sort();
    let mut stamped: Vec<(&str, &str)> = stamp["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o[0].as_str().unwrap(), o[1].as_str().unwrap()))
        .collect();
    stamped.sort();
    assert_eq!(recorded, stamped);
    assert_eq!(recorded.len(), OUTPUTS.len());
    // Recognised by `stat` from then on: not written again.
    let before = inode(&known);
    ok(docidx(root, &["generate", "-q"]));
    ok(docidx(root, &["validate"]));
    assert_eq!(inode(&known), before);

    // INDEX.md edited by hand between its markers, with the size and modification time kept:
    // `--check` sees it, and `generate` writes it again.
    let index_md = root.join("docs/INDEX.md");
    let generated_part = fs::read_to_string(&index_md).unwrap().find("docidx:begin");
    rewrite_keeping_size_and_time(&index_md, generated_part.unwrap() + "docidx:begin".len());
    let check = docidx(root, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    ok(docidx(root, &["generate", "-q"]));
    assert!(outputs(root) == generated);
    // The same for INDEX.json.
    let index_json = root.join("docs/INDEX.json");
    rewrite_keeping_size_and_time(&index_json, 0);
    let check = docidx(root, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    ok(docidx(root, &["generate", "-q"]));
    assert!(outputs(root) == generated);
}
