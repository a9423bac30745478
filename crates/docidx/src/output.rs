//! Writing outputs atomically (a temporary file in the same folder, then a rename), and never
//! over a file that changed since docidx read it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::known_files::FileKey;

/// One file a run wants to write.
#[derive(Debug, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    /// The new bytes. Empty for an output made with [`Output::unchanged`], which is never
    /// written: a large `INDEX.json` that did not change is not held in memory. Empty too when
    /// the new bytes are already in a temporary file ([`Output::streamed`]) or were only
    /// hashed ([`Output::digest_only`]).
    pub contents: Vec<u8>,
    /// The [`digest`] of the new bytes.
    pub digest: [u8; 32],
    /// The [`digest`] of the file when docidx read it (`None`: it did not exist). A digest, not
    /// the bytes, so a large old `INDEX.json` is not kept in memory beside the new one.
    pub previous: Option<[u8; 32]>,
    /// The file's key when it had the digest `previous`, settled then ([`Output::vouched`]).
    previous_key: Option<FileKey>,
    /// A temporary file beside `path` that holds the new bytes, not yet synced; [`write_all`]
    /// syncs it (unless [`Output::regenerable`]) and renames it into place, and dropping the
    /// output removes it otherwise.
    staged: Option<PathBuf>,
    /// Whether the new bytes were only hashed: such an output can say whether it is a change
    /// but cannot be written.
    digest_only: bool,
    /// Whether [`write_all`] syncs the new bytes to disk before they replace the old file
    /// (all but [`Output::regenerable`] ones).
    sync: bool,
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(tmp) = &self.staged {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// The digest of `bytes` that [`Output`] keeps: BLAKE3.
///
/// It only ever tells whether a file on disk holds the bytes docidx wrote, so it need not be
/// the SHA-256 that docs are known by, only as hard to forge: a file made to match it would
/// pass `generate --check`. BLAKE3 hashes about three times as fast here (4 GB/s against
/// 1.5), which matters for the 28 MB `INDEX.json` of a 38,000-doc tree, hashed whenever it
/// is written.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    blake3::hash(bytes).into()
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push(char::from_digit((b >> 4) as u32, 16).expect("a nibble is a hex digit"));
        hex.push(char::from_digit((b & 15) as u32, 16).expect("a nibble is a hex digit"));
    }
    hex
}

impl Output {
    /// An output for `path`, remembering (a digest of) what is on disk there now.
    pub fn new(path: PathBuf, contents: impl Into<Vec<u8>>) -> Result<Output> {
        let previous = digest_file(&path)?;
        Ok(Output::with_digest(path, contents, previous))
    }

    /// An output for `path` whose current bytes the caller has already read (`None`: absent).
    pub fn with_previous(
        path: PathBuf,
        contents: impl Into<Vec<u8>>,
        previous: Option<&[u8]>,
    ) -> Output {
        Output::with_digest(path, contents, previous.map(digest))
    }

    /// An output for `path` whose current digest the caller knows (`None`: absent).
    pub fn with_digest(
        path: PathBuf,
        contents: impl Into<Vec<u8>>,
        previous: Option<[u8; 32]>,
    ) -> Output {
        let contents = contents.into();
        let digest = digest(&contents);
        Output::hashed(path, contents, digest, previous)
    }

    /// An output of new bytes whose digest is `digest`, none of them in memory, for a file
    /// whose digest is `previous`: what the constructors start from.
    fn bare(path: PathBuf, digest: [u8; 32], previous: Option<[u8; 32]>) -> Output {
        Output {
            path,
            contents: Vec::new(),
            digest,
            previous,
            previous_key: None,
            staged: None,
            digest_only: false,
            sync: true,
        }
    }

    /// An output whose new bytes' [`digest`] the caller has computed already.
    pub(crate) fn hashed(
        path: PathBuf,
        contents: Vec<u8>,
        digest: [u8; 32],
        previous: Option<[u8; 32]>,
    ) -> Output {
        debug_assert_eq!(digest, self::digest(&contents));
        let mut out = Output::bare(path, digest, previous);
        out.contents = contents;
        out
    }

    /// [`Output::hashed`], with the new bytes moved at once into a temporary file beside
    /// `path` when they differ from the file on disk: a large `INDEX.md` is not held in memory
    /// while the rest of the run renders and writes.
    pub(crate) fn staged(
        path: PathBuf,
        contents: Vec<u8>,
        digest: [u8; 32],
        previous: Option<[u8; 32]>,
    ) -> Result<Output> {
        let mut out = Output::hashed(path, contents, digest, previous);
        let contents = std::mem::take(&mut out.contents);
        if out.is_change() {
            // Synced by `write_all`, like a streamed output.
            out.staged = Some(stage(&out.path, &contents, false)?);
        }
        Ok(out)
    }

    /// An output whose new bytes `render` writes straight into a temporary file beside `path`
    /// (a large `INDEX.json` is never held in memory whole). If they equal the file on disk
    /// (whose digest is `previous`), the temporary file is removed and nothing is written.
    pub fn streamed(
        path: PathBuf,
        previous: Option<[u8; 32]>,
        render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<Output> {
        // Synced by `write_all`, beside the other outputs' work, before the rename.
        let (tmp, digest) = stage_with(&path, false, render)?;
        let mut out = Output::bare(path, digest, previous);
        out.staged = Some(tmp);
        if !out.is_change() {
            if let Some(tmp) = out.staged.take() {
                let _ = fs::remove_file(tmp);
            }
        }
        Ok(out)
    }

    /// An output known only by the digest of its new bytes: it tells whether the file would
    /// change, for `--check` and `validate`, and [`write_all`] refuses to write it.
    pub fn digest_only(path: PathBuf, digest: [u8; 32], previous: Option<[u8; 32]>) -> Output {
        let mut out = Output::bare(path, digest, previous);
        out.digest_only = true;
        out
    }

    /// An output known to equal the file on disk, whose digest is `digest`: nothing to write.
    pub fn unchanged(path: PathBuf, digest: [u8; 32]) -> Output {
        Output::bare(path, digest, Some(digest))
    }

    /// The new bytes, wherever they are: in memory, in the temporary file, or (for an output
    /// that changes nothing) in the file itself. An error for a [`Output::digest_only`] one.
    pub fn bytes(&self) -> std::io::Result<Vec<u8>> {
        if self.digest_only {
            return Err(std::io::Error::other(
                "only the digest of this output was kept",
            ));
        }
        match &self.staged {
            Some(tmp) => fs::read(tmp),
            None if !self.contents.is_empty() || self.is_change() => Ok(self.contents.clone()),
            None => crate::walk::read_regular(&self.path),
        }
    }

    /// The output, with the key `stat` gave its file when the file had the digest
    /// [`Output::previous`], if that key had settled ([`crate::known_files`]): [`write_all`]
    /// then checks that the file is as docidx read it by `stat`ing it, not by hashing it again.
    pub fn vouched(mut self, key: Option<FileKey>) -> Output {
        self.previous_key = key;
        self
    }

    /// The output, marked as one docidx writes whole from the docs (`INDEX.json`, the
    /// manifest, `llms.txt`): [`write_all`] replaces it atomically but does not wait for the
    /// disk first. A crash soon after can lose its new bytes; the next run finds the file is
    /// not what the cache recorded and writes it again. `INDEX.md`, whose hand-written parts
    /// could be lost, is always synced.
    pub fn regenerable(mut self) -> Output {
        self.sync = false;
        self
    }

    /// Whether writing would change the file.
    pub fn is_change(&self) -> bool {
        self.previous != Some(self.digest)
    }
}

/// A writer that only hashes: the digest of a rendering without keeping its bytes.
#[derive(Debug, Default)]
pub struct DigestWriter(blake3::Hasher);

impl DigestWriter {
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }

    /// The [`digest`] of what `render` writes (buffered, so its many small writes reach the hash
    /// in large blocks), and what `render` returned. Hashing cannot fail, so `render` cannot.
    pub fn digest_of<T>(
        render: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
    ) -> ([u8; 32], T) {
        let mut hasher = std::io::BufWriter::with_capacity(1 << 16, DigestWriter::default());
        let rendered = render(&mut hasher).expect("hashing cannot fail");
        let hasher = hasher.into_inner().expect("hashing cannot fail");
        (hasher.finish(), rendered)
    }
}

impl Write for DigestWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The [`digest`] of the file at `path`, read in blocks (a large file is never held whole), or
/// `None` if it does not exist.
pub fn digest_file(path: &Path) -> Result<Option<[u8; 32]>> {
    use std::io::Read;
    let mut file = match crate::walk::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(Some(hasher.finalize().into()))
}

/// Copies byte ranges of a file into writers through one buffer: ranges asked for in
/// increasing order read the file once, front to back, however many there are, and never hold
/// it whole in memory.
#[derive(Debug)]
pub struct SpanReader {
    reader: std::io::BufReader<fs::File>,
    /// The offset of the reader's next byte.
    at: u64,
    len: u64,
}

impl SpanReader {
    /// A reader of the file at `path`, or `None` if it does not exist.
    pub fn open(path: &Path) -> Result<Option<SpanReader>> {
        let file = match crate::walk::open_regular(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Ok(Some(SpanReader {
            reader: std::io::BufReader::with_capacity(1 << 16, file),
            at: 0,
            len,
        }))
    }

    /// The file's length when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty when it was opened.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the bytes `[start, end)` of the file into `out`; an error if the file does not
    /// hold them all.
    pub fn copy(&mut self, [start, end]: [u64; 2], out: &mut dyn Write) -> std::io::Result<()> {
        use std::io::BufRead;
        if start > end || end > self.len {
            return Err(std::io::Error::other("a byte range outside the file"));
        }
        match i64::try_from(start).ok().zip(i64::try_from(self.at).ok()) {
            Some((start, at)) => self.reader.seek_relative(start - at)?,
            None => return Err(std::io::Error::other("a byte range outside the file")),
        }
        self.at = start;
        let mut left = end - start;
        while left > 0 {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            out.write_all(&buf[..n])?;
            self.reader.consume(n);
            left -= n as u64;
            self.at += n as u64;
        }
        Ok(())
    }
}

/// The bytes of `path`, or `None` if it does not exist.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match crate::walk::read_regular(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes every output that changes something; returns the paths written.
///
/// All or nothing, as far as the file system allows: every new file is first written in full
/// to a temporary file beside its target (and synced to disk, unless [`Output::regenerable`]),
/// and only when all of them are written are they renamed into place. A write error
/// (read-only folder, full disk) leaves every old output as it was. An output whose file
/// changed on disk since it was read is not written ([`Error::Changed`]), unless the file
/// already holds exactly the new contents.
pub fn write_all(outputs: &[Output]) -> Result<Vec<PathBuf>> {
    use rayon::prelude::*;
    for out in outputs {
        remove_stale_temps(&out.path);
    }
    let changes: Vec<&Output> = outputs.iter().filter(|o| o.is_change()).collect();
    // Each new file is written beside its target (or, if streamed already, synced) while each
    // target is checked again on the pool (by its key where that vouches for it, by hashing it
    // otherwise): one that changed since docidx read it is never overwritten. Writing and
    // syncing mostly wait on the disk, so they have threads of their own rather than holding
    // up the pool's.
    let (checked, mut staged): (Vec<Result<bool>>, Vec<Option<Result<PathBuf>>>) =
        std::thread::scope(|scope| {
            let staging: Vec<_> = changes
                .iter()
                .map(|out| {
                    scope.spawn(move || match &out.staged {
                        _ if out.digest_only => None,
                        Some(tmp) if !out.sync => Some(Ok(tmp.clone())),
                        Some(tmp) => Some(
                            fs::File::open(tmp)
                                .and_then(|f| f.sync_all())
                                .map(|()| tmp.clone())
                                .map_err(|e| Error::io(&out.path, e)),
                        ),
                        None => Some(stage(&out.path, &out.contents, out.sync)),
                    })
                })
                .collect();
            let checked = changes.par_iter().map(|out| needs_writing(out)).collect();
            let staged = staging
                .into_iter()
                .map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect();
            (checked, staged)
        });
    // Temporary files written here are removed on any error (streamed ones when their output
    // is dropped), and so are those of outputs that need no writing.
    let remove_staged = |staged: &[Option<Result<PathBuf>>], keep: &[usize]| {
        for (k, (tmp, out)) in staged.iter().zip(&changes).enumerate() {
            if let (Some(Ok(tmp)), None) = (tmp, &out.staged) {
                if !keep.contains(&k) {
                    let _ = fs::remove_file(tmp);
                }
            }
        }
    };
    let mut pending = Vec::new();
    for (k, check) in checked.into_iter().enumerate() {
        match check {
            Ok(true) => pending.push(k),
            Ok(false) => {}
            Err(e) => {
                remove_staged(&staged, &[]);
                return Err(e);
            }
        }
    }
    remove_staged(&staged, &pending);
    // Each pending output's temporary file, or the first reason it has none.
    let mut renames: Vec<(PathBuf, &Path)> = Vec::with_capacity(pending.len());
    for &k in &pending {
        let error = match staged[k].take() {
            Some(Ok(tmp)) => {
                renames.push((tmp, changes[k].path.as_path()));
                continue;
            }
            Some(Err(e)) => e,
            None => Error::Other {
                path: changes[k].path.clone(),
                message: "was planned for checking only; its new contents were never kept".into(),
            },
        };
        for (tmp, _) in &renames {
            let _ = fs::remove_file(tmp);
        }
        remove_staged(&staged, &[]);
        return Err(error);
    }
    let mut written = Vec::new();
    for (i, (tmp, path)) in renames.iter().enumerate() {
        if let Err(e) = replace(tmp, path) {
            for (tmp, _) in &renames[i..] {
                let _ = fs::remove_file(tmp);
            }
            return Err(Error::io(*path, e));
        }
        written.push(path.to_path_buf());
    }
    Ok(written)
}

/// Whether `out` must be written: its file is still as docidx read it, and does not already
/// hold the new contents. [`Error::Changed`] if it changed since.
fn needs_writing(out: &Output) -> Result<bool> {
    // A file whose settled key has not changed still has the bytes it had then.
    let now = match out.previous_key {
        Some(key) if FileKey::of_path(&out.path) == Some(key) => out.previous,
        _ => digest_file(&out.path)?,
    };
    if now == Some(out.digest) {
        return Ok(false);
    }
    if now != out.previous {
        return Err(Error::Changed {
            path: out.path.clone(),
        });
    }
    Ok(true)
}

/// Removes temporary files that a killed docidx run left beside `path` (their process is gone).
/// Only on Linux, where a process's liveness can be read from `/proc`; elsewhere they stay.
fn remove_stale_temps(path: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.docidx-", name.to_string_lossy());
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old file or the new one, never a part of one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = stage(path, contents, true)?;
    replace(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// [`write_atomic`] without waiting for the bytes to reach the disk: for files whose loss in a
/// crash costs nothing but time (the cache). Readers still see the old file or the new one.
pub fn write_atomic_unsynced(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_unsynced_with(path, |w| w.write_all(contents)).map(|_| ())
}

/// [`write_atomic_unsynced`] with the bytes written by `render`; returns their [`digest`].
pub fn write_atomic_unsynced_with(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<[u8; 32]> {
    let (tmp, digest) = stage_with(path, false, render)?;
    replace(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    Ok(digest)
}

/// Renames `tmp` over `path`. On Linux the file it replaces is held open across the rename
/// and closed on a thread of its own: freeing its pages then happens beside the rest of the
/// run, not in the rename (16 ms for the 28 MB `INDEX.json` of tldr). Held by `O_PATH`, which
/// needs no permission to read and never waits on a named pipe.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    let replaced = {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH)
            .open(path)
            .ok()
    };
    fs::rename(tmp, path)?;
    #[cfg(target_os = "linux")]
    if let Some(file) = replaced {
        crate::drop_in_background(file);
    }
    Ok(())
}

/// Writes `contents` in full (synced to disk if `sync`) to a new temporary file beside `path`,
/// with the permissions of the file it will replace; returns the temporary file's path.
fn stage(path: &Path, contents: &[u8], sync: bool) -> Result<PathBuf> {
    stage_into(path, sync, |mut file| {
        file.write_all(contents)?;
        Ok((file, ()))
    })
    .map(|(tmp, ())| tmp)
}

/// [`stage`] with the bytes written by `render` (synced to disk if `sync`); also returns
/// their [`digest`].
fn stage_with(
    path: &Path,
    sync: bool,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(PathBuf, [u8; 32])> {
    stage_into(path, sync, |file| {
        let mut tee = Tee::new(file);
        render(&mut tee)?;
        tee.finish()
    })
}

/// A new temporary file beside `path`, filled by `fill` (synced to disk if `sync`) and given
/// the permissions of the file it will replace; its path, and what `fill` returned. Removed
/// on failure.
fn stage_into<T>(
    path: &Path,
    sync: bool,
    fill: impl FnOnce(fs::File) -> std::io::Result<(fs::File, T)>,
) -> Result<(PathBuf, T)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.docidx-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let (file, filled) = fill(fs::File::create(&tmp)?)?;
        if sync {
            file.sync_all()?;
        }
        if let Ok(meta) = fs::metadata(path) {
            // Keep the permissions a person gave the file.
            fs::set_permissions(&tmp, meta.permissions())?;
        }
        Ok(filled)
    })();
    match result {
        Ok(filled) => Ok((tmp, filled)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::io(path, e))
        }
    }
}

/// A writer into a file that hashes what it writes, in blocks of [`Tee::BLOCK`] bytes. Once
/// there is more than one block, they are hashed on a thread of their own while the next ones
/// are written: for a large `INDEX.json`, hashing no longer adds to the time of writing.
struct Tee {
    file: fs::File,
    block: Vec<u8>,
    hasher: Hasher,
}

enum Hasher {
    /// Hashing here (the file is no larger than one block, so far). Boxed: BLAKE3's state is
    /// about 2 KB.
    Here(Box<DigestWriter>),
    /// Hashing on another thread the blocks sent to it, and sending them back for reuse.
    Thread {
        blocks: std::sync::mpsc::SyncSender<Vec<u8>>,
        returned: std::sync::mpsc::Receiver<Vec<u8>>,
        digest: std::thread::JoinHandle<[u8; 32]>,
    },
}

impl Tee {
    const BLOCK: usize = 1 << 18;

    fn new(file: fs::File) -> Tee {
        Tee {
            file,
            block: Vec::with_capacity(Tee::BLOCK),
            hasher: Hasher::Here(Box::default()),
        }
    }

    /// Writes and hashes the block so far, and starts a new one.
    fn write_block(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.block)?;
        if let Hasher::Here(here) = &mut self.hasher {
            // The thread starts with the digest of what came before; if it cannot start,
            // hashing goes on here.
            let (blocks, to_hash) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let (give_back, returned) = std::sync::mpsc::channel();
            let mut digest = std::mem::take(here);
            let started = std::thread::Builder::new()
                .name("hash".into())
                .spawn(move || {
                    for block in to_hash {
                        let _ = digest.write_all(&block);
                        let _ = give_back.send(block);
                    }
                    digest.finish()
                });
            if let Ok(thread) = started {
                self.hasher = Hasher::Thread {
                    blocks,
                    returned,
                    digest: thread,
                };
            }
        }
        match &mut self.hasher {
            Hasher::Here(here) => {
                here.write_all(&self.block)?;
                self.block.clear();
            }
            Hasher::Thread {
                blocks, returned, ..
            } => {
                let mut next = returned.try_recv().unwrap_or_default();
                next.clear();
                next.reserve(Tee::BLOCK);
                let full = std::mem::replace(&mut self.block, next);
                blocks.send(full).map_err(|_| hash_thread_died())?;
            }
        }
        Ok(())
    }

    /// Writes what is left; returns the file and the [`digest`] of everything written.
    fn finish(mut self) -> std::io::Result<(fs::File, [u8; 32])> {
        self.file.write_all(&self.block)?;
        let digest = match self.hasher {
            Hasher::Here(mut here) => {
                here.write_all(&self.block)?;
                here.finish()
            }
            Hasher::Thread {
                blocks,
                returned,
                digest,
            } => {
                blocks.send(self.block).map_err(|_| hash_thread_died())?;
                drop((blocks, returned));
                digest.join().map_err(|_| hash_thread_died())?
            }
        };
        Ok((self.file, digest))
    }
}

fn hash_thread_died() -> std::io::Error {
    std::io::Error::other("the thread hashing the output stopped")
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(Tee::BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == Tee::BLOCK {
            self.write_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.block.is_empty() {
            self.write_block()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_reader_copies_ranges_and_refuses_what_the_file_does_not_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        let mut reader = SpanReader::open(&path).unwrap().unwrap();
        assert_eq!(reader.len(), bytes.len() as u64);
        // Forward, far forward (past the buffer), backward, empty, up to the end.
        for [a, b] in [
            [0, 10],
            [5, 70_000],
            [150_000, 150_001],
            [3, 4],
            [9, 9],
            [199_990, 200_000],
        ] {
            let mut out = Vec::new();
            reader.copy([a, b], &mut out).unwrap();
            assert_eq!(out, &bytes[a as usize..b as usize], "{a}..{b}");
        }
        let mut out = Vec::new();
        assert!(reader.copy([199_990, 200_001], &mut out).is_err());
        assert!(reader.copy([10, 5], &mut out).is_err());
        assert!(SpanReader::open(&dir.path().join("missing"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn writes_atomically_and_refuses_files_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("INDEX.md");
        fs::write(&path, "old").unwrap();
        let out = Output::new(path.clone(), "new").unwrap();
        assert!(out.is_change());
        fs::write(&path, "edited by a person").unwrap();
        assert!(matches!(
            write_all(std::slice::from_ref(&out)),
            Err(Error::Changed { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "edited by a person");

        let out = Output::new(path.clone(), "new").unwrap();
        assert_eq!(write_all(&[out]).unwrap(), std::slice::from_ref(&path));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");

        // Regenerable outputs, in memory and streamed, are not synced but replaced the same way.
        let json = dir.path().join("INDEX.json");
        let outputs = [
            Output::new(path.clone(), "newer").unwrap().regenerable(),
            Output::streamed(json.clone(), None, |w| w.write_all(b"{}"))
                .unwrap()
                .regenerable(),
        ];
        assert_eq!(write_all(&outputs).unwrap(), [path.clone(), json.clone()]);
        assert_eq!(fs::read_to_string(&path).unwrap(), "newer");
        assert_eq!(fs::read_to_string(&json).unwrap(), "{}");
        drop(outputs);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_vouched_output_is_checked_by_its_key_and_refused_once_the_key_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("INDEX.json");
        fs::write(&path, "old").unwrap();
        let key = FileKey::of_path(&path);
        // A previous digest the file does not have: only a check by key lets it through, as
        // hashing the file again would find it changed.
        let unhashed = Some(digest(b"what the key vouches for"));
        let out = Output::with_digest(path.clone(), "new", unhashed).vouched(key);
        assert_eq!(write_all(&[out]).unwrap(), std::slice::from_ref(&path));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");

        // Edited after its key was taken: the key no longer matches, so the file is hashed
        // again and found changed. (An edit within the same tick of the file system's clock
        // that keeps the size could keep the key; runs vouch only for settled keys.)
        let key = FileKey::of_path(&path);
        let previous = Some(digest(b"new"));
        fs::write(&path, "edited by a person").unwrap();
        let out = Output::with_digest(path.clone(), "newer", previous).vouched(key);
        assert!(matches!(write_all(&[out]), Err(Error::Changed { .. })));
        assert_eq!(fs::read_to_string(&path).unwrap(), "edited by a person");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn replacing_holds_the_old_file_without_reading_it_or_waiting_on_a_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, path) = (dir.path().join("new"), dir.path().join("INDEX.json"));
        // A named pipe in the output's place: opening it to read would wait for a writer.
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.unwrap().success());
        fs::write(&tmp, "{}").unwrap();
        replace(&tmp, &path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
        // An old file nobody may read is replaced too; no new file leaves one behind.
        fs::write(&tmp, "[]").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        replace(&tmp, &path).unwrap();
        fs::write(&tmp, "new").unwrap();
        replace(&tmp, &dir.path().join("absent")).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("absent")).unwrap(),
            "new"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_of_dead_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("INDEX.json");
        // No process has PID 2^22 + 1 (the kernel's maximum is 2^22).
        let dead = dir.path().join(".INDEX.json.docidx-4194305-0.tmp");
        let alive = dir
            .path()
            .join(format!(".INDEX.json.docidx-{}-99.tmp", std::process::id()));
        let other = dir.path().join(".notes.docidx-4194305-0.tmp");
        for p in [&dead, &alive, &other] {
            fs::write(p, "partial").unwrap();
        }
        write_all(&[Output::new(path.clone(), "{}").unwrap()]).unwrap();
        assert!(!dead.exists());
        assert!(
            alive.exists() && other.exists(),
            "only this output's temps of dead runs go"
        );
    }

    #[test]
    fn write_error_names_the_file() {
        let err = write_atomic(Path::new("/nonexistent-dir/x/INDEX.json"), b"{}").unwrap_err();
        assert!(err.to_string().contains("INDEX.json"), "{err}");
    }
}
