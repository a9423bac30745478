//! Integration tests: the git pre-commit hook in `.githooks/pre-commit`, run by `git commit` in
//! temporary repositories, with the freshly built `docidx` first on PATH.
#![cfg(unix)]

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `.githooks` folder, which the temporary repositories use as `core.hooksPath`.
fn hooks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.githooks")
        .canonicalize()
        .expect(".githooks exists")
}

fn docidx_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_docidx"))
}

fn git_available() -> bool {
    let found = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("git is not available: skipping the pre-commit hook test");
    }
    found
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary git repository whose pre-commit hook is `.githooks/pre-commit`.
struct Repo {
    dir: tempfile::TempDir,
    path_env: OsString,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = vec![docidx_bin().parent().unwrap().to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let repo = Repo {
            dir,
            path_env: std::env::join_paths(paths).unwrap(),
        };
        repo.ok(&["init", "-q", "-b", "main"]);
        repo.ok(&["config", "user.name", "Hook Test"]);
        repo.ok(&["config", "user.email", "hook@example.com"]);
        repo.ok(&["config", "commit.gpgsign", "false"]);
        let hooks = hooks_dir();
        repo.ok(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
        repo
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.root().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    /// `git ARGS` in the repository, isolated from the user's git settings and from any git
    /// environment of a hook that runs these tests, with `envs` set.
    fn git_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(self.root())
            .env("PATH", &self.path_env)
            .env("HOME", self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_CONFIG_PARAMETERS",
            "DOCIDX",
            "DOCIDX_SKIP",
            "DOCIDX_HOOK_ON_STALE",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn git(&self, args: &[&str]) -> Output {
        self.git_with(args, &[])
    }

    /// `git ARGS`, which must succeed; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn commit_with(&self, message: &str, envs: &[(&str, &str)]) -> Output {
        self.git_with(&["commit", "-q", "-m", message], envs)
    }

    fn commit(&self, message: &str) -> Output {
        self.commit_with(message, &[])
    }

    fn commits(&self) -> usize {
        self.ok(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    fn docidx(&self, args: &[&str]) -> Output {
        Command::new(docidx_bin())
            .args(args)
            .arg(self.root())
            .output()
            .unwrap()
    }

    /// A small docs tree with its index, committed through the hook.
    fn with_indexed_docs(self) -> Repo {
        self.write("docs/a.md", "# A\n\nThe first doc. See [b](b.md).\n");
        self.write("docs/b.md", "# B\n\nThe second doc. Back to [a](a.md#a).\n");
        let generated = self.docidx(&["generate", "-q"]);
        assert!(generated.status.success(), "{}", text(&generated.stderr));
        self.ok(&["add", "-A"]);
        let first = self.commit("docs");
        assert_success(&first);
        assert_eq!(self.commits(), 1);
        self
    }
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "expected the commit to pass:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts the commit was refused and returns its stderr.
fn assert_refused(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "expected the commit to be refused:\n{}{err}",
        text(&out.stdout)
    );
    assert!(err.contains("--no-verify"), "says how to skip:\n{err}");
    assert!(err.contains("DOCIDX_SKIP=1"), "says how to skip:\n{err}");
    err
}

#[test]
fn fail_mode_refuses_broken_links_and_a_stale_index() {
    if !git_available() {
        return;
    }
    let repo = Repo::new().with_indexed_docs();

    // A new doc with a broken link: refused, and the message names the link.
    repo.write("docs/c.md", "# C\n\nSee [gone](missing.md).\n");
    repo.ok(&["add", "docs/c.md"]);
    let err = assert_refused(&repo.commit("broken link"));
    assert!(err.contains("broken-link"), "{err}");
    assert!(err.contains("missing.md"), "{err}");
    assert!(err.contains("docidx validate found errors"), "{err}");
    assert_eq!(repo.commits(), 1);

    // Link fixed, index not regenerated: refused with the command that fixes it.
    repo.write("docs/c.md", "# C\n\nSee [a](a.md).\n");
    repo.ok(&["add", "docs/c.md"]);
    let err = assert_refused(&repo.commit("fixed link, stale index"));
    assert!(err.contains("the index is out of date"), "{err}");
    assert!(
        err.contains(
            "docidx generate && git add docs/INDEX.md docs/INDEX.json docs/.doc_hashes.json"
        ),
        "{err}"
    );
    assert_eq!(repo.commits(), 1);

    // Regenerated and staged: passes.
    assert!(repo.docidx(&["generate", "-q"]).status.success());
    repo.ok(&["add", "-A"]);
    assert_success(&repo.commit("c"));
    assert_eq!(repo.commits(), 2);

    // A deleted doc makes the index stale too.
    repo.ok(&["rm", "-q", "docs/c.md"]);
    let err = assert_refused(&repo.commit("delete c"));
    assert!(err.contains("the index is out of date"), "{err}");

    // DOCIDX_SKIP=1 lets it through anyway.
    assert_success(&repo.commit_with("delete c anyway", &[("DOCIDX_SKIP", "1")]));
    assert_eq!(repo.commits(), 3);
}

#[test]
fn regenerate_mode_stages_the_fresh_index() {
    if !git_available() {
        return;
    }
    let repo = Repo::new();
    repo.write(
        "docidx.toml",
        "# on-stale = \"fail\" here is only a comment\n\
         [validate]\nrules = { unindexed-doc = \"warning\" }\n\n\
         [hook]  # the pre-commit hook\n\
         on-stale = \"regenerate\"  # stage the index\n",
    );
    let repo = repo.with_indexed_docs();

    // A clean new doc, index not regenerated. The environment variable overrides docidx.toml.
    repo.write("docs/c.md", "# C\n\nSee [a](a.md).\n");
    repo.ok(&["add", "docs/c.md"]);
    let err = assert_refused(&repo.commit_with("c", &[("DOCIDX_HOOK_ON_STALE", "fail")]));
    assert!(err.contains("the index is out of date"), "{err}");
    assert_eq!(repo.commits(), 1);

    // docidx.toml says regenerate: the hook writes the index and commits it with the doc.
    let out = repo.commit("c");
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("regenerated and staged docs/INDEX.md"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(repo.commits(), 2);
    assert_eq!(
        repo.ok(&["status", "--porcelain"]),
        "",
        "everything committed"
    );
    let files = repo.ok(&["show", "--name-only", "--format=", "HEAD"]);
    for f in [
        "docs/c.md",
        "docs/INDEX.md",
        "docs/INDEX.json",
        "docs/.doc_hashes.json",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "{f} not in the commit:\n{files}"
        );
    }
    let check = repo.docidx(&["generate", "--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));

    // A broken link is still refused.
    repo.write("docs/d.md", "# D\n\nSee [gone](missing.md#x).\n");
    repo.ok(&["add", "docs/d.md"]);
    let err = assert_refused(&repo.commit("d"));
    assert!(err.contains("missing.md"), "{err}");
    assert_eq!(repo.commits(), 2);
}

#[test]
fn skips_at_once_without_staged_docs_and_explains_a_missing_docidx() {
    if !git_available() {
        return;
    }
    let repo = Repo::new();
    let missing = repo.root().join("no-such-docidx");
    let missing = missing.to_str().unwrap();

    // Nothing Markdown staged: the hook does not even look for docidx.
    repo.write("src/main.rs", "fn main() {}\n");
    repo.ok(&["add", "src/main.rs"]);
    assert_success(&repo.commit_with("code", &[("DOCIDX", missing)]));
    assert_eq!(repo.commits(), 1);

    // A doc staged and no docidx: refused, with how to install it and how to skip.
    repo.write("guide.md", "# Guide\n\nHello.\n");
    repo.ok(&["add", "guide.md"]);
    let err = assert_refused(&repo.commit_with("guide", &[("DOCIDX", missing)]));
    assert!(err.contains("cargo install"), "{err}");
    assert!(err.contains("not an executable docidx"), "{err}");
    assert_eq!(repo.commits(), 1);

    // The same with a PATH that has no docidx (only when the machine has none installed).
    let plain_path = std::env::var_os("PATH").unwrap_or_default();
    let docidx_on_path = std::env::split_paths(&plain_path).any(|dir| dir.join("docidx").is_file());
    if !docidx_on_path {
        let out = Command::new("git")
            .args(["commit", "-q", "-m", "guide"])
            .current_dir(repo.root())
            .env("PATH", &plain_path)
            .env("HOME", repo.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .env_remove("DOCIDX")
            .env_remove("DOCIDX_SKIP")
            .output()
            .unwrap();
        let err = assert_refused(&out);
        assert!(err.contains("no docidx on PATH"), "{err}");
        assert!(err.contains("cargo install"), "{err}");
    }

    // With docidx found and the index generated, the same commit passes.
    assert!(repo.docidx(&["generate", "-q"]).status.success());
    repo.ok(&["add", "-A"]);
    assert_success(&repo.commit("guide"));
    assert_eq!(repo.commits(), 2);
}
