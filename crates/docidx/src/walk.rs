//! Discovering the documents of a tree, in parallel, the way ripgrep walks: `.gitignore`,
//! `.ignore` and `.git/info/exclude` are honoured; `.git`, hidden folders and the folders of
//! `skip-dirs` (`node_modules`, `target`) are skipped unless an `include` glob names them; and
//! symlinks are followed only while they stay inside the root. Hidden *files* are docs like
//! any other (`..md` is tldr's page for the `.` command).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use crate::config::Config;
use crate::error::{Error, Result, Warning};
use crate::known_files::FileKey;

/// A document found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocFile {
    /// Relative to the root, `/`-separated.
    pub rel: String,
    /// The path to read it from.
    pub path: PathBuf,
}

/// What reading a doc gave: what was made of its bytes, or its size when it is over the limit.
#[derive(Debug)]
pub enum Content<T> {
    Bytes(T),
    TooLarge(u64),
}

/// Reads a doc found by the walk and gives its bytes to `use_bytes`. A doc over `max` bytes is
/// never read whole: a file that fills the first read (256 KiB) has its size checked, from the
/// open file, before more is read, and [`Content::TooLarge`] gives that size.
///
/// The bytes go into a buffer each thread keeps, so reading tens of thousands of small files
/// costs no allocation and no `stat` each: an open, two reads (the second finds the end) and
/// a close. The doc is opened in its folder as `folders` keeps it open ([`Folders`]).
pub fn read_doc_with<T>(
    folders: &mut Folders,
    path: &Path,
    max: u64,
    use_bytes: impl FnOnce(&[u8]) -> T,
) -> std::io::Result<Content<T>> {
    read_open_doc(folders.open_to_read(path)?, max, use_bytes)
}

/// [`read_doc_with`], and the doc's [`FileKey`] as `fstat` gives it once the doc is open and
/// before it is read (for [`crate::known_files`]; no path is looked up again).
pub fn read_doc_keyed<T>(
    folders: &mut Folders,
    path: &Path,
    max: u64,
    use_bytes: impl FnOnce(&[u8]) -> T,
) -> std::io::Result<(Content<T>, Option<FileKey>)> {
    let file = folders.open_to_read(path)?;
    let key = file.metadata().ok().and_then(|meta| FileKey::of(&meta));
    Ok((read_open_doc(file, max, use_bytes)?, key))
}

/// Docs looked up by their name in their folder, the folder of the last one kept open.
///
/// A `stat` or an `open` by a doc's full path looks up every folder on the way again (about
/// an eighth of a warm run's CPU on tldr). Docs come in path order, so the folder opened for
/// one serves the next ones too. Elsewhere than on Linux, or where the folder cannot be
/// opened, a doc is looked up by its full path.
#[derive(Debug, Default)]
pub struct Folders {
    #[cfg(target_os = "linux")]
    last: Option<(Vec<u8>, std::os::fd::OwnedFd)>,
}

impl Folders {
    /// The key of the regular file at `path` (through symlinks), as [`FileKey::of_path`] gives it.
    pub fn key(&mut self, path: &Path) -> Option<FileKey> {
        #[cfg(target_os = "linux")]
        if let Some((folder, name)) = self.folder(path) {
            use rustix::fs::{statx, AtFlags, FileType, StatxFlags};
            match statx(folder, name, AtFlags::empty(), StatxFlags::BASIC_STATS) {
                Ok(stat) => {
                    let kind = FileType::from_raw_mode(stat.stx_mode.into());
                    return (kind == FileType::RegularFile).then(|| FileKey::of_statx(&stat));
                }
                // A kernel without `statx` (before 4.11): by the path, as the standard
                // library falls back.
                Err(rustix::io::Errno::NOSYS) => {}
                Err(_) => return None,
            }
        }
        FileKey::of_path(path)
    }

    /// Opens the doc at `path` to read it ([`open_to_read`]).
    fn open_to_read(&mut self, path: &Path) -> std::io::Result<std::fs::File> {
        #[cfg(target_os = "linux")]
        if let Some((folder, name)) = self.folder(path) {
            return open_to_read_with(|no_atime| {
                use rustix::fs::{Mode, OFlags};
                let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
                if no_atime {
                    flags |= OFlags::NOATIME;
                }
                Ok(rustix::fs::openat(folder, name, flags, Mode::empty())?.into())
            });
        }
        open_to_read(path)
    }

    /// The open folder of `path` (opened first if it is not the last one's), and the name
    /// to look up in it; `None` if the folder cannot be opened.
    #[cfg(target_os = "linux")]
    fn folder<'a>(
        &mut self,
        path: &'a Path,
    ) -> Option<(std::os::fd::BorrowedFd<'_>, &'a std::ffi::OsStr)> {
        use std::ffi::OsStr;
        use std::os::fd::AsFd;
        use std::os::unix::ffi::OsStrExt;
        // Split at the last `/`, as bytes: `Path::parent` and `file_name` parse components.
        // Names are short, so a plain search from the end finds it soonest.
        let bytes = path.as_os_str().as_bytes();
        let (folder, name) = match bytes.iter().rposition(|&b| b == b'/') {
            Some(0) => (&b"/"[..], &bytes[1..]),
            Some(at) => (&bytes[..at], &bytes[at + 1..]),
            None => (&b"."[..], bytes),
        };
        if matches!(name, b"" | b"." | b"..") {
            return None;
        }
        if self
            .last
            .as_ref()
            .is_none_or(|(last, _)| last[..] != *folder)
        {
            self.last = None;
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rustix::fs::open(OsStr::from_bytes(folder), flags, Mode::empty()).ok()?;
            self.last = Some((folder.to_vec(), fd));
        }
        self.last
            .as_ref()
            .map(|(_, fd)| (fd.as_fd(), OsStr::from_bytes(name)))
    }
}

/// The body of [`read_doc_with`], for a doc already open.
fn read_open_doc<T>(
    mut file: std::fs::File,
    max: u64,
    use_bytes: impl FnOnce(&[u8]) -> T,
) -> std::io::Result<Content<T>> {
    use std::io::Read;
    /// The first read; a file that fills it has its size checked before more is read.
    const FIRST: u64 = 1 << 18;
    thread_local! {
        static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    // Taken, not borrowed: were `use_bytes` to read another doc, that would start afresh.
    let mut bytes = BUFFER.take();
    bytes.clear();
    let limit = max.saturating_add(1);
    let read = (|| {
        (&mut file).take(limit.min(FIRST)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 == FIRST && limit > FIRST {
            let len = file.metadata()?.len();
            if len > max {
                return Ok(Content::TooLarge(len));
            }
            bytes.reserve_exact((len + 1).saturating_sub(FIRST) as usize);
            // A file that grows while it is read stops at the limit.
            (&mut file).take(limit - FIRST).read_to_end(&mut bytes)?;
        }
        if bytes.len() as u64 > max {
            let len = file.metadata().map_or(bytes.len() as u64, |m| m.len());
            return Ok(Content::TooLarge(len.max(bytes.len() as u64)));
        }
        Ok(Content::Bytes(use_bytes(&bytes)))
    })();
    // Kept for the next doc, unless a large one made it large.
    if bytes.capacity() as u64 <= 4 * FIRST {
        BUFFER.set(bytes);
    }
    read
}

/// Opens a doc to read it. On Unix, without waiting (`O_NONBLOCK`, which changes nothing for
/// a regular file): a named pipe put in a doc's place after the walk would otherwise hold the
/// run until something writes to it. On Linux, also without updating its access time
/// (`O_NOATIME`): on a fresh checkout, whose files were never read, every first read would
/// write the file's metadata (4% of a cold run's CPU on tldr). Only a file's owner may ask
/// that; other files are opened without it.
fn open_to_read(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open_to_read_with(|no_atime| {
            let atime = if no_atime { libc::O_NOATIME } else { 0 };
            options
                .clone()
                .custom_flags(libc::O_NONBLOCK | atime)
                .open(path)
        })
    }
    #[cfg(not(target_os = "linux"))]
    options.open(path)
}

/// `open(no_atime)`, with `O_NOATIME` as long as no file turned out to belong to someone else.
#[cfg(target_os = "linux")]
fn open_to_read_with(
    mut open: impl FnMut(bool) -> std::io::Result<std::fs::File>,
) -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicBool, Ordering};
    /// Cleared once a file turns out to belong to someone else.
    static NO_ATIME: AtomicBool = AtomicBool::new(true);
    if NO_ATIME.load(Ordering::Relaxed) {
        match open(true) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                NO_ATIME.store(false, Ordering::Relaxed)
            }
            opened => return opened,
        }
    }
    open(false)
}

/// Opens a file to read it, refusing anything but a regular file (through symlinks): a named
/// pipe would hold the run until something writes to it, and a device may never end.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    open_regular_with_size(path).map(|(file, _)| file)
}

/// [`std::fs::read`] of a regular file only ([`open_regular`]).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let (mut file, size) = open_regular_with_size(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`open_regular`], and the file's size.
fn open_regular_with_size(path: &Path) -> std::io::Result<(std::fs::File, u64)> {
    let file = open_to_read(path)?;
    let meta = file.metadata()?;
    if meta.is_file() {
        Ok((file, meta.len()))
    } else if meta.is_dir() {
        Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a folder",
        ))
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            NOT_REGULAR,
        ))
    }
}

/// An error if `path` is a symlink to a file outside `root`. `INDEX.md` and the other outputs
/// are read before they are replaced, and their hand-written parts kept: through such a link, a
/// file from elsewhere on the machine would be copied into the tree. A dangling link is no
/// error: there is nothing to read, and writing replaces the link itself.
pub fn refuse_link_out_of_root(root: &Path, path: &Path) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    let canonical_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    match std::fs::canonicalize(path) {
        Ok(target) if !target.starts_with(&canonical_root) => Err(Error::Other {
            path: path.into(),
            message: "is a symlink to a file outside ROOT; docidx neither reads nor replaces it"
                .into(),
        }),
        _ => Ok(()),
    }
}

/// Why a file that is not a regular file is not read.
const NOT_REGULAR: &str = "not a regular file (a named pipe, socket or device)";

/// The warning for a doc skipped because it is over the size limit.
pub fn too_large(rel: &str, size: u64, max: u64) -> Warning {
    Warning::new(
        rel,
        format!("{size} bytes is over the size limit of {max} bytes (max-file-size); skipped"),
    )
}

/// What a walk found: documents sorted by `rel`, files it skipped and why.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<DocFile>,
    pub warnings: Vec<Warning>,
    /// Whether some file or folder could not be read (the index is incomplete).
    pub incomplete: bool,
}

/// A matcher for root-relative paths from config globs (`archive/**`; `*` stays within a
/// folder, a leading `/` is allowed).
pub fn glob_set(patterns: &[String]) -> Result<globset::GlobSet> {
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p.trim_start_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Glob {
                glob: p.clone(),
                message: e.to_string(),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| Error::Glob {
        glob: patterns.join(", "),
        message: e.to_string(),
    })
}

/// Whether a file name is a Markdown document by its extension.
pub fn is_markdown(name: &str) -> bool {
    name.ends_with(".md") || name.ends_with(".mdx")
}

/// `path` relative to `root`, `/`-separated; a name that is not UTF-8 keeps its bytes as
/// `%XX` (see [`crate::resolve::component_string`]).
pub fn relative(root: &Path, path: &Path) -> String {
    #[cfg(unix)]
    if let Some(rel) = plain_relative(root, path) {
        return rel.to_string();
    }
    relative_by_components(root, path)
}

/// [`relative`] for any path.
fn relative_by_components(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(name_string(s)),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// [`relative`] where `path` is `root`, a `/` and names that are UTF-8 and neither `.` nor
/// `..`, as the walk makes them: the rest of its bytes, without parsing both into components
/// (a few percent of a warm run's CPU on 38,405 docs). `None` for any other path.
#[cfg(unix)]
fn plain_relative<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    use std::os::unix::ffi::OsStrExt;
    let root = root.as_os_str().as_bytes();
    let rest = path.as_os_str().as_bytes().strip_prefix(root)?;
    let rest = match root.last() {
        Some(b'/') => rest,
        _ => rest.strip_prefix(b"/")?,
    };
    let plain = rest
        .split(|&b| b == b'/')
        .all(|name| !matches!(name, b"" | b"." | b".."));
    plain.then(|| std::str::from_utf8(rest).ok()).flatten()
}

#[cfg(unix)]
fn name_string(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    crate::resolve::component_string(name.as_bytes())
}

#[cfg(not(unix))]
fn name_string(name: &std::ffi::OsStr) -> String {
    name.to_string_lossy().into_owned()
}

/// Walks `root` and returns every document, skipping the files whose root-relative paths are
/// in `not_docs` (the outputs of this run). Runs on `config.jobs` threads; the result does not depend on scheduling.
pub fn discover(root: &Path, config: &Config, not_docs: &[String]) -> Result<Discovery> {
    let canonical_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    if !canonical_root.is_dir() {
        return Err(Error::Other {
            path: root.into(),
            message: "not a directory".into(),
        });
    }
    let mut overrides = OverrideBuilder::new(root);
    for glob in &config.include {
        let bad = |e: ignore::Error| Error::Glob {
            glob: glob.clone(),
            message: e.to_string(),
        };
        overrides.add(glob).map_err(bad)?;
        // An ignored folder is never entered unless the folder itself is whitelisted too.
        for dir in named_folders(glob) {
            overrides.add(&format!("/{dir}/")).map_err(bad)?;
        }
    }
    for glob in &config.exclude {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| Error::Glob {
                glob: glob.clone(),
                message: e.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|e| Error::Glob {
        glob: "(all)".into(),
        message: e.to_string(),
    })?;

    let mut builder = WalkBuilder::new(root);
    builder
        .overrides(overrides)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        // A developer's global excludes file must not make their index differ from CI's.
        .git_global(false)
        .follow_links(true)
        .threads(config.jobs.unwrap_or(0));

    let found = Mutex::new(Discovery::default());
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let (warning, unread) = walk_warning(root, &err);
                    let mut found = found.lock().expect("no thread panics while holding it");
                    found.warnings.push(warning);
                    found.incomplete |= unread;
                    return WalkState::Continue;
                }
            };
            if entry.depth() == 0 {
                return WalkState::Continue;
            }
            let path = entry.path();
            let rel = relative(root, path);
            if entry.path_is_symlink() {
                match std::fs::canonicalize(path) {
                    Ok(target) if target.starts_with(&canonical_root) => {}
                    Ok(_) => {
                        push_warning(
                            &found,
                            Warning::new(rel, "symlink points outside the root; not followed"),
                        );
                        return WalkState::Skip;
                    }
                    Err(_) => {
                        push_warning(&found, Warning::new(rel, broken_symlink_message(path)));
                        return WalkState::Skip;
                    }
                }
            }
            let Some(file_type) = entry.file_type() else {
                return WalkState::Continue;
            };
            let name = entry.file_name().to_string_lossy();
            if file_type.is_dir() {
                let skipped = name.starts_with('.') || config.skip_dirs.iter().any(|d| *d == name);
                let never = name == ".git" || rel == crate::cache::CACHE_DIR;
                if never || (skipped && !named_by_include(&config.include, &rel)) {
                    return WalkState::Skip;
                }
                return WalkState::Continue;
            }
            if !is_markdown(&name) || not_docs.contains(&rel) {
                return WalkState::Continue;
            }
            if !file_type.is_file() {
                push_warning(&found, Warning::new(rel, format!("{NOT_REGULAR}; skipped")));
                return WalkState::Continue;
            }
            let mut found = found.lock().expect("no thread panics while holding it");
            found.files.push(DocFile {
                rel,
                path: path.to_path_buf(),
            });
            WalkState::Continue
        })
    });
    let mut found = found
        .into_inner()
        .expect("no thread panicked while holding it");
    // No two files have the same path, so an unstable sort gives the one order.
    found.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    // A symlinked folder inside the root can show the same file under two paths; both are kept,
    // as git would. The same path twice cannot happen.
    found.warnings.sort();
    found.warnings.dedup();
    Ok(found)
}

/// The folders an include glob names literally: `a/b/**/*.md` names `a` and `a/b`.
fn named_folders(glob: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut path = String::new();
    let parts: Vec<&str> = glob.trim_start_matches('/').split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if part.is_empty() || part.contains(['*', '?', '[', '{', '\\', '!']) {
            break;
        }
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        dirs.push(path.clone());
    }
    dirs
}

/// Whether an include glob names the folder `rel` (or something inside it) explicitly, as
/// `.github/**` names `.github`. Globs starting with a wildcard name no folder in particular.
fn named_by_include(include: &[String], rel: &str) -> bool {
    include.iter().any(|glob| {
        let glob = glob.trim_start_matches('/');
        glob.strip_prefix(rel)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

fn push_warning(found: &Mutex<Discovery>, warning: Warning) {
    found
        .lock()
        .expect("no thread panics while holding it")
        .warnings
        .push(warning);
}

/// Why a symlink whose target cannot be resolved is skipped: it loops (`a.md -> b.md -> a.md`,
/// `x.md -> x.md`) or it dangles (its target does not exist).
fn broken_symlink_message(link: &Path) -> &'static str {
    // Follow the chain by hand: a loop comes back to a link already seen, or goes on past the
    // 40 hops after which the kernel gives up too (ELOOP).
    let mut seen = std::collections::HashSet::new();
    let mut at = link.to_path_buf();
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&at) else {
            return "dangling symlink; skipped";
        };
        let next = match at.parent() {
            Some(dir) => dir.join(target),
            None => target,
        };
        let key = std::fs::canonicalize(next.parent().unwrap_or(Path::new(".")))
            .map(|dir| dir.join(next.file_name().unwrap_or_default()))
            .unwrap_or_else(|_| next.clone());
        if !seen.insert(key) {
            return "symlink loop; not followed";
        }
        at = next;
    }
    "symlink loop; not followed"
}

/// A warning for a walk error, and whether it means something could not be read (a symlink
/// loop or a dangling symlink is skipped on purpose; a permission error is a gap in the index).
fn walk_warning(root: &Path, err: &ignore::Error) -> (Warning, bool) {
    fn inner<'a>(err: &'a ignore::Error, path: &mut Option<&'a Path>) -> (String, bool) {
        match err {
            ignore::Error::WithPath { path: p, err } => {
                *path = Some(p);
                inner(err, path)
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner(err, path)
            }
            ignore::Error::Loop { child, .. } => {
                *path = Some(child);
                ("symlink loop; not followed".into(), false)
            }
            other => (other.to_string(), true),
        }
    }
    let mut path = None;
    let (mut message, mut unread) = inner(err, &mut path);
    if let Some(p) = path {
        let is_link = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
        if is_link && std::fs::metadata(p).is_err() {
            message = broken_symlink_message(p).into();
            unread = false;
        }
    }
    let warning = match path {
        Some(p) => Warning::new(relative(root, p), message),
        None => Warning::new(".", message),
    };
    (warning, unread)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a regular file is read: a folder and (on Unix) a named pipe are refused at once,
    /// each with its own message, and a missing file stays `NotFound`.
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.md");
        std::fs::write(&file, "# A\n").unwrap();
        assert_eq!(read_regular(&file).unwrap(), b"# A\n");
        let folder = read_regular(dir.path()).unwrap_err();
        assert_eq!(folder.kind(), std::io::ErrorKind::IsADirectory);
        assert_eq!(folder.to_string(), "is a folder");
        let missing = read_regular(&dir.path().join("missing.md")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        #[cfg(unix)]
        {
            let pipe = dir.path().join("pipe.md");
            let made = std::process::Command::new("mkfifo").arg(&pipe).status();
            assert!(made.unwrap().success());
            let refused = read_regular(&pipe).unwrap_err();
            assert_eq!(refused.to_string(), NOT_REGULAR);
        }
    }

    /// Every size around the first read and the limit: the bytes in full, or the file's own
    /// size when it is over the limit, with the buffer reused between files of any size.
    #[test]
    fn docs_are_read_whole_or_skipped_by_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let first = 1usize << 18;
        let sizes = [
            0,
            1,
            500,
            first - 1,
            first,
            first + 1,
            3 * first,
            5 * first,
            20,
        ];
        for max in [0u64, 100, first as u64, 4 * first as u64, u64::MAX] {
            for (i, &size) in sizes.iter().enumerate() {
                let path = dir.path().join(format!("{max}-{i}.md"));
                let bytes: Vec<u8> = (0..size).map(|b| (b % 251) as u8).collect();
                std::fs::write(&path, &bytes).unwrap();
                let read =
                    read_doc_with(&mut Folders::default(), &path, max, |b| b.to_vec()).unwrap();
                match read {
                    Content::Bytes(read) => {
                        assert!(size as u64 <= max, "{size} over {max}");
                        assert_eq!(read, bytes, "{size} bytes, limit {max}");
                    }
                    Content::TooLarge(n) => {
                        assert!(size as u64 > max, "{size} within {max}");
                        assert_eq!(n, size as u64, "limit {max}");
                    }
                }
            }
        }
        let missing = read_doc_with(
            &mut Folders::default(),
            &dir.path().join("none.md"),
            10,
            |_| (),
        );
        assert!(missing.is_err());
    }

    /// Looked up in their folder, files give the key and the bytes that their full paths give,
    /// whichever folder was open before; what is not a regular file has no key.
    #[test]
    fn docs_looked_up_in_their_folder_are_the_files_their_paths_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in ["a", "b", "a/c"] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        let files = ["a/1.md", "a/2.md", "b/1.md", "a/c/1.md", "a/3.md"];
        for (i, rel) in files.iter().enumerate() {
            std::fs::write(root.join(rel), format!("doc {i}: {rel}")).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("../b/1.md", root.join("a/link.md")).unwrap();
        let mut folders = Folders::default();
        for rel in files.iter().chain(&["a/link.md", "b/1.md", "a/1.md"]) {
            let path = root.join(rel);
            if !path.exists() {
                continue;
            }
            assert_eq!(folders.key(&path), FileKey::of_path(&path), "{rel}");
            assert!(folders.key(&path).is_some(), "{rel}");
            let read = read_doc_with(&mut folders, &path, 100, |b| b.to_vec()).unwrap();
            let Content::Bytes(read) = read else {
                panic!("{rel} is small")
            };
            assert_eq!(read, std::fs::read(&path).unwrap(), "{rel}");
        }
        assert_eq!(folders.key(&root.join("a/c")), None);
        assert_eq!(folders.key(&root.join("a/none.md")), None);
        assert_eq!(folders.key(&root.join("none/1.md")), None);
        assert!(read_doc_with(&mut folders, &root.join("b/none.md"), 100, |_| ()).is_err());
        // A bare name is looked up in the current folder.
        let here = std::env::current_dir().unwrap();
        let name = std::fs::read_dir(&here)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_file())
            .expect("a file in the current folder");
        let bare = Path::new(name.file_name().unwrap());
        assert_eq!(folders.key(bare), FileKey::of_path(bare));
        assert!(folders.key(bare).is_some());
    }

    /// The bytes of a plain path are what its components give; any other path is left to them.
    #[test]
    #[cfg(unix)]
    fn plain_paths_are_relative_as_their_components_say() {
        let cases = [
            (".", "./a/b.md", Some("a/b.md")),
            ("docs", "docs/a.md", Some("a.md")),
            ("docs/", "docs/a b/é.md", Some("a b/é.md")),
            ("/", "/x/y.md", Some("x/y.md")),
            ("a/./b", "a/./b/c.md", Some("c.md")),
            ("docs", "docs2/a.md", None),
            ("docs", "docs", None),
            ("docs", "docs//a.md", None),
            ("docs", "docs/./a.md", None),
            ("docs", "docs/../a.md", None),
            ("docs", "other/a.md", None),
        ];
        for (root, path, plain) in cases {
            let (root, path) = (Path::new(root), Path::new(path));
            assert_eq!(plain_relative(root, path), plain, "{path:?} in {root:?}");
            if let Some(plain) = plain {
                assert_eq!(relative_by_components(root, path), plain);
            }
            assert_eq!(
                relative(root, path),
                relative_by_components(root, path),
                "{path:?} in {root:?}"
            );
        }
    }

    #[test]
    fn folders_named_by_globs() {
        assert_eq!(named_folders("a/b/**/*.md"), ["a", "a/b"]);
        assert_eq!(named_folders("/ign/**"), ["ign"]);
        assert_eq!(named_folders("**/*.md"), Vec::<String>::new());
        assert_eq!(named_folders("x.md"), Vec::<String>::new());
    }
}
