//! `docidx validate`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use docidx::validate::{self, report, Severity};

use crate::cli::{load_config, IndexArgs};

pub const EXAMPLES: &str = "\
Rules (ids for [validate.rules] in docidx.toml, where each can be set to error, warning or off):
  broken-link (error)        relative link or image to a file or folder that does not exist
  broken-anchor (error)      #fragment with no such heading or anchor (GitHub's slug rules)
  link-outside-root (warn)   relative link that resolves outside ROOT
  unindexed-doc (warn)       doc that INDEX.md does not link to
  missing-doc (error)        INDEX.md entry pointing to a doc that does not exist
  stale-tokens (warn)        '(1,528 tokens)' claim in INDEX.md off by more than 20%
  stale-index (error)        INDEX.json, INDEX.md's generated part or .doc_hashes.json out of date
  file-count (warn)          '| folder/ | ~30 |' row whose count is off by more than 30%
  index-budget (error)       INDEX.md over its token budget (only when a budget is set)

Exit codes: 0 no errors (warnings allowed), 1 errors found (or warnings with --deny warnings),
2 could not run (bad flags, unreadable root or files). validate never writes a file.

Examples:
  docidx validate                          check the current folder
  docidx validate docs-site --format json  machine-readable findings
  docidx validate --format github          annotations in GitHub Actions
  docidx validate --format sarif > docidx.sarif
  docidx validate --exact --deny warnings  strict: any stale token claim fails";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The docs tree to check [default: the current folder]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub index: IndexArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// stale-tokens reports any claim that is not exact (threshold 0)
    #[arg(long)]
    pub exact: bool,
    /// The INDEX.md to check [default: INDEX.md in the output folder: out-dir, else docs/ if it exists, else ROOT]
    #[arg(long, value_name = "PATH")]
    pub index_file: Option<PathBuf>,
    /// Exit 1 on warnings too
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
    /// Colour in human output [default: auto, off when NO_COLOR is set or not a terminal]
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
}

pub fn run(args: ValidateArgs) -> docidx::Result<ExitCode> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = load_config(&root, &args.index)?;
    let index = args.index_file.as_ref().map(|p| {
        if p.is_absolute() || p.exists() {
            p.clone()
        } else {
            root.join(p)
        }
    });
    let options = validate::Options {
        exact: args.exact,
        index,
    };
    let progress = crate::progress::ProgressLine::start(false);
    let report = validate::validate(&root, &config, &options)?;
    drop(progress);

    let mut stderr = std::io::stderr().lock();
    for w in &report.warnings {
        let _ = writeln!(stderr, "{} {w}", crate::progress::warning_label());
    }
    let shown = |rel: &str| display_path(&root, rel);
    let text = match args.format {
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
                }
            };
            let style = if color {
                report::Style::ANSI
            } else {
                report::Style::PLAIN
            };
            let sources = SourceLines::new(&root);
            report::human(&report, style, &|p, l| sources.line(p, l), &shown)
        }
        Format::Json => report::json(&report),
        Format::Github => {
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                let summary = report::step_summary(&report);
                let appended = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(summary.as_bytes()));
                if let Err(e) = appended {
                    let _ = writeln!(
                        stderr,
                        "{} {}: {e}",
                        crate::progress::warning_label(),
                        Path::new(&path).display()
                    );
                }
            }
            report::github(&report, &shown)
        }
        Format::Sarif => report::sarif(&report, &shown),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(docidx::Error::io("<stdout>", e));
        }
    }

    if report.incomplete {
        let _ = writeln!(
            stderr,
            "{} some files could not be read (see the warnings above)",
            crate::progress::error_label()
        );
        return Ok(ExitCode::from(2));
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let failed = errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0);
    Ok(ExitCode::from(u8::from(failed)))
}

/// A root-relative path as the user should see it: under ROOT as they gave it.
fn display_path(root: &Path, rel: &str) -> String {
    if root == Path::new(".") || root.as_os_str().is_empty() {
        rel.to_string()
    } else {
        let root = root.to_string_lossy();
        format!("{}/{rel}", root.trim_end_matches('/'))
    }
}

/// The source lines of human output, read front to back through one open file at a time:
/// findings come sorted by path and line, so each file is read once, and never held whole (an
/// `INDEX.json` of 28 MB has a million lines; one of them is shown).
struct SourceLines<'a> {
    root: &'a Path,
    /// The file being read: its path, the number of the line it reads next, and the reader.
    open: std::cell::RefCell<Option<(String, usize, std::io::BufReader<std::fs::File>)>>,
    /// The last line returned, for several findings on one line: (path, number, text).
    last: std::cell::RefCell<Option<(String, usize, String)>>,
}

impl<'a> SourceLines<'a> {
    fn new(root: &'a Path) -> Self {
        SourceLines {
            root,
            open: Default::default(),
            last: Default::default(),
        }
    }

    /// Line `line` (from 1) of the file at `path`, with its line break.
    fn line(&self, path: &str, line: usize) -> Option<String> {
        use std::io::BufRead;
        if line == 0 {
            return None;
        }
        if let Some((p, n, text)) = &*self.last.borrow() {
            if p == path && *n == line {
                return Some(text.clone());
            }
        }
        let mut open = self.open.borrow_mut();
        // Reopened for another file, or for a line before the one it reads next.
        if !matches!(&*open, Some((p, next, _)) if p == path && *next <= line) {
            let file = docidx::walk::open_regular(&self.root.join(docidx::resolve::fs_path(path)));
            *open = file
                .ok()
                .map(|f| (path.to_string(), 1, std::io::BufReader::new(f)));
        }
        let (_, next, reader) = open.as_mut()?;
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            if reader.read_until(b'\n', &mut bytes).ok()? == 0 {
                return None;
            }
            *next += 1;
            if *next - 1 == line {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                *self.last.borrow_mut() = Some((path.to_string(), line, text.clone()));
                return Some(text);
            }
        }
    }
}
