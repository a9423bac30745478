//! Command-line flags.

use std::path::Path;

use clap::{Args, Parser, Subcommand};
use docidx::{Config, Encoding};

/// Keep a Markdown documentation tree cheap for AI agents to read.
///
/// docidx walks a docs tree, counts tokens exactly (OpenAI's o200k_base or cl100k_base), and
/// writes INDEX.md (for agents and people), INDEX.json (for programs) and .doc_hashes.json.
#[derive(Debug, Parser)]
#[command(name = "docidx", version, long_version = LONG_VERSION, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `docidx --version`: the version, and how tokens are counted.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (exact tiktoken counts for o200k_base and cl100k_base; vocabularies from bpe-openai 0.3.2)"
);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write INDEX.md, INDEX.json and .doc_hashes.json for a docs tree.
    #[command(after_help = crate::generate::EXAMPLES)]
    Generate(crate::generate::GenerateArgs),
    /// Check links, anchors and the index; report findings the way CI and editors expect.
    #[command(after_help = crate::validate::EXAMPLES)]
    Validate(crate::validate::ValidateArgs),
    /// Rewrite the token claims of a hand-written INDEX.md, "(1,528 tokens)", to exact counts.
    #[command(name = "update-tokens", after_help = crate::update_tokens::EXAMPLES)]
    UpdateTokens(crate::update_tokens::UpdateTokensArgs),
    /// Write a commented docidx.toml and add the docidx markers to INDEX.md.
    #[command(after_help = "Examples:\n  docidx init\n  docidx init path/to/repo")]
    Init(crate::extras::InitArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  docidx completions bash > ~/.local/share/bash-completion/completions/docidx\n  docidx completions zsh > ~/.zfunc/_docidx\n  docidx completions fish > ~/.config/fish/completions/docidx.fish\n  docidx completions powershell >> $PROFILE"
    )]
    Completions(crate::extras::CompletionsArgs),
    /// Print the man page, or write every page into a folder.
    #[command(
        after_help = "Examples:\n  docidx man | man -l -\n  docidx man --out-dir /usr/local/share/man/man1"
    )]
    Man(crate::extras::ManArgs),
}

/// Flags that decide what the index holds (shared by the subcommands that build one).
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Tokenizer to count with [default: o200k_base, or `encoding` in docidx.toml]
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<Encoding>,
    /// Worker threads [default: one per core]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Neither read nor write the cache in ROOT/.docidx-cache/
    #[arg(long)]
    pub no_cache: bool,
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

/// Loads `ROOT/docidx.toml` and applies the flags over it.
pub fn load_config(root: &Path, args: &IndexArgs) -> docidx::Result<Config> {
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
    if args.no_cache {
        config.cache = false;
    }
    config.include.extend(args.include.iter().cloned());
    config.exclude.extend(args.exclude.iter().cloned());
    if let Some(n) = args.max_file_size {
        config.max_file_size = n;
    }
    Ok(config)
}

/// "wrote INDEX.md, INDEX.json" or "nothing to write", for the summary line.
pub fn describe_written(written: &[std::path::PathBuf]) -> String {
    if written.is_empty() {
        return "nothing to write".to_string();
    }
    let names: Vec<String> = written
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    format!("wrote {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_long_version_names_the_locked_vocabulary_crate() {
        assert!(
            super::LONG_VERSION.contains(docidx::tokens::TOKENIZER),
            "{} does not name {}",
            super::LONG_VERSION,
            docidx::tokens::TOKENIZER
        );
    }
}
