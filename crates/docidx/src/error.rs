//! Errors (the run cannot go on) and warnings (the run goes on, the user should know).

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can stop a docidx run. Each variant names the file involved.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing `path` failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `docidx.toml` (or another config file) could not be parsed.
    Config { path: PathBuf, message: String },
    /// An existing `INDEX.md` has no usable marker pair; docidx will not overwrite it.
    Markers { path: PathBuf, message: String },
    /// A file changed on disk while docidx was working on it.
    Changed { path: PathBuf },
    /// A glob from the command line or config file is invalid.
    Glob { glob: String, message: String },
    /// Anything else, with the file it concerns.
    Other { path: PathBuf, message: String },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The file this error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::Config { path, .. }
            | Error::Markers { path, .. }
            | Error::Changed { path }
            | Error::Other { path, .. } => Some(path),
            Error::Glob { .. } => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Config { path, message } => write!(f, "{}: {}", path.display(), message),
            Error::Markers { path, message } => write!(f, "{}: {}", path.display(), message),
            Error::Changed { path } => write!(
                f,
                "{}: changed on disk while docidx was working; not overwritten (run again)",
                path.display()
            ),
            Error::Glob { glob, message } => write!(f, "invalid glob {glob:?}: {message}"),
            Error::Other { path, message } => write!(f, "{}: {}", path.display(), message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something the user should know about that did not stop the run: a skipped file, malformed
/// front matter, invalid UTF-8. `path` is relative to the root where possible.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub path: String,
    /// 1-based line, when the warning is about one place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl Warning {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }

    pub fn at_line(path: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Warning {
            path: path.into(),
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}
