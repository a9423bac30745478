//! Exact token counts, as OpenAI's tiktoken `encode_ordinary` gives them.
//!
//! A text is cut into the pre-tokenizer's pieces ([`pieces`]: the expression of cl100k_base or
//! o200k_base written out by hand, with the same pieces), and each piece's byte-pair encoding
//! is counted by tiktoken's own merge rule over a compact table of the vocabulary ([`bpe`]).
//! The counts of short pieces already seen are remembered ([`PieceMemo`]). Pieces longer than
//! [`bpe::LONG`] bytes go to `bpe-openai`, whose time is linear in their length. The tests
//! check the counts against `bpe-openai` and `tiktoken-rs`, and `benches/compare_tokens.py`
//! against OpenAI's Python tiktoken on real corpora. Nothing is loaded until a run counts, so
//! a run that reuses every previous analysis never loads a vocabulary.

use crate::config::Encoding;

pub mod bpe;
mod split;
mod table;
pub use split::{pieces, Pieces};

/// The crate whose vocabularies docidx counts with, and whose encoder counts pieces longer than
/// [`bpe::LONG`] bytes (shown by `docidx --version`).
pub const TOKENIZER: &str = "bpe-openai 0.3.2";

/// bpe-openai's encoder for `encoding`, built on first use and shared afterwards: for pieces
/// longer than [`bpe::LONG`] bytes.
fn encoder(encoding: Encoding) -> &'static bpe_openai::Tokenizer {
    match encoding {
        Encoding::O200kBase => bpe_openai::o200k_base(),
        Encoding::Cl100kBase => bpe_openai::cl100k_base(),
    }
}

/// Starts loading the vocabulary of `encoding` and allocating its [`PieceMemo`] on a thread of
/// its own, for a run that will count for sure: both then overlap the walk and the first reads
/// instead of holding up the first count. Counting waits for them as usual; if no thread can
/// be started, the first count does both.
pub fn build_in_background(encoding: Encoding) {
    let _ = std::thread::Builder::new()
        .name("vocabulary".into())
        .spawn(move || {
            bpe::ranks(encoding);
            MEMOS[encoding as usize].slots();
        });
}

/// Texts longer than this are cut at piece boundaries and counted in parallel.
const PARALLEL_CHUNK: usize = 1 << 20;

/// The number of tokens in `text`. Special-token strings such as `<|endoftext|>` count as
/// plain text, as with tiktoken's `encode_ordinary`.
///
/// A long text (a large `INDEX.md`) is cut at line starts that are piece boundaries (see
/// [`is_piece_boundary`]) and its parts are counted on all cores; the sum is exact.
pub fn count(encoding: Encoding, text: &str) -> usize {
    if text.len() <= 2 * PARALLEL_CHUNK {
        return count_pieces(encoding, text);
    }
    use rayon::prelude::*;
    chunks_at_boundaries(text, PARALLEL_CHUNK)
        .par_iter()
        .map(|chunk| count_pieces(encoding, chunk))
        .sum()
}

/// The count of `text` as the tokenizer's own `count` gives it: the sum of the BPE counts of
/// its pre-tokenizer pieces, each short piece looked up in the [`PieceMemo`] first.
fn count_pieces(encoding: Encoding, text: &str) -> usize {
    let ranks = bpe::ranks(encoding);
    let memo = &MEMOS[encoding as usize];
    pieces(encoding, text)
        .map(|piece| match piece.len() {
            0..=bpe::LONG => memo.count(ranks, piece.as_bytes()),
            _ => encoder(encoding).bpe.count(piece.as_bytes()),
        })
        .sum()
}

/// One memo per encoding, shared by every thread, allocated on first use.
static MEMOS: [PieceMemo; 2] = [PieceMemo::new(), PieceMemo::new()];

/// The BPE counts of pieces recently seen, in a fixed-size table indexed by a hash of the piece
/// and shared by every thread.
///
/// A piece's count depends on its bytes alone, so a hit is exact. Words, paths and markup recur
/// so often in docs that most pieces are hits; they skip the BPE step, which is most of the
/// tokenizer's time. A slot holds one piece of up to [`PieceMemo::KEY`] bytes and is
/// overwritten by the next piece that hashes to it, so the memory is bounded (4 MiB). One table
/// for all threads means a piece is counted once per run, not once per thread.
///
/// A slot is four atomic words guarded by a sequence number (a seqlock): a writer makes the
/// number odd, writes, then advances it to the next even number; a reader trusts what it read
/// only if the number was even and unchanged around its reads. A torn or busy slot is a miss,
/// never a wrong count.
struct PieceMemo {
    slots: std::sync::OnceLock<Box<[[AtomicU64; 4]]>>,
}

use std::sync::atomic::{AtomicU64, Ordering};

impl PieceMemo {
    /// The longest piece a slot holds: 32 bytes less the sequence number (4), length and count.
    const KEY: usize = 26;
    const BITS: u32 = 17;
    /// Word 0's bits that hold the piece: its length and first two bytes (not the count).
    const KEY_BITS_0: u64 = 0xFFFF_00FF_0000_0000;

    const fn new() -> PieceMemo {
        PieceMemo {
            slots: std::sync::OnceLock::new(),
        }
    }

    /// A slot that holds no piece: its length byte is 0.
    ///
    /// Its last word is not zero so that the table is written when allocated, not taken as
    /// zeroed memory from the system: a page of that is first read as the shared zero page,
    /// and the first write to it then costs a copy-on-write fault and a TLB flush on every
    /// core that runs one of the process's threads (16% of a cold run's CPU on a 100-doc tree).
    fn empty_slot() -> [AtomicU64; 4] {
        [0, 0, 0, u64::MAX].map(AtomicU64::new)
    }

    /// The table, allocated on first use.
    fn slots(&self) -> &[[AtomicU64; 4]] {
        self.slots.get_or_init(|| {
            std::iter::repeat_with(Self::empty_slot)
                .take(1 << Self::BITS)
                .collect()
        })
    }

    fn count(&self, ranks: &bpe::Ranks, piece: &[u8]) -> usize {
        if piece.is_empty() || piece.len() > Self::KEY {
            return ranks.count(piece);
        }
        let slots = self.slots();
        let hash = {
            use std::hash::Hasher;
            let mut h = rustc_hash::FxHasher::default();
            h.write(piece);
            h.finish()
        };
        // The high bits of an Fx hash are the well-mixed ones.
        let slot = &slots[(hash >> (64 - Self::BITS)) as usize];
        // The piece as a slot holds it: bytes 0..4 the sequence number, 4 the length, 5 the
        // count, then the piece, zero-padded.
        let mut key = [0u8; 32];
        key[4] = piece.len() as u8;
        key[6..6 + piece.len()].copy_from_slice(piece);
        let word =
            |i: usize| u64::from_le_bytes(key[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let words = [word(0), word(1), word(2), word(3)];

        let first = slot[0].load(Ordering::Acquire);
        if first & 1 == 0
            && first & Self::KEY_BITS_0 == words[0]
            && (1..4).all(|i| slot[i].load(Ordering::Relaxed) == words[i])
        {
            std::sync::atomic::fence(Ordering::Acquire);
            if slot[0].load(Ordering::Relaxed) == first {
                return ((first >> 40) & 0xFF) as usize;
            }
        }
        let n = ranks.count(piece);
        // Only a slot nobody is writing is taken; otherwise this piece is just not kept.
        let Ok(n8) = u8::try_from(n) else { return n };
        let seq = first & 0xFFFF_FFFF;
        if seq & 1 == 0
            && slot[0]
                .compare_exchange(first, first | 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            std::sync::atomic::fence(Ordering::Release);
            for i in 1..4 {
                slot[i].store(words[i], Ordering::Relaxed);
            }
            let next = (seq + 2) & 0xFFFF_FFFF;
            slot[0].store(words[0] | (u64::from(n8) << 40) | next, Ordering::Release);
        }
        n
    }
}

/// Token counts of blocks of text, remembered by a digest of the encoding and the block, so a
/// long text (a large `INDEX.md`) that changed in a few blocks is counted in those blocks only.
///
/// A text is cut before each line that starts with `#` and before some list items (see
/// [`starts_block`]), where that is a piece boundary (see [`is_piece_boundary`]), so its count
/// is exactly the sum of its blocks' counts.
#[derive(Debug, Default)]
pub struct BlockMemo {
    known: std::collections::HashMap<String, usize>,
    used: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

impl BlockMemo {
    /// A memo that knows the counts of `known` (as [`BlockMemo::into_used`] gave them).
    pub fn new(known: std::collections::HashMap<String, usize>) -> BlockMemo {
        BlockMemo {
            known,
            used: Default::default(),
        }
    }

    /// The number of tokens in `text`; blocks seen before are not counted again.
    pub fn count(&self, encoding: Encoding, text: &str) -> usize {
        self.blocks(encoding, text, true)
    }

    /// Keeps the known counts of `text`'s blocks for [`BlockMemo::into_used`] without counting
    /// the others: for a text whose whole count is known already.
    pub fn keep(&self, encoding: Encoding, text: &str) {
        self.blocks(encoding, text, false);
    }

    /// The sum of the counts of `text`'s blocks, counting the unknown ones if `count_new`
    /// (otherwise they count 0 and are not kept).
    fn blocks(&self, encoding: Encoding, text: &str, count_new: bool) -> usize {
        use rayon::prelude::*;
        let mut cuts: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes())
            .map(|i| i + 1)
            .filter(|&at| starts_block(text, at) && is_piece_boundary(text, at))
            .collect();
        cuts.insert(0, 0);
        cuts.push(text.len());
        cuts.dedup();
        let counted: Vec<(String, usize)> = cuts
            .par_windows(2)
            .with_max_len(8)
            .filter_map(|w| {
                let block = &text[w[0]..w[1]];
                let key = Self::key(encoding, block);
                match self.known.get(&key) {
                    Some(&n) => Some((key, n)),
                    None if count_new => Some((key, count(encoding, block))),
                    None => None,
                }
            })
            .collect();
        let total = counted.iter().map(|(_, n)| n).sum();
        self.used
            .lock()
            .expect("no thread panics while holding it")
            .extend(counted);
        total
    }

    /// The counts of every block counted or looked up by this memo.
    pub fn into_used(self) -> std::collections::BTreeMap<String, usize> {
        self.used
            .into_inner()
            .expect("no thread panicked while holding it")
    }

    fn key(encoding: Encoding, block: &str) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(encoding.to_string().as_bytes());
        hasher.update(&[0]);
        hasher.update(block.as_bytes());
        crate::output::hex(&hasher.finalize().as_bytes()[..16])
    }
}

/// Whether [`BlockMemo`] cuts a block before the line starting at `at`: before every heading,
/// and before about one list item in 16, chosen by the item's own bytes, so that an edit
/// (of an `INDEX.md` of 40,000 items, say) changes one block of a few kilobytes and moves no
/// other cut.
fn starts_block(text: &str, at: usize) -> bool {
    use std::hash::Hasher;
    let rest = &text.as_bytes()[at..];
    if rest.starts_with(b"#") {
        return true;
    }
    if !rest.starts_with(b"- ") {
        return false;
    }
    // Only a list item's line is looked at whole, to hash it.
    let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
    let mut h = rustc_hash::FxHasher::default();
    h.write(line);
    // The high bits: the multiplying hash mixes them best.
    h.finish() >> 60 == 0
}

/// `text` cut into consecutive parts of about `size` bytes, each cut at a piece boundary (a
/// part grows past `size` until one is found).
fn chunks_at_boundaries(text: &str, size: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while text.len() - start > size {
        let from = start + size;
        let cut = text.as_bytes()[from..]
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| from + i + 1)
            .find(|&at| is_piece_boundary(text, at));
        match cut {
            Some(at) if at < text.len() => {
                chunks.push(&text[start..at]);
                start = at;
            }
            _ => break,
        }
    }
    chunks.push(&text[start..]);
    chunks
}

/// Token counts of a text cut into consecutive spans, computed by tokenizing every byte once.
///
/// The pre-tokenizer of both encodings never joins two characters into one piece across the
/// start of a line whose first character is neither whitespace nor `/` (see [`is_piece_boundary`]),
/// and BPE never merges across pieces. So where every cut is at such a line start, the count of
/// the whole text is the sum of the counts of its spans. Cuts that are not at such a boundary are
/// handled exactly too, by counting across them.
#[derive(Debug, Clone)]
pub struct SpanCounts {
    /// Sorted cut offsets, including 0 and the text's length.
    cuts: Vec<usize>,
    /// For each cut, whether it is a piece boundary.
    safe: Vec<bool>,
    /// Tokens between consecutive safe cuts, indexed by the position of the left safe cut.
    between_safe: Vec<usize>,
    total: usize,
}

impl SpanCounts {
    /// Counts `text` once, cut at `cuts` (byte offsets; unsorted, duplicates and out-of-range
    /// offsets are tolerated).
    pub fn new(encoding: Encoding, text: &str, cuts: &[usize]) -> SpanCounts {
        let mut all: Vec<usize> = Vec::with_capacity(cuts.len() + 2);
        all.push(0);
        all.extend(cuts.iter().copied().filter(|&c| c > 0 && c < text.len()));
        all.push(text.len());
        all.sort_unstable();
        all.dedup();
        let safe: Vec<bool> = all
            .iter()
            .map(|&c| c == 0 || c == text.len() || is_piece_boundary(text, c))
            .collect();
        let mut between_safe = vec![0; all.len()];
        let mut total = 0;
        let mut left = 0;
        for i in 1..all.len() {
            if safe[i] {
                let n = count(encoding, &text[all[left]..all[i]]);
                between_safe[left] = n;
                total += n;
                left = i;
            }
        }
        SpanCounts {
            cuts: all,
            safe,
            between_safe,
            total,
        }
    }

    /// Tokens in the whole text.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Tokens in `text[start..end]`, where `start` and `end` are cuts given to [`SpanCounts::new`]
    /// (or 0 and the text's length). Exactly `count(&text[start..end])`.
    pub fn span(&self, encoding: Encoding, text: &str, start: usize, end: usize) -> usize {
        let (Ok(a), Ok(b)) = (
            self.cuts.binary_search(&start),
            self.cuts.binary_search(&end),
        ) else {
            return count(encoding, &text[start..end]);
        };
        if !(self.safe[a] && self.safe[b]) {
            return count(encoding, &text[start..end]);
        }
        (a..b)
            .filter(|&i| self.safe[i])
            .map(|i| self.between_safe[i])
            .sum()
    }
}

/// Whether no pre-tokenizer piece of cl100k_base or o200k_base spans byte offset `at` of `text`.
///
/// True where `at` starts a line (it follows `\n` or `\r`) whose first character is not
/// whitespace and not `/`. Every piece that can contain a line break either ends at the last
/// line break of a whitespace run (`\s*[\r\n]+`), is made only of whitespace, or (o200k only)
/// ends in `[\r\n/]*`; letter, number and punctuation pieces cannot start with a line break.
pub fn is_piece_boundary(text: &str, at: usize) -> bool {
    if at == 0 || at >= text.len() || !text.is_char_boundary(at) {
        return at == 0 || at == text.len();
    }
    let before = text.as_bytes()[at - 1];
    if before != b'\n' && before != b'\r' {
        return false;
    }
    match text[at..].chars().next() {
        Some(c) => !(c.is_whitespace() || c == '/'),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiktoken(encoding: Encoding, text: &str) -> usize {
        let bpe = match encoding {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        };
        bpe.encode_ordinary(text).len()
    }

    const SAMPLES: &[&str] = &[
        "",
        "hello world",
        "# Title\n\nSome text with <|endoftext|> inside.\n",
        "Ünïcödé — “quotes” 日本語のテキスト 🚀🎉\r\n\r\n## Next\r\n",
        "   leading spaces\n\n\n\ttabs\t\n  \n",
        "```rust\nfn main() { println!(\"hi\"); }\n```\n",
        "path/to/file\n/usr/bin\n//comment\n",
        "numbers 1234567 and 3.14159, 'll 've 'S",
    ];

    #[test]
    fn counts_match_tiktoken() {
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            for text in SAMPLES {
                assert_eq!(
                    count(encoding, text),
                    tiktoken(encoding, text),
                    "{encoding} {text:?}"
                );
            }
        }
    }

    #[test]
    fn span_counts_sum_to_whole_count_at_every_line_start() {
        let text = "intro\n# A\ntext\n  # indented\n\n## B\n/slash\n\n  \nend\n# C";
        let cuts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let spans = SpanCounts::new(encoding, text, &cuts);
            assert_eq!(spans.total(), count(encoding, text));
            for (i, &a) in cuts.iter().enumerate() {
                for &b in &cuts[i + 1..] {
                    assert_eq!(
                        spans.span(encoding, text, a, b),
                        count(encoding, &text[a..b])
                    );
                }
            }
        }
    }

    #[test]
    fn tokenizer_name_matches_the_locked_version() {
        let lock = include_str!("../../../../Cargo.lock");
        let version = TOKENIZER.strip_prefix("bpe-openai ").unwrap();
        assert!(lock.contains(&format!("name = \"bpe-openai\"\nversion = \"{version}\"")));
    }

    #[test]
    fn long_texts_counted_in_parallel_parts_match_tiktoken() {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 5 * PARALLEL_CHUNK {
            text.push_str(&format!(
                "## Section {i}\n\n- [Doc {i}](d/{i}.md) — a summary, (1,234 tokens)\n  /path\n\n"
            ));
            i += 1;
        }
        let parts = chunks_at_boundaries(&text, PARALLEL_CHUNK);
        assert!(parts.len() >= 4);
        assert_eq!(parts.concat(), text);
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            assert_eq!(count(encoding, &text), tiktoken(encoding, &text));
        }
    }

    #[test]
    fn memoized_counts_match_the_tokenizer_when_pieces_collide() {
        // Far more distinct pieces than the memo has slots, each seen twice, with lengths
        // around the longest piece the memo keeps.
        let mut text = String::new();
        for i in 0..200_000u32 {
            let word = format!("{}", i.wrapping_mul(2_654_435_761));
            let long = "x".repeat((i % 40) as usize);
            text.push_str(&format!(" w{word}{long} ü{i} {word}\n"));
        }
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let plain = encoder(encoding).count(text.as_str());
            assert_eq!(
                count_pieces(encoding, &text),
                plain,
                "{encoding}, first pass"
            );
            assert_eq!(
                count_pieces(encoding, &text),
                plain,
                "{encoding}, memo full"
            );
        }
    }

    #[test]
    fn block_memo_counts_exactly_and_reuses_blocks() {
        let text =
            "intro\n# A\nalpha beta\n## B\n#not a heading but a boundary\n  # indented\n# C\nend";
        let edited = text.replace("alpha beta", "alpha gamma delta");
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let first = BlockMemo::default();
            assert_eq!(first.count(encoding, text), count(encoding, text));
            let used = first.into_used();
            assert_eq!(used.len(), 5, "{used:?}");
            let second = BlockMemo::new(used.clone().into_iter().collect());
            assert_eq!(second.count(encoding, &edited), count(encoding, &edited));
            let after = second.into_used();
            assert_eq!(after.len(), 5);
            assert_eq!(after.keys().filter(|k| !used.contains_key(*k)).count(), 1);
        }
        // Keeping without counting: the known blocks stay, the unknown one is left out.
        let memo = BlockMemo::new(BlockMemo::default().tap(text));
        memo.keep(
            Encoding::O200kBase,
            &text.replace("alpha beta", "alpha gamma"),
        );
        assert_eq!(memo.into_used().len(), 4);
        // A stored count is trusted for its block: a wrong one shows it was used.
        let mut lie: std::collections::HashMap<String, usize> = BlockMemo::default().tap(text);
        for n in lie.values_mut() {
            *n += 1;
        }
        let n = lie.len();
        assert_eq!(
            BlockMemo::new(lie).count(Encoding::O200kBase, text),
            count(Encoding::O200kBase, text) + n
        );
    }

    #[test]
    fn block_memo_recounts_only_the_edited_part_of_a_long_list() {
        let items: Vec<String> = (0..2000)
            .map(|i| format!("- [Doc {i}](d/{i}.md) — about thing {i} (1{i} tokens)\n"))
            .collect();
        let text = format!("### d/\n\n{}\n", items.concat());
        let edited = text.replace("about thing 1000 ", "about another thing 1000 ");
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let first = BlockMemo::default();
            assert_eq!(first.count(encoding, &text), count(encoding, &text));
            let used = first.into_used();
            // About one item in 16 starts a block.
            assert!((60..250).contains(&used.len()), "{}", used.len());
            let second = BlockMemo::new(used.clone().into_iter().collect());
            assert_eq!(second.count(encoding, &edited), count(encoding, &edited));
            let after = second.into_used();
            assert_eq!(after.keys().filter(|k| !used.contains_key(*k)).count(), 1);
        }
    }

    impl BlockMemo {
        fn tap(self, text: &str) -> std::collections::HashMap<String, usize> {
            self.count(Encoding::O200kBase, text);
            self.into_used().into_iter().collect()
        }
    }

    #[test]
    fn piece_boundaries() {
        assert!(is_piece_boundary("a\n# b", 2));
        assert!(!is_piece_boundary("a\n/b", 2));
        assert!(!is_piece_boundary("a\n b", 2));
        assert!(!is_piece_boundary("ab", 1));
        assert!(is_piece_boundary("ab", 0));
        assert!(is_piece_boundary("ab", 2));
    }
}
