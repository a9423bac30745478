//! `INDEX.json`: the whole analysis, for programs and agents, and the cache for the next run.

use serde::{Deserialize, Serialize};

use crate::analyse::{Doc, Settings};
use crate::config::Encoding;
use crate::index::Index;
use crate::navigation::NavTable;

/// The file name of the JSON index.
pub const INDEX_JSON: &str = "INDEX.json";
/// Bumped when the shape of `INDEX.json` changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// The contents of `INDEX.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexJson {
    pub schema_version: u32,
    pub generator: Generator,
    pub encoding: Encoding,
    /// Settings the analyses depend on; a later run reuses them only if these match.
    pub analysis: Analysis,
    pub statistics: Statistics,
    /// Tables of the hand-written `INDEX.md` under "By Persona" / "By Task" headings.
    pub navigation: Vec<NavTable>,
    pub documents: Vec<Doc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    pub summary_chars: usize,
}

/// Totals of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    pub documents: usize,
    pub bytes: u64,
    /// Tokens of all documents together.
    pub tokens: usize,
    pub words: usize,
    /// Tokens of `INDEX.md` as written.
    pub index_tokens: usize,
    /// SHA-256 of `INDEX.md` as written: a later run that writes the same bytes reuses
    /// `index_tokens` instead of counting again.
    #[serde(default)]
    pub index_sha256: String,
    /// `100 × (1 − index_tokens / tokens)`, one decimal.
    pub saved_percent: f64,
}

impl Statistics {
    /// The totals of `index`, whose `INDEX.md` is `index_md` with `index_tokens` tokens.
    pub fn of(index: &Index, index_md: &str, index_tokens: usize) -> Statistics {
        let tokens = index.total_tokens();
        Statistics {
            documents: index.docs.len(),
            bytes: index.docs.iter().map(|d| d.bytes).sum(),
            tokens,
            words: index.docs.iter().map(|d| d.words).sum(),
            index_tokens,
            index_sha256: crate::analyse::sha256_hex(index_md.as_bytes()),
            saved_percent: super::saved_percent(index_tokens, tokens),
        }
    }
}

/// Renders `INDEX.json` (pretty-printed, final newline; the same index gives the same bytes).
pub fn render(
    index: &Index,
    settings: &Settings,
    statistics: Statistics,
    navigation: Vec<NavTable>,
) -> String {
    let mut out = Vec::with_capacity(index.docs.len() * 1024);
    write(&mut out, index, settings, statistics, navigation).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes `INDEX.json` as [`render`] renders it into any writer (a file, a hasher).
pub fn write(
    out: &mut dyn std::io::Write,
    index: &Index,
    settings: &Settings,
    statistics: Statistics,
    navigation: Vec<NavTable>,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct View<'a> {
        schema_version: u32,
        generator: Generator,
        encoding: Encoding,
        analysis: Analysis,
        statistics: Statistics,
        navigation: Vec<NavTable>,
        documents: &'a [Doc],
    }
    let view = View {
        schema_version: SCHEMA_VERSION,
        generator: Generator {
            name: crate::GENERATOR.into(),
            version: crate::VERSION.into(),
        },
        encoding: index.encoding,
        analysis: Analysis {
            summary_chars: settings.summary_chars,
        },
        statistics,
        navigation,
        documents: &index.docs,
    };
    serde_json::to_writer_pretty(&mut *out, &view)?;
    out.write_all(b"\n")
}

/// Parses an `INDEX.json`; `None` if it is not one this version understands.
pub fn parse(bytes: &[u8]) -> Option<IndexJson> {
    serde_json::from_slice(bytes)
        .ok()
        .filter(|j: &IndexJson| j.schema_version == SCHEMA_VERSION)
}

/// The documents of a previous `INDEX.json` whose analysis can be reused: written by this
/// docidx version with the same encoding and settings (otherwise none).
pub fn reusable_docs(previous: IndexJson, settings: &Settings) -> Vec<Doc> {
    let same = previous.generator.name == crate::GENERATOR
        && previous.generator.version == crate::VERSION
        && previous.encoding == settings.encoding
        && previous.analysis.summary_chars == settings.summary_chars;
    if same {
        previous.documents
    } else {
        Vec::new()
    }
}
