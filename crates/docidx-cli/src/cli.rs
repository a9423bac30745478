//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use docidx::Encoding;

/// Keep a Markdown documentation tree cheap for AI agents to read.
///
/// docidx walks a docs tree, counts tokens exactly (OpenAI's o200k_base or cl100k_base), and
/// writes INDEX.md (for agents and people), INDEX.json (for programs) and .doc_hashes.json.
#[derive(Debug, Parser)]
#[command(name = "docidx", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write INDEX.md, INDEX.json and .doc_hashes.json for a docs tree.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
}

const GENERATE_EXAMPLES: &str = "\
Output goes to ROOT/docs/ if that folder exists, else to ROOT. Generated text in INDEX.md sits
between <!-- docidx:begin --> and <!-- docidx:end -->; everything outside is kept byte for byte.

Exit codes: 0 done, 1 --check found outputs that would change, 2 error.

Examples:
  docidx generate                      index the current folder
  docidx generate path/to/repo --encoding cl100k_base
  docidx generate --check              in CI: fail if the committed index is stale
  docidx generate --budget 4000        keep INDEX.md under 4,000 tokens
  docidx generate --exclude 'archive/**' --jobs 2";

/// Flags that decide what the index holds (shared by the subcommands that build one).
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Tokenizer to count with [default: o200k_base, or `encoding` in docidx.toml]
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<Encoding>,
    /// Worker threads [default: one per core]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Only files matching this glob are docs (gitignore syntax, relative to ROOT; repeatable)
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Files and folders matching this glob are never docs (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than this many bytes [default: 16 MiB]
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
}

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
    /// Keep INDEX.md under this many tokens (drops section lists, then shortens summaries)
    #[arg(long, value_name = "TOKENS")]
    pub budget: Option<usize>,
}
