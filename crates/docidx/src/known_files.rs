//! The files as `stat` last saw them, so that a run recognises an unchanged file without
//! reading it, as git's index does: a file whose size, modification and change times and inode
//! are what they were when it was last hashed has the digest it had then. Two records use it:
//! the docs, by their SHA-256 ([`Kind::Docs`]), and the outputs, by the digests the stamp
//! vouches for ([`crate::output::digest`], [`Kind::Outputs`]).
//!
//! A file is recorded only once it has *settled*: its change and modification times are older
//! than the run that hashed it by more than the file system's clock could hide
//! ([`FileKey::settle`]). Any write to a file sets its change time to the moment of the write,
//! so a file written during that run, or just before it within the coarse granularity of file
//! times, has times that are not settled and is hashed again by the next run (git calls such
//! entries "racily clean"). A settled file that is written to later gets a later change time,
//! which no longer matches.
//!
//! The records are part of the disposable cache in `ROOT/.docidx-cache/` ([`crate::cache`]):
//! `generate` writes them; `validate` and `--check` runs only read them; `cache = false` or
//! `--no-cache` read every file. What they cannot see is a file rewritten with the same size
//! and times by a program that sets the change time back (which takes changing the system
//! clock). Settling assumes that the file system stamps files with the machine's clock, as a
//! local one does; on a network file system whose server's clock is behind by more than the
//! margin, a second write within the same tick as the first could go unseen.

use std::fs::Metadata;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Which files a record holds; each has its own file in the cache folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The docs, in path order.
    Docs,
    /// The outputs (`INDEX.md`, `INDEX.json`, `.doc_hashes.json`), in path order.
    Outputs,
}

impl Kind {
    /// The file's name in the cache folder; the number changes when its shape does.
    fn file(self) -> &'static str {
        match self {
            Kind::Docs => "files-v1.txt",
            Kind::Outputs => "outputs-v2.txt",
        }
    }
}

/// The length of a digest in hex (SHA-256 for docs, [`crate::output::digest`] for outputs),
/// which starts each line.
const DIGEST_HEX: usize = 64;

/// How long before a run began a file's times must be for the run to record it, on a file
/// system that keeps times finer than seconds. Linux stamps a write with a clock that advances
/// every tick (1 to 10 ms), so a later write never carries a time this far back.
pub const SETTLE: Duration = Duration::from_millis(100);

/// The same where a file's times are whole seconds (FAT keeps 2 s steps; ext3 and HFS+ 1 s).
pub const SETTLE_WHOLE_SECONDS: Duration = Duration::from_secs(2);

/// What `stat` tells of a file that changes when its bytes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    size: u64,
    /// Seconds and nanoseconds since the Unix epoch.
    modified: (i64, i64),
    changed: (i64, i64),
    inode: u64,
}

impl FileKey {
    /// The key of a file's metadata (through symlinks); `None` where the platform has no change
    /// time or inode (there every doc is read).
    pub fn of(meta: &Metadata) -> Option<FileKey> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileKey {
                size: meta.size(),
                modified: (meta.mtime(), meta.mtime_nsec()),
                changed: (meta.ctime(), meta.ctime_nsec()),
                inode: meta.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// The key of a file as `statx` gives it: the same as [`FileKey::of`] its metadata.
    #[cfg(target_os = "linux")]
    pub fn of_statx(stat: &rustix::fs::Statx) -> FileKey {
        FileKey {
            size: stat.stx_size,
            modified: (stat.stx_mtime.tv_sec, stat.stx_mtime.tv_nsec.into()),
            changed: (stat.stx_ctime.tv_sec, stat.stx_ctime.tv_nsec.into()),
            inode: stat.stx_ino,
        }
    }

    /// The key of the file at `path` (through symlinks), if it is a regular file.
    pub fn of_path(path: &Path) -> Option<FileKey> {
        std::fs::metadata(path)
            .ok()
            .filter(Metadata::is_file)
            .and_then(|meta| FileKey::of(&meta))
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How long before a run its times must be to be settled: [`SETTLE`], or
    /// [`SETTLE_WHOLE_SECONDS`] where either time has no fraction of a second: a file system
    /// that keeps whole seconds for one of them (FAT keeps its modification time in 2 s steps),
    /// a time set by hand or by an archive, or by chance one time in a billion.
    fn settle(&self) -> Duration {
        match (self.modified.1, self.changed.1) {
            (0, _) | (_, 0) => SETTLE_WHOLE_SECONDS,
            _ => SETTLE,
        }
    }

    /// Whether both times are more than [`FileKey::settle`] before `started`.
    fn settled(&self, started: SystemTime) -> bool {
        let Some(limit) = started
            .checked_sub(self.settle())
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        else {
            return false;
        };
        let limit = (limit.as_secs() as i64, i64::from(limit.subsec_nanos()));
        self.modified < limit && self.changed < limit
    }

    /// Gives `each` the six numbers in the order a line holds them, written out (with `itoa`:
    /// `write!` took most of the time of rendering 40,000 lines).
    fn numbers(&self, mut each: impl FnMut(&str)) {
        let FileKey {
            size,
            modified: (ms, mn),
            changed: (cs, cn),
            inode,
        } = *self;
        let mut digits = itoa::Buffer::new();
        each(digits.format(size));
        for n in [ms, mn, cs, cn] {
            each(digits.format(n));
        }
        each(digits.format(inode));
    }

    /// Appends the six numbers, separated by spaces.
    fn write(&self, out: &mut String) {
        let mut first = true;
        self.numbers(|number| {
            if !std::mem::take(&mut first) {
                out.push(' ');
            }
            out.push_str(number);
        });
    }

    /// Whether `text` is this key as [`FileKey::write`] writes it: the key's numbers written
    /// out and compared, not the text's parsed (38,405 times in a warm run on tldr).
    fn is_written_as(&self, text: &str) -> bool {
        let mut rest = Some(text.as_bytes());
        let mut first = true;
        self.numbers(|number| {
            let spaced = match (rest, std::mem::take(&mut first)) {
                (Some(rest), true) => Some(rest),
                (Some(rest), false) => rest.strip_prefix(b" "),
                (None, _) => None,
            };
            rest = spaced.and_then(|rest| rest.strip_prefix(number.as_bytes()));
        });
        rest.is_some_and(<[u8]>::is_empty)
    }
}

/// The files the last `generate` hashed and saw settled: one line each, in path order,
/// `SHA256 KEY PATH`.
#[derive(Debug, Default)]
pub struct KnownFiles {
    text: String,
    /// Byte offsets into `text` of each line's start, its path and its end.
    lines: Vec<(u32, u32, u32)>,
}

impl KnownFiles {
    /// The record of `kind` the last `generate` at `root` wrote; `None` if there is none, it
    /// cannot be read, it is not in this shape, or `cache` is off.
    pub fn load(root: &Path, config: &crate::Config, kind: Kind) -> Option<KnownFiles> {
        if !config.cache {
            return None;
        }
        let text = String::from_utf8(crate::cache::read(root, kind.file())?).ok()?;
        KnownFiles::parse(text)
    }

    fn parse(text: String) -> Option<KnownFiles> {
        u32::try_from(text.len()).ok()?;
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count());
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', bytes) {
            let digest = bytes.get(start..start + DIGEST_HEX)?;
            if !digest.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            // The path follows the digest and the key's six numbers; it may hold spaces.
            let numbers = bytes.get(start + DIGEST_HEX + 1..end)?;
            let path = start + DIGEST_HEX + 2 + memchr::memchr_iter(b' ', numbers).nth(5)?;
            lines.push((start as u32, path as u32, end as u32));
            start = end + 1;
        }
        let whole = start == bytes.len();
        let known = KnownFiles { text, lines };
        let sorted = known
            .lines
            .windows(2)
            .all(|w| known.path(w[0]) < known.path(w[1]));
        (whole && sorted).then_some(known)
    }

    fn path(&self, (_, path, end): (u32, u32, u32)) -> &str {
        &self.text[path as usize..end as usize]
    }

    /// How many files it records.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// [`crate::cache::docs_digest`] of the files it records, with their SHA-256.
    pub fn docs_digest(&self) -> String {
        crate::cache::docs_digest(self.lines.iter().map(|&line| {
            let start = line.0 as usize;
            let sha256 = self.text.get(start..start + DIGEST_HEX).unwrap_or_default();
            (self.path(line), sha256)
        }))
    }

    /// Whether it records no file.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The digest (hex) the file at root-relative `rel` had when it was hashed, if it is
    /// recorded with `key`. `hint` is where it is likely to be: its position among the files
    /// in path order, which is its line when none was added or removed.
    pub fn digest(&self, rel: &str, key: &FileKey, hint: usize) -> Option<&str> {
        let at = match self.lines.get(hint) {
            Some(&line) if self.path(line) == rel => hint,
            _ => self
                .lines
                .binary_search_by(|&line| self.path(line).cmp(rel))
                .ok()?,
        };
        let (start, path, _) = self.lines[at];
        let fields = self.text.get(start as usize..path as usize - 1)?;
        // Each digest is hex: `parse` checked.
        let (digest, recorded) = fields.split_at_checked(DIGEST_HEX)?;
        key.is_written_as(recorded.strip_prefix(' ')?)
            .then_some(digest)
    }
}

/// Whether [`render`] records the file at root-relative `rel` with `key` for a run that began
/// at `started`: its times are settled and a line can hold its path.
pub fn recordable(rel: &str, key: &FileKey, started: SystemTime) -> bool {
    key.settled(started) && !rel.is_empty() && !rel.contains(['\n', '\r'])
}

/// Renders the lines for `files` (root-relative path, digest in hex and key, in path order),
/// leaving out those not settled before `started` and paths that a line cannot hold.
pub fn render<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str, Option<FileKey>)>,
    started: SystemTime,
) -> String {
    let mut text = String::new();
    for (rel, digest, key) in files {
        let Some(key) = key.filter(|key| recordable(rel, key, started)) else {
            continue;
        };
        text.push_str(digest);
        text.push(' ');
        key.write(&mut text);
        text.push(' ');
        text.push_str(rel);
        text.push('\n');
    }
    text
}

/// Writes `text` ([`render`]) as the record of `kind` in `root`'s cache. Best effort: without
/// it, the next run reads every file of that kind.
pub fn store(root: &Path, config: &crate::Config, kind: Kind, text: &str) {
    if !config.cache {
        return;
    }
    let Ok(dir) = crate::cache::folder_to_write(root) else {
        return;
    };
    let path = dir.join(kind.file());
    if crate::output::write_atomic_unsynced(&path, text.as_bytes()).is_err() {
        let _ = std::fs::remove_file(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(changed: i64) -> FileKey {
        FileKey {
            size: 10,
            modified: (changed - 5, 7),
            changed: (changed, 999_999_999),
            inode: 42,
        }
    }

    #[test]
    fn records_settled_files_and_finds_them_by_path_and_key() {
        let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let sha = |c: char| c.to_string().repeat(64);
        let [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map(sha);
        let fine_settled = key(998).with_changed(999, 800_000_000);
        let whole_settled = key(998).with_changed(996, 0);
        let whole_unsettled = key(990).with_changed(999, 0);
        // FAT: the change time has hundredths, the modification time whole seconds.
        let mut fat_unsettled = key(999).with_changed(999, 10_000_000);
        fat_unsettled.modified = (999, 0);
        let text = render(
            [
                ("a b.md", a.as_str(), Some(key(900))),
                // Changed less than SETTLE before the run began: hashed again next time.
                ("b.md", b.as_str(), Some(key(999))),
                ("c.md", c.as_str(), None),
                ("d.md", d.as_str(), Some(fine_settled)),
                ("e/e.md", e.as_str(), Some(whole_settled)),
                // Whole seconds: one second is within the file system's granularity.
                ("f.md", f.as_str(), Some(whole_unsettled)),
                ("g.md", f.as_str(), Some(fat_unsettled)),
            ],
            started,
        );
        let known = KnownFiles::parse(text).expect("parses");
        assert_eq!(known.len(), 3);
        assert_eq!(known.digest("a b.md", &key(900), 0), Some(a.as_str()));
        assert_eq!(known.digest("a b.md", &key(901), 0), None);
        assert_eq!(known.digest("b.md", &key(999), 1), None);
        assert_eq!(known.digest("c.md", &key(900), 2), None);
        assert_eq!(known.digest("d.md", &fine_settled, 1), Some(d.as_str()));
        assert_eq!(known.digest("e/e.md", &whole_settled, 0), Some(e.as_str()));
        assert_eq!(known.digest("f.md", &whole_unsettled, 0), None);
        assert_eq!(known.digest("g.md", &fat_unsettled, 0), None);
        let mut grown = key(900);
        grown.size += 1;
        assert_eq!(known.digest("a b.md", &grown, 1), None);
        // The digest of the files recorded, as the scan would compute it from them.
        let recorded = [("a b.md", a.as_str()), ("d.md", &d), ("e/e.md", &e)];
        assert_eq!(known.docs_digest(), crate::cache::docs_digest(recorded));
        assert_ne!(
            known.docs_digest(),
            crate::cache::docs_digest(recorded[1..].iter().copied())
        );
    }

    #[test]
    fn a_file_out_of_order_or_malformed_is_not_used() {
        let sha = "0".repeat(64);
        let line = |rel: &str| format!("{sha} 10 1 0 1 0 42 {rel}\n");
        assert!(KnownFiles::parse(line("a.md") + &line("b.md")).is_some());
        assert!(KnownFiles::parse(line("b.md") + &line("a.md")).is_none());
        assert!(KnownFiles::parse(line("a.md").trim_end().to_string()).is_none());
        let known = KnownFiles::parse(format!("{sha} 10 x 0 1 0 42 a.md\n")).unwrap();
        assert_eq!(known.digest("a.md", &key(1), 0), None);
        let not_hex = "g".repeat(64);
        assert!(KnownFiles::parse(format!("{not_hex} 10 1 0 1 0 42 a.md\n")).is_none());
    }

    /// A key is recognised in the text it writes, and in no other: not with a number changed,
    /// missing, added or written otherwise.
    #[test]
    fn a_key_is_recognised_only_as_written() {
        let before_1970 = FileKey {
            size: u64::MAX,
            modified: (-86_400, 0),
            changed: (i64::MIN, 999_999_999),
            inode: 0,
        };
        for key in [key(1_700_000_000), before_1970] {
            let mut text = String::new();
            key.write(&mut text);
            assert!(key.is_written_as(&text), "{text}");
            let mut other = key;
            other.inode = other.inode.wrapping_add(1);
            assert!(!other.is_written_as(&text), "{text}");
            for changed in [
                format!("{text} 1"),
                format!("{text} "),
                format!(" {text}"),
                text.rsplit_once(' ').unwrap().0.to_string(),
                text.replacen(' ', "  ", 1),
                format!("0{text}"),
                String::new(),
            ] {
                assert!(!key.is_written_as(&changed), "{changed:?}");
            }
        }
    }

    impl FileKey {
        fn with_changed(mut self, seconds: i64, nanos: i64) -> FileKey {
            self.changed = (seconds, nanos);
            self
        }
    }
}
