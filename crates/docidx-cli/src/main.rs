//! The `docidx` command: a thin layer over the `docidx` library that parses flags, calls the
//! library and prints. Exit codes: 0 done, 1 `--check` found changes, 2 error.

mod cli;
mod extras;
mod generate;
mod progress;
mod update_tokens;
mod validate;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "{} {err}",
                crate::progress::error_label()
            );
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> docidx::Result<ExitCode> {
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::UpdateTokens(args) => update_tokens::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Init(args) => extras::init(args),
        Command::Completions(args) => extras::completions(args),
        Command::Man(args) => extras::man(args),
    }
}
