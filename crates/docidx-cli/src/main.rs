//! The `docidx` command: a thin layer over the `docidx` library that parses flags, calls the
//! library and prints. Exit codes: 0 done, 1 `--check` found changes, 2 error.

mod cli;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use docidx::generate::{self, Plan};
use docidx::render::thousands;
use docidx::{output, Config};

use cli::{Cli, Command, GenerateArgs, IndexArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "error: {err}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> docidx::Result<ExitCode> {
    match cli.command {
        Command::Generate(args) => generate(args),
    }
}

/// Loads `ROOT/docidx.toml` and applies the flags over it.
fn load_config(root: &Path, args: &IndexArgs) -> docidx::Result<Config> {
    if !root.is_dir() {
        return Err(docidx::Error::Other {
            path: root.to_path_buf(),
            message: "is not a folder (the ROOT argument must be the tree to index)".into(),
        });
    }
    let mut config = Config::load(root)?;
    if let Some(e) = args.encoding {
        config.encoding = e;
    }
    if let Some(j) = args.jobs {
        config.jobs = Some(j);
    }
    if !args.include.is_empty() {
        config.include = args.include.clone();
    }
    if !args.exclude.is_empty() {
        config.exclude.extend(args.exclude.iter().cloned());
    }
    if let Some(n) = args.max_file_size {
        config.max_file_size = n;
    }
    Ok(config)
}

fn generate(args: GenerateArgs) -> docidx::Result<ExitCode> {
    let start = Instant::now();
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut config = load_config(&root, &args.index)?;
    if let Some(dir) = &args.out_dir {
        config.out_dir = Some(dir.clone());
    }
    if let Some(b) = args.budget {
        config.budget = Some(b);
    }
    let out_dir = config.output_dir(&root);
    if !args.check && !out_dir.exists() {
        std::fs::create_dir_all(&out_dir).map_err(|e| docidx::Error::io(&out_dir, e))?;
    }
    let plan = generate::plan(&root, &config, &generate::Options { force: args.force })?;
    let mut stderr = std::io::stderr().lock();
    for w in &plan.warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
    for note in &plan.budget_notes {
        let _ = writeln!(stderr, "note: {note}");
    }

    let changed: Vec<&output::Output> = plan.outputs.iter().filter(|o| o.is_change()).collect();
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

    let written = output::write_all(&plan.outputs)?;
    if !args.quiet {
        let what = if written.is_empty() {
            "nothing to write".to_string()
        } else {
            let names: Vec<String> = written
                .iter()
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            format!("wrote {}", names.join(", "))
        };
        let _ = writeln!(stderr, "{}", summary(&plan, start, &what));
    }
    if plan.incomplete {
        let _ = writeln!(stderr, "error: some files could not be read (see the warnings above); the index leaves them out");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The one summary line: docs, tokens, index cost, changes, what happened, time.
fn summary(plan: &Plan, start: Instant, what: &str) -> String {
    let s = &plan.statistics;
    let c = &plan.changes;
    format!(
        "docidx: {} docs, {} tokens ({}); INDEX.md {} tokens ({}% saved); {} added, {} removed, {} changed; {} in {:.2}s",
        thousands(s.documents),
        thousands(s.tokens),
        plan.index.encoding,
        thousands(s.index_tokens),
        s.saved_percent,
        c.added.len(),
        c.removed.len(),
        c.changed.len(),
        what,
        start.elapsed().as_secs_f64()
    )
}
