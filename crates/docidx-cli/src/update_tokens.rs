//! `docidx update-tokens` (being written).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

pub const EXAMPLES: &str = "";

#[derive(Debug, Args)]
pub struct UpdateTokensArgs {
    /// The docs tree [default: the current folder]
    pub root: Option<PathBuf>,
}

pub fn run(_args: UpdateTokensArgs) -> docidx::Result<ExitCode> {
    Ok(ExitCode::from(2))
}
