//! `docidx generate`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use docidx::generate::{self, Plan};
use docidx::output;
use docidx::render::thousands;

use crate::cli::{load_config, IndexArgs};

pub const EXAMPLES: &str = "\
Output goes to ROOT/docs/ if that folder exists, else to ROOT. Generated text in INDEX.md sits
between <!-- docidx:begin --> and <!-- docidx:end -->; everything outside is kept byte for byte.

Exit codes: 0 done, 1 --check found outputs that would change, 2 error.

Examples:
  docidx generate                      index the current folder
  docidx generate path/to/repo --encoding cl100k_base
  docidx generate --check              in CI: fail if the committed index is stale
  docidx generate --budget 4000        keep INDEX.md under 4,000 tokens
  docidx generate --exclude 'archive/**' --jobs 2";

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The docs tree to index [default: the current folder]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub index: IndexArgs,
    /// Where to write the outputs, relative to ROOT [default: docs/ if it exists, else ROOT]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write nothing; exit 1 if any output would change
    #[arg(long)]
    pub check: bool,
    /// No summary line
    #[arg(long, short)]
    pub quiet: bool,
    /// Append a generated region to an existing INDEX.md that has no markers
    #[arg(long)]
    pub force: bool,
    /// Also write llms.txt (llmstxt.org format) beside INDEX.md
    #[arg(long)]
    pub llms_txt: bool,
    /// Keep INDEX.md under this many tokens (drops section lists, then shortens summaries)
    #[arg(long, value_name = "TOKENS")]
    pub budget: Option<usize>,
}

pub fn run(args: GenerateArgs) -> docidx::Result<ExitCode> {
    let start = Instant::now();
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut config = load_config(&root, &args.index)?;
    if let Some(dir) = &args.out_dir {
        config.out_dir = Some(dir.clone());
    }
    if let Some(b) = args.budget {
        config.budget = Some(b);
    }
    config.llms_txt |= args.llms_txt;
    // Refuses an output folder outside ROOT before creating anything.
    let out_dir = generate::Layout::new(&root, &config)?.out_dir;
    if !args.check && !out_dir.exists() {
        std::fs::create_dir_all(&out_dir).map_err(|e| docidx::Error::io(&out_dir, e))?;
    }
    let progress = crate::progress::ProgressLine::start(args.quiet);
    let mut plan = generate::plan(
        &root,
        &config,
        &generate::Options {
            force: args.force,
            check: args.check,
        },
    )?;
    drop(progress);
    let mut stderr = std::io::stderr().lock();
    for w in &plan.warnings {
        let _ = writeln!(stderr, "{} {w}", crate::progress::warning_label());
    }
    for note in &plan.budget_notes {
        let _ = writeln!(stderr, "note: {note}");
    }

    let changed: Vec<&output::Output> = plan.outputs.iter().filter(|o| o.is_change()).collect();
    if args.check && plan.incomplete {
        let _ = writeln!(
            stderr,
            "{} some files could not be read (see the warnings above); the check is incomplete",
            crate::progress::error_label()
        );
        return Ok(ExitCode::from(2));
    }
    if args.check {
        for out in &changed {
            let _ = writeln!(stderr, "would change: {}", out.path.display());
        }
        if !args.quiet {
            let _ = writeln!(
                stderr,
                "{}",
                summary(
                    &plan,
                    config.encoding,
                    start,
                    if changed.is_empty() {
                        "up to date"
                    } else {
                        "out of date"
                    }
                )
            );
        }
        return Ok(ExitCode::from(if changed.is_empty() { 0 } else { 1 }));
    }

    // The stamp describes the outputs as they were; it goes before they change and comes back
    // once they are all written.
    if !changed.is_empty() {
        docidx::cache::invalidate(&root);
    }
    // The cache's files are written while the outputs are, on threads of their own.
    let (written, stamp) = std::thread::scope(|scope| {
        use docidx::known_files::{store, Kind};
        let stored = scope.spawn(|| {
            let stamp = plan.cache.as_ref().and_then(|record| {
                docidx::cache::store(&root, &config, record, plan.index.as_ref())
            });
            if let Some(lines) = &plan.known_outputs {
                store(&root, &config, Kind::Outputs, lines);
            }
            stamp
        });
        let known = scope.spawn(|| {
            if let Some(lines) = plan.known_files_lines() {
                store(&root, &config, Kind::Docs, &lines);
            }
        });
        let written = output::write_all(&plan.outputs);
        fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }
        joined(known);
        (written, joined(stored))
    });
    let written = written?;
    if let Some(stamp) = stamp {
        stamp.write();
    }
    // Freeing tens of thousands of analyses takes longer than the rest of the run.
    docidx::drop_in_background((
        plan.index.take(),
        plan.cache.take(),
        plan.known_files.take(),
    ));
    if !args.quiet {
        let what = crate::cli::describe_written(&written);
        let _ = writeln!(stderr, "{}", summary(&plan, config.encoding, start, &what));
    }
    if plan.incomplete {
        let _ = writeln!(
            stderr,
            "{} some files could not be read (see the warnings above); the index leaves them out",
            crate::progress::error_label()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The one summary line: docs, tokens, index cost, changes, what happened, time.
fn summary(plan: &Plan, encoding: docidx::Encoding, start: Instant, what: &str) -> String {
    let s = &plan.statistics;
    let c = &plan.changes;
    format!(
        "docidx: {} docs, {} tokens ({}); INDEX.md {} tokens ({}); {} added, {} removed, {} changed; {} in {:.2}s",
        thousands(s.documents),
        thousands(s.tokens),
        encoding,
        thousands(s.index_tokens),
        if s.saved_percent >= 0.0 {
            format!("{}% saved", s.saved_percent)
        } else {
            "costs more than the docs".to_string()
        },
        c.added.len(),
        c.removed.len(),
        c.changed.len(),
        what,
        start.elapsed().as_secs_f64()
    )
}
