//! `INDEX.json`: the whole analysis, for programs and agents, and the cache for the next run.

use rayon::prelude::*;
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
    #[serde(default)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
        Statistics::of_docs(index).with_index(index_md, index_tokens)
    }

    /// The totals of `index`'s docs alone (the index's own are added by
    /// [`Statistics::with_index`]).
    pub fn of_docs(index: &Index) -> Statistics {
        let mut totals = Statistics::default();
        for doc in &index.docs {
            totals.add(doc.bytes, doc.tokens, doc.words);
        }
        totals
    }

    /// Adds one document to the totals.
    pub fn add(&mut self, bytes: u64, tokens: usize, words: usize) {
        self.documents += 1;
        self.bytes += bytes;
        self.tokens += tokens;
        self.words += words;
    }

    /// These totals of the documents with `index_md`, of `index_tokens` tokens, as the index.
    pub fn with_index(self, index_md: &str, index_tokens: usize) -> Statistics {
        self.with_index_digest(&crate::analyse::sha256(index_md.as_bytes()), index_tokens)
    }

    /// [`Statistics::with_index`] for an `INDEX.md` whose SHA-256 is `index_md_sha256`.
    pub fn with_index_digest(self, index_md_sha256: &[u8; 32], index_tokens: usize) -> Statistics {
        Statistics {
            index_tokens,
            index_sha256: crate::output::hex(index_md_sha256),
            saved_percent: super::saved_percent(index_tokens, self.tokens),
            ..self
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
    write_of(
        out,
        index.encoding,
        settings,
        &statistics,
        &navigation,
        index.docs.iter().map(Entry::Doc),
        &mut no_kept_entries,
    )
    .map(drop)
}

/// One doc's object in `INDEX.json`.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// Serialized from its analysis.
    Doc(&'a Doc),
    /// Kept byte for byte from an `INDEX.json` this docidx version wrote with the same
    /// settings: the byte range `[start, end)` of its object there.
    Kept([u64; 2]),
}

/// Copies a kept entry's bytes (its byte range in an earlier `INDEX.json`) into a writer.
pub type CopyKept<'c> = dyn FnMut([u64; 2], &mut dyn std::io::Write) -> std::io::Result<()> + 'c;

/// [`CopyKept`] for a run that keeps no entries.
pub fn no_kept_entries(_: [u64; 2], _: &mut dyn std::io::Write) -> std::io::Result<()> {
    Err(std::io::Error::other("no earlier INDEX.json to copy from"))
}

/// Writes `INDEX.json` with the docs given as entries (in path order; `copy_kept` copies the
/// kept ones), and returns where each doc's object is in it (byte ranges, in the order given).
/// Byte for byte what serde_json's pretty printer writes for the whole [`IndexJson`].
pub fn write_of<'a>(
    out: &mut dyn std::io::Write,
    encoding: Encoding,
    settings: &Settings,
    statistics: &Statistics,
    navigation: &[NavTable],
    docs: impl IntoIterator<Item = Entry<'a>>,
    copy_kept: &mut CopyKept,
) -> std::io::Result<Vec<[u64; 2]>> {
    #[derive(Serialize)]
    struct Head<'a> {
        schema_version: u32,
        generator: Generator,
        encoding: Encoding,
        analysis: Analysis,
        statistics: &'a Statistics,
        navigation: &'a [NavTable],
    }
    let head = Head {
        schema_version: SCHEMA_VERSION,
        generator: Generator {
            name: crate::GENERATOR.into(),
            version: crate::VERSION.into(),
        },
        encoding,
        analysis: Analysis {
            summary_chars: settings.summary_chars,
        },
        statistics,
        navigation,
    };
    let mut text = serde_json::to_vec_pretty(&head)?;
    // `{ … \n}`: the documents go before the closing brace, as the last field.
    debug_assert!(text.ends_with(b"\n}"));
    text.truncate(text.len() - 2);
    text.extend_from_slice(b",\n  \"documents\": [");
    out.write_all(&text)?;
    let mut at = text.len() as u64;
    let mut spans = Vec::new();
    // Documents are serialized in parallel, a batch at a time (a few hundred kilobytes), and
    // written in order; each batch is serialized while the one before it is written.
    const BATCH: usize = 1024;
    let mut docs = docs.into_iter();
    let render = |batch: &[Entry]| -> Vec<Option<Vec<u8>>> {
        batch
            .par_iter()
            .with_max_len(16)
            .map(|entry| match entry {
                Entry::Doc(doc) => Some(nested_object(doc)),
                Entry::Kept(_) => None,
            })
            .collect()
    };
    let mut batch: Vec<Entry> = docs.by_ref().take(BATCH).collect();
    let mut rendered = render(&batch);
    while !batch.is_empty() {
        let next: Vec<Entry> = docs.by_ref().take(BATCH).collect();
        let mut next_rendered = Vec::new();
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| next_rendered = render(&next));
            for (entry, bytes) in batch.iter().zip(rendered) {
                let separator: &[u8] = if spans.is_empty() {
                    b"\n    "
                } else {
                    b",\n    "
                };
                out.write_all(separator)?;
                at += separator.len() as u64;
                let start = at;
                match (entry, bytes) {
                    (Entry::Kept(span), _) => {
                        copy_kept(*span, out)?;
                        at += span[1] - span[0];
                    }
                    (Entry::Doc(_), bytes) => {
                        let bytes = bytes.expect("rendered above");
                        out.write_all(&bytes)?;
                        at += bytes.len() as u64;
                    }
                }
                spans.push([start, at]);
            }
            std::io::Result::Ok(())
        })?;
        (batch, rendered) = (next, next_rendered);
    }
    out.write_all(if spans.is_empty() {
        b"]\n}\n"
    } else {
        b"\n  ]\n}\n"
    })?;
    Ok(spans)
}

/// A document's object as pretty-printed two levels down (in the `documents` array).
fn nested_object(doc: &Doc) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Nested::at(2));
    doc.serialize(&mut serializer).expect("a doc serializes");
    out
}

/// serde_json's pretty layout (two spaces a level) for a value that starts `depth` levels
/// down: what `PrettyFormatter` writes with every line but the first indented by `depth`
/// levels more.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Nested {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(w)?;
        }
        w.write_all(bracket)
    }

    fn new_line<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        w.write_all(b"\n")?;
        let mut left = self.depth * 2;
        while left > 0 {
            let n = left.min(SPACES.len());
            w.write_all(&SPACES[..n])?;
            left -= n;
        }
        Ok(())
    }

    fn item<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.new_line(w)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Parses an `INDEX.json`; `None` if it is not one this version understands.
pub fn parse(bytes: &[u8]) -> Option<IndexJson> {
    let laid_out = match load_from(bytes, |_| true) {
        Ok(Some(OnDisk::Parsed(json))) => Some(json),
        _ => None,
    };
    laid_out
        .or_else(|| serde_json::from_slice(bytes).ok())
        .filter(|j: &IndexJson| j.schema_version == SCHEMA_VERSION)
}

/// What [`load`] found at a path.
#[derive(Debug)]
pub enum OnDisk {
    Missing,
    /// Not an `INDEX.json` this version understands.
    Unreadable,
    Parsed(IndexJson),
    /// One whose analyses cannot be reused (other settings, or another docidx version): its
    /// head, with no documents, and each document's path and SHA-256, in the file's order.
    /// Holding every document would only cost memory.
    Stale {
        head: IndexJson,
        docs: Vec<(String, String)>,
    },
}

/// A document of a stale `INDEX.json`: its path and SHA-256 alone.
#[derive(Deserialize)]
struct Listed {
    path: String,
    sha256: String,
}

/// Reads and parses the `INDEX.json` at `path`.
///
/// One laid out as docidx writes it is read a megabyte at a time, and the documents in each
/// are parsed on all cores (of the current rayon pool), so the file is never held whole. Any
/// other layout (reformatted by hand, say) is read and parsed as a whole, with the same result.
///
/// Its documents are parsed whole only if their analyses can be reused with `settings`
/// ([`reusable_docs`]); otherwise it is [`OnDisk::Stale`].
pub fn load(path: &std::path::Path, settings: &Settings) -> crate::Result<OnDisk> {
    let io = |e| crate::Error::io(path, e);
    let file = match crate::walk::open_regular(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Missing),
        Err(e) => return Err(io(e)),
    };
    let current = |head: &IndexJson| head.schema_version == SCHEMA_VERSION;
    let reusable = |head: &IndexJson| reusable(head, settings);
    if let Some(read) = load_from(file, reusable).map_err(io)? {
        return Ok(match read {
            OnDisk::Parsed(json) | OnDisk::Stale { head: json, .. } if !current(&json) => {
                OnDisk::Unreadable
            }
            read => read,
        });
    }
    let parsed: Option<IndexJson> =
        serde_json::from_slice(&crate::walk::read_regular(path).map_err(io)?).ok();
    Ok(match parsed.filter(current) {
        Some(json) => OnDisk::Parsed(json),
        None => OnDisk::Unreadable,
    })
}

/// Reads an `INDEX.json` laid out as [`write_of`] writes it: the head, then each document's
/// object, found by the line breaks around it (a string cannot hold one). The documents are
/// parsed whole if `whole` says so of the head ([`OnDisk::Parsed`]), otherwise for their path
/// and SHA-256 ([`OnDisk::Stale`]). `None` if it is laid out otherwise or any part does not
/// parse.
fn load_from(
    mut input: impl std::io::Read,
    whole: impl Fn(&IndexJson) -> bool,
) -> std::io::Result<Option<OnDisk>> {
    use std::io::Read;
    const DOCUMENTS: &[u8] = b",\n  \"documents\": [";
    const BETWEEN: &[u8] = b"\n    },\n    {";
    const END: &[u8] = b"\n  ]\n}";
    let mut buf = Vec::new();
    // Appends up to a megabyte; false at the end of the input.
    let mut more = |buf: &mut Vec<u8>| -> std::io::Result<bool> {
        Ok((&mut input).take(1 << 20).read_to_end(buf)? > 0)
    };
    let mut searched = 0;
    let at = loop {
        if let Some(i) = find(&buf[searched..], DOCUMENTS) {
            break searched + i;
        }
        searched = buf.len().saturating_sub(DOCUMENTS.len());
        if !more(&mut buf)? {
            return Ok(None);
        }
    };
    let mut head = buf[..at].to_vec();
    head.extend_from_slice(b"\n}");
    let Ok(mut json) = serde_json::from_slice::<IndexJson>(&head) else {
        return Ok(None);
    };
    drop(head);
    let whole = whole(&json);
    let mut listed = Vec::new();
    let done = |json: IndexJson, listed: Vec<(String, String)>| {
        if whole {
            OnDisk::Parsed(json)
        } else {
            OnDisk::Stale {
                head: json,
                docs: listed,
            }
        }
    };
    buf.drain(..at + DOCUMENTS.len());
    while buf.len() < 5 && more(&mut buf)? {}
    if buf.starts_with(b"]") {
        while more(&mut buf)? {}
        return Ok((buf.trim_ascii_end() == b"]\n}").then(|| done(json, listed)));
    }
    if !buf.starts_with(b"\n    {") {
        return Ok(None);
    }
    buf.drain(.."\n    ".len());
    // `buf` starts at a document's `{`: parse every whole one, then read on.
    loop {
        let mut spans = Vec::new();
        let mut start = 0;
        while let Some(i) = find(&buf[start..], BETWEEN) {
            let end = start + i + "\n    }".len();
            spans.push(start..end);
            start = end + ",\n    ".len();
        }
        let ended = !more(&mut buf)?;
        if ended {
            let Some(last) = buf.trim_ascii_end().strip_suffix(END) else {
                return Ok(None);
            };
            spans.push(start..last.len());
        }
        if whole {
            let docs = spans
                .into_par_iter()
                .map(|span| serde_json::from_slice::<Doc>(&buf[span]).ok())
                .collect::<Option<Vec<Doc>>>();
            let Some(docs) = docs else {
                return Ok(None);
            };
            json.documents.extend(docs);
        } else {
            let docs = spans
                .into_par_iter()
                .map(|span| {
                    let doc = serde_json::from_slice::<Listed>(&buf[span]).ok()?;
                    Some((doc.path, doc.sha256))
                })
                .collect::<Option<Vec<_>>>();
            let Some(docs) = docs else {
                return Ok(None);
            };
            listed.extend(docs);
        }
        if ended {
            return Ok(Some(done(json, listed)));
        }
        // What is left starts at the next document (a separator can straddle the reads).
        buf.drain(..start);
    }
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The documents of a previous `INDEX.json` whose analysis can be reused: written by this
/// docidx version with the same encoding and settings (otherwise none).
pub fn reusable_docs(previous: IndexJson, settings: &Settings) -> Vec<Doc> {
    if reusable(&previous, settings) {
        previous.documents
    } else {
        Vec::new()
    }
}

/// Whether the analyses of an `INDEX.json` with this head can be reused with `settings`.
fn reusable(head: &IndexJson, settings: &Settings) -> bool {
    head.generator.name == crate::GENERATOR
        && head.generator.version == crate::VERSION
        && head.encoding == settings.encoding
        && head.analysis.summary_chars == settings.summary_chars
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `load_from` read, which must be a whole `INDEX.json`.
    fn parsed(read: std::io::Result<Option<OnDisk>>) -> IndexJson {
        match read.unwrap() {
            Some(OnDisk::Parsed(json)) => json,
            other => panic!("not parsed whole: {other:?}"),
        }
    }

    /// The whole `INDEX.json` of `index`, as serde_json would write it in one piece.
    fn whole(
        index: &Index,
        settings: &Settings,
        statistics: Statistics,
        navigation: Vec<NavTable>,
    ) -> IndexJson {
        IndexJson {
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
            documents: index.docs.clone(),
        }
    }

    /// Thousands of docs: INDEX.json is serialized in several batches and read in several
    /// megabyte reads, whose ends fall inside documents; the bytes and the parse are the same.
    #[test]
    fn many_documents_in_batches_and_reads() {
        let settings = Settings {
            encoding: Encoding::Cl100kBase,
            summary_chars: 200,
        };
        let docs: Vec<Doc> = (0..2500)
            .map(|i| {
                let text = format!(
                    "# Doc {i}\n\nAbout thing {i}, with \"quotes\" and ünïcode.\n\n## Part\n\n[next](d{}.md#part)\n",
                    i + 1
                );
                crate::analyse::analyse(&format!("d{i}.md"), text.as_bytes(), &settings).0
            })
            .collect();
        let index = Index {
            encoding: settings.encoding,
            docs,
        };
        let statistics = Statistics::of(&index, "x", 1);
        let written = render(&index, &settings, statistics.clone(), Vec::new());
        assert!(written.len() > 1 << 20, "{}", written.len());
        let whole = whole(&index, &settings, statistics, Vec::new());
        assert_eq!(
            written,
            serde_json::to_string_pretty(&whole).unwrap() + "\n"
        );
        assert_eq!(parsed(load_from(written.as_bytes(), |_| true)), whole);
        // The same on one thread.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = one.install(|| render(&index, &settings, whole.statistics.clone(), Vec::new()));
        assert_eq!(again, written);
        // Cut short, it is not an INDEX.json, whichever way it is read.
        let cut = &written.as_bytes()[..written.len() * 2 / 3];
        assert!(load_from(cut, |_| true).unwrap().is_none());
        assert!(parse(cut).is_none());
    }

    /// `Nested` lays a value out as serde_json's pretty printer does, shifted right by its
    /// depth: empty and full arrays and objects, nested past the 32 levels of its spaces.
    #[test]
    fn nested_layout_is_pretty_layout_shifted() {
        let mut deep = serde_json::json!({"leaf": [1, {}, []]});
        for i in 0..40 {
            deep = serde_json::json!({ format!("k{i}"): [deep, "s\n\"t", null, {"a": []}] });
        }
        for value in [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"a": {}, "b": [], "c": [{}], "d": {"e": [1, 2]}}),
            deep,
        ] {
            for depth in [0, 2, 5] {
                let mut out = Vec::new();
                let mut serializer =
                    serde_json::Serializer::with_formatter(&mut out, Nested::at(depth));
                value.serialize(&mut serializer).unwrap();
                let indent = format!("\n{}", "  ".repeat(depth));
                let expected = serde_json::to_string_pretty(&value)
                    .unwrap()
                    .replace('\n', &indent);
                assert_eq!(String::from_utf8(out).unwrap(), expected);
            }
        }
    }

    /// `write_of` writes, by hand around the documents, what serde_json's pretty printer
    /// writes for the whole file; kept entries are copied where their spans say.
    #[test]
    fn written_by_hand_as_serde_writes_it() {
        let settings = Settings {
            encoding: Encoding::O200kBase,
            summary_chars: 200,
        };
        let docs: Vec<Doc> = [
            (
                "a.md",
                "# A\n\nText with \"quotes\" and a\nbreak. [b](b.md#x)\n",
            ),
            (
                "b.md",
                "---\ntitle: B\ntags: [x, y]\n---\n# B\n\n## X\n\nSome.\n",
            ),
            ("c/d.md", ""),
        ]
        .iter()
        .map(|(path, text)| crate::analyse::analyse(path, text.as_bytes(), &settings).0)
        .collect();
        let navigation = crate::navigation::extract(
            "## By Task\n\n| Task | Read |\n|---|---|\n| Build | [a](a.md) |\n",
            "",
        );
        assert!(!navigation.is_empty());
        for docs in [&docs[..], &docs[..1], &[]] {
            let index = Index {
                encoding: settings.encoding,
                docs: docs.to_vec(),
            };
            let statistics = Statistics::of(&index, "x", 1);
            let whole = whole(&index, &settings, statistics.clone(), navigation.clone());
            let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
            let mut out = Vec::new();
            let spans = write_of(
                &mut out,
                index.encoding,
                &settings,
                &statistics,
                &navigation,
                index.docs.iter().map(Entry::Doc),
                &mut no_kept_entries,
            )
            .unwrap();
            assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
            assert_eq!(parse(&out).unwrap(), whole);
            // Parsed a document at a time; laid out otherwise, as a whole, to the same result.
            assert_eq!(parsed(load_from(&out[..], |_| true)), whole);
            // Stale: the head, and each document's path and SHA-256 alone.
            let Some(OnDisk::Stale { head, docs: listed }) =
                load_from(&out[..], |_| false).unwrap()
            else {
                panic!("a stale INDEX.json is listed");
            };
            assert_eq!(
                head,
                IndexJson {
                    documents: Vec::new(),
                    ..whole.clone()
                }
            );
            let pairs: Vec<(String, String)> = docs
                .iter()
                .map(|d| (d.path.clone(), d.sha256.clone()))
                .collect();
            assert_eq!(listed, pairs);
            let compact = serde_json::to_vec(&whole).unwrap();
            assert!(load_from(&compact[..], |_| true).unwrap().is_none());
            assert_eq!(parse(&compact).unwrap(), whole);
            // Each span holds its doc's object; copying them gives the same file again.
            for (&[a, b], doc) in spans.iter().zip(&index.docs) {
                let bytes = &out[a as usize..b as usize];
                assert_eq!(&serde_json::from_slice::<Doc>(bytes).unwrap(), doc);
            }
            let mut again = Vec::new();
            let respans = write_of(
                &mut again,
                index.encoding,
                &settings,
                &statistics,
                &navigation,
                spans.iter().map(|&span| Entry::Kept(span)),
                &mut |[a, b], w| w.write_all(&out[a as usize..b as usize]),
            )
            .unwrap();
            assert_eq!(again, out);
            assert_eq!(respans, spans);
        }
    }
}
