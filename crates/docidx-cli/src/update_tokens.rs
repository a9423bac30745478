//! `docidx update-tokens`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use docidx::output;
use docidx::update_tokens::{self, Options, Plan};

use crate::cli::{load_config, IndexArgs};

pub const EXAMPLES: &str = "\
A claim is a token count in parentheses right after a Markdown link, in a heading, a list item, a
paragraph or a table cell:

  #### [OPERATIONS.md](../OPERATIONS.md) (1,528 tokens)
  | **AI Agent** | [CLAUDE.md](../CLAUDE.md) (~1,200 tokens) |

Each link is resolved from INDEX.md's folder and the linked file is counted exactly, whatever its
type. Only the number changes: its separators and `~` stay as written, and so does every other
byte of the file. Claims with a broken link are reported and left alone. .doc_hashes.json is
refreshed, and INDEX.json too if it exists.

Exit codes: 0 done; 1 --check found claims or files that would change, or --fail-on-change
wrote something; 2 error.

Examples:
  docidx update-tokens                       update docs/INDEX.md (or ./INDEX.md)
  docidx update-tokens --check               in CI: fail if a claim is stale
  docidx update-tokens --fail-on-change      in a pre-commit hook: update, then stop to review
  docidx update-tokens --threshold 0.2       only fix claims more than 20% off
  docidx update-tokens path/to/repo --index handbook/INDEX.md --encoding cl100k_base";

#[derive(Debug, Args)]
pub struct UpdateTokensArgs {
    /// The docs tree [default: the current folder]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub index_args: IndexArgs,
    /// The INDEX.md to update, relative to ROOT [default: INDEX.md in the output folder, as
    /// for generate: out-dir of docidx.toml, else docs/ if it exists, else ROOT]
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Update only claims off by more than this fraction of the exact count (0.2 or 20%)
    #[arg(long, value_name = "F", default_value = "0", value_parser = fraction)]
    pub threshold: f64,
    /// Write nothing; print what would change and exit 1 if anything would
    #[arg(long)]
    pub check: bool,
    /// Exit 1 after writing a change, so a pre-commit hook stops for a review
    #[arg(long)]
    pub fail_on_change: bool,
    /// Print only warnings and errors
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses `0.2` or `20%` into a fraction.
fn fraction(s: &str) -> Result<f64, String> {
    let (number, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (s, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f / scale),
        _ => Err(format!(
            "{s:?} is not a fraction ≥ 0 (write 0.2 or 20% for 20%)"
        )),
    }
}

/// More changed docs than this are summed up in one line.
const LIST_CHANGES_UP_TO: usize = 10;

pub fn run(args: UpdateTokensArgs) -> docidx::Result<ExitCode> {
    let start = Instant::now();
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = load_config(&root, &args.index_args)?;
    let options = Options {
        index: args.index.clone(),
        threshold: args.threshold,
        check: args.check,
    };
    let plan = update_tokens::plan(&root, &config, &options)?;
    let mut stderr = std::io::stderr().lock();
    for w in &plan.warnings {
        let _ = writeln!(stderr, "{} {w}", crate::progress::warning_label());
    }
    if !args.quiet {
        report_changes(&mut stderr, &plan);
        for u in &plan.updated {
            let _ = writeln!(
                stderr,
                "{}:{}: {}: {} → {}",
                plan.index_md_rel, u.line, u.path, u.old_text, u.new_text
            );
        }
    }
    for b in &plan.broken {
        let _ = writeln!(
            stderr,
            "{} {}:{}: claim for {} left alone: {}",
            crate::progress::warning_label(),
            plan.index_md_rel,
            b.line,
            b.target,
            b.reason
        );
    }

    let changed: Vec<&output::Output> = plan.outputs.iter().filter(|o| o.is_change()).collect();
    let code = if args.check {
        if !args.quiet {
            for out in &changed {
                let _ = writeln!(stderr, "would change: {}", out.path.display());
            }
            let what = if changed.is_empty() {
                "up to date"
            } else {
                "out of date"
            };
            let _ = writeln!(stderr, "{}", summary(&plan, start, true, what));
        }
        u8::from(!changed.is_empty())
    } else {
        // The cache's stamp describes the outputs before this change; the next generate
        // writes a new one.
        if !changed.is_empty() {
            docidx::cache::invalidate(&root);
        }
        let written = output::write_all(&plan.outputs)?;
        if !args.quiet {
            let what = crate::cli::describe_written(&written);
            let _ = writeln!(stderr, "{}", summary(&plan, start, false, &what));
        }
        u8::from(args.fail_on_change && !written.is_empty())
    };
    if plan.incomplete {
        let _ = writeln!(
            stderr,
            "{} some files could not be read (see the warnings above); the manifest leaves them out", crate::progress::error_label()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::from(code))
}

/// Docs added, removed and changed since the last manifest: a line each, or one line for many.
fn report_changes(out: &mut impl Write, plan: &Plan) {
    let c = &plan.changes;
    let total = c.added.len() + c.removed.len() + c.changed.len();
    if total > LIST_CHANGES_UP_TO {
        let _ = writeln!(
            out,
            "since the last manifest: {} docs added, {} removed, {} changed",
            c.added.len(),
            c.removed.len(),
            c.changed.len()
        );
        return;
    }
    for (what, paths) in [
        ("added", &c.added),
        ("removed", &c.removed),
        ("changed", &c.changed),
    ] {
        for path in paths {
            let _ = writeln!(out, "{what}: {path}");
        }
    }
}

/// The one summary line: claims, what happened to them, doc changes, files written, time.
fn summary(plan: &Plan, start: Instant, check: bool, what: &str) -> String {
    let c = &plan.changes;
    let mut counts = vec![format!(
        "{} {}",
        plan.updated.len(),
        if check { "stale" } else { "updated" }
    )];
    counts.push(format!("{} exact", plan.exact));
    if plan.within_threshold > 0 {
        counts.push(format!("{} within the threshold", plan.within_threshold));
    }
    if !plan.broken.is_empty() {
        counts.push(format!("{} broken", plan.broken.len()));
    }
    format!(
        "docidx: {} {} in {} ({}); {} files tokenized; docs: {} added, {} removed, {} changed; {} in {:.2}s",
        plan.claims,
        if plan.claims == 1 { "claim" } else { "claims" },
        plan.index_md_rel,
        counts.join(", "),
        plan.tokenized,
        c.added.len(),
        c.removed.len(),
        c.changed.len(),
        what,
        start.elapsed().as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::fraction;

    #[test]
    fn fractions_and_percentages() {
        assert_eq!(fraction("0.2"), Ok(0.2));
        assert_eq!(fraction("20%"), Ok(0.2));
        assert_eq!(fraction("0"), Ok(0.0));
        assert!(fraction("-1").is_err());
        assert!(fraction("NaN").is_err());
        assert!(fraction("lots").is_err());
    }
}
