//! Settings: `docidx.toml` at the root, overridden by command-line flags.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A commented `docidx.toml` with every setting at its default (what `docidx init` writes).
pub const EXAMPLE: &str = include_str!("config.example.toml");

/// The name of the config file docidx reads from the root of the tree.
pub const CONFIG_FILE: &str = "docidx.toml";

/// A BPE encoding whose counts docidx reproduces exactly (OpenAI's `encode_ordinary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Encoding {
    /// GPT-4o and later.
    #[default]
    #[serde(rename = "o200k_base", alias = "o200k")]
    O200kBase,
    /// GPT-4 and GPT-3.5.
    #[serde(rename = "cl100k_base", alias = "cl100k")]
    Cl100kBase,
}

impl Encoding {
    /// The name tiktoken gives this encoding.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "o200k_base" | "o200k" => Ok(Encoding::O200kBase),
            "cl100k_base" | "cl100k" => Ok(Encoding::Cl100kBase),
            _ => Err(format!(
                "unknown encoding {s:?} (expected o200k_base or cl100k_base)"
            )),
        }
    }
}

/// Every setting of a run. `docidx.toml` holds the same keys; flags override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Tokenizer whose counts are reported.
    pub encoding: Encoding,
    /// Worker threads; `None` means one per core.
    pub jobs: Option<usize>,
    /// Keep a cache of the last `generate` in `ROOT/.docidx-cache/`, so an unchanged tree is
    /// recognised by `stat`ing its docs (see [`crate::cache`] and [`crate::known_files`]).
    pub cache: bool,
    /// Where `INDEX.md`, `INDEX.json` and `.doc_hashes.json` go, relative to the root.
    /// Default: `docs/` if it exists, else the root.
    pub out_dir: Option<PathBuf>,
    /// Globs (gitignore syntax, relative to the root): when given, only matching files are docs,
    /// even ones that would be ignored or hidden otherwise.
    pub include: Vec<String>,
    /// Globs (gitignore syntax, relative to the root) of files and folders that are never docs.
    pub exclude: Vec<String>,
    /// Folder names skipped wherever they appear (besides `.git` and hidden folders).
    pub skip_dirs: Vec<String>,
    /// Keep `INDEX.md` under this many tokens by dropping section lists and shortening summaries.
    pub budget: Option<usize>,
    /// Docs with more tokens than this get their main sections listed in `INDEX.md`.
    pub section_threshold: usize,
    /// Summaries are cut at a word boundary to about this many characters.
    pub summary_chars: usize,
    /// Files larger than this (bytes) are skipped with a warning.
    pub max_file_size: u64,
    /// Also write `llms.txt` (llmstxt.org format) beside `INDEX.md`.
    pub llms_txt: bool,
    /// Globs of docs listed under `## Optional` in `llms.txt`.
    pub llms_optional: Vec<String>,
    /// The project name for `llms.txt` (default: the root folder's name).
    pub project_name: Option<String>,
    /// The one-line summary for `llms.txt` (default: the root README's summary).
    pub project_summary: Option<String>,
    /// Settings of `docidx validate`.
    pub validate: ValidateConfig,
    /// Settings of the git pre-commit hook in `.githooks/pre-commit`.
    pub hook: HookConfig,
}

/// What the pre-commit hook does when the index is out of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnStale {
    /// Refuse the commit and say how to regenerate.
    #[default]
    Fail,
    /// Regenerate the index and stage it with the commit.
    Regenerate,
}

/// The `[hook]` table of `docidx.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HookConfig {
    pub on_stale: OnStale,
}

/// How seriously `docidx validate` takes a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Off,
}

/// The `[validate]` table of `docidx.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ValidateConfig {
    /// Severity by rule id, overriding the defaults: `broken-anchor = "warning"`, `file-count = "off"`.
    pub rules: std::collections::BTreeMap<String, Level>,
    /// Globs (relative to the root) of docs that need no entry in `INDEX.md` (`archive/**`).
    pub unindexed_exclude: Vec<String>,
    /// `stale-tokens` reports claims off by more than this fraction of the real count.
    pub stale_tokens_threshold: f64,
    /// `file-count` reports folder sizes off by more than this fraction.
    pub file_count_tolerance: f64,
    /// `index-budget`: `INDEX.md` must stay under this many tokens (default: `budget`).
    pub index_budget: Option<usize>,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        ValidateConfig {
            rules: Default::default(),
            unindexed_exclude: Vec::new(),
            stale_tokens_threshold: 0.2,
            file_count_tolerance: 0.3,
            index_budget: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encoding: Encoding::default(),
            jobs: None,
            cache: true,
            out_dir: None,
            include: Vec::new(),
            exclude: Vec::new(),
            skip_dirs: vec!["node_modules".into(), "target".into()],
            budget: None,
            section_threshold: 1500,
            summary_chars: 160,
            max_file_size: 16 * 1024 * 1024,
            llms_txt: false,
            llms_optional: Vec::new(),
            project_name: None,
            project_summary: None,
            validate: ValidateConfig::default(),
            hook: HookConfig::default(),
        }
    }
}

impl Config {
    /// Reads `ROOT/docidx.toml` if it exists, else returns the defaults.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(CONFIG_FILE);
        let text = crate::walk::read_regular(&path).and_then(|bytes| {
            String::from_utf8(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        });
        match text {
            Ok(text) => Config::parse(&text).map_err(|message| Error::Config { path, message }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Parses the text of a config file.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The output folder for a tree rooted at `root`.
    pub fn output_dir(&self, root: &Path) -> PathBuf {
        match &self.out_dir {
            Some(dir) => root.join(dir),
            None if root.join("docs").is_dir() => root.join("docs"),
            None => root.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let config = Config::parse(
            r#"
            encoding = "cl100k"
            jobs = 2
            out-dir = "site"
            include = ["docs/**"]
            exclude = ["archive/**"]
            skip-dirs = ["vendor"]
            budget = 4000
            section-threshold = 900
            summary-chars = 100
            max-file-size = 1000
            llms-txt = true
            llms-optional = ["archive/**"]
            project-name = "Demo"

            [hook]
            on-stale = "regenerate"

            [validate]
            rules = { broken-anchor = "warning", file-count = "off" }
            unindexed-exclude = ["archive/**"]
            stale-tokens-threshold = 0.1
            index-budget = 3000
            "#,
        )
        .unwrap();
        assert_eq!(config.encoding, Encoding::Cl100kBase);
        assert_eq!(config.jobs, Some(2));
        assert_eq!(config.out_dir.as_deref(), Some(Path::new("site")));
        assert_eq!(config.exclude, ["archive/**"]);
        assert_eq!(config.skip_dirs, ["vendor"]);
        assert_eq!(config.budget, Some(4000));
        assert_eq!(config.section_threshold, 900);
        assert_eq!(config.max_file_size, 1000);
        assert_eq!(config.validate.rules["broken-anchor"], Level::Warning);
        assert_eq!(config.validate.rules["file-count"], Level::Off);
        assert_eq!(config.validate.unindexed_exclude, ["archive/**"]);
        assert_eq!(config.validate.stale_tokens_threshold, 0.1);
        assert_eq!(config.validate.index_budget, Some(3000));
        assert!(config.llms_txt);
        assert_eq!(config.project_name.as_deref(), Some("Demo"));
        assert_eq!(config.hook.on_stale, OnStale::Regenerate);
    }

    #[test]
    fn the_example_file_holds_the_defaults() {
        assert_eq!(Config::parse(EXAMPLE).unwrap(), Config::default());
    }

    #[test]
    fn rejects_unknown_keys_with_their_name() {
        let err = Config::parse("encodng = \"o200k\"").unwrap_err();
        assert!(err.contains("encodng"), "{err}");
    }
}
