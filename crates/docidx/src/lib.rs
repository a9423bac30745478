//! docidx keeps a Markdown documentation tree cheap for AI agents to read.
//!
//! The library follows the data:
//!
//! ```text
//! config ─▶ walk ─▶ analyse (parallel: read, sha256, markdown, tokens) ─▶ Doc
//!                                                                          │
//!              render: INDEX.md / INDEX.json / .doc_hashes.json ◀─ Index ◀─┘
//! ```
//!
//! [`generate::plan`] runs the whole pipeline and returns the files it would write;
//! [`output::write_all`] writes them atomically. Other programs can call the pieces directly:
//! [`analyse::analyse`] is a pure function of a file's bytes.

pub mod analyse;
pub mod cache;
pub mod claims;
pub mod config;
pub mod error;
pub mod generate;
pub mod index;
pub mod known_files;
pub mod manifest;
pub mod markers;
pub mod navigation;
pub mod output;
pub mod render;
pub mod resolve;
pub mod splice;
pub mod tokens;
pub mod update_tokens;
pub mod validate;
pub mod walk;

pub use analyse::{Doc, Link, LinkKind, Section};
pub use config::{Config, Encoding};
pub use error::{Error, Result, Warning};
pub use index::Index;

/// The name and version written into every generated file.
pub const GENERATOR: &str = "docidx";
/// This crate's version, part of the cache key for reusing a previous analysis.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Drops `value` on a thread of its own: freeing tens of thousands of analyses takes longer
/// than what a run does after its last use of them, and a process that exits does not wait for
/// the thread. Dropped here if no thread can be started.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    // On failure the closure, and the value with it, is dropped here.
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}
