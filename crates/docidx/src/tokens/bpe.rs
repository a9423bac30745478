//! Byte-pair encoding counts by tiktoken's own merge rule, over a compact table of ranks.
//!
//! bpe-openai's encoders are fast on any input, but hold 15 (cl100k_base) to 32 (o200k_base)
//! MB of precomputed automata, mapped from the binary, and as much again once loaded: a run
//! that counted with o200k_base peaked 60 MB higher than one that did not. docidx counts the
//! pieces of ordinary text with [`Ranks`] instead: each token's rank by its bytes, taken from
//! bpe-openai's vocabularies at build time (`build.rs`) and laid out there as a hash map that
//! is used where it lies in the binary (see `table.rs`), so nothing is built before counting.
//! It merges as tiktoken does: the adjacent pair whose merged bytes have the lowest rank first,
//! the leftmost on a tie, until no pair is a token. That takes time quadratic in a piece's
//! length, so pieces longer than [`LONG`] bytes (never seen in prose; a 4 MB line of base64 can
//! hold one) go to bpe-openai, whose encoder is then built.

use rustc_hash::FxHashMap;

use super::table::{first_slot, packed, FORMAT, SHORT};
use crate::config::Encoding;

/// Pieces longer than this are counted by bpe-openai, in time linear in their length.
pub const LONG: usize = 4096;

/// Pieces longer than this are merged with a heap (time `n log n`), shorter ones by scanning
/// for the lowest rank as tiktoken does (time `n²`, less work when `n` is small).
const SCANNED: usize = 64;

/// The rank of every token of an encoding, by its bytes.
pub struct Ranks {
    /// The short-token map has `1 << bits` slots.
    bits: u32,
    /// Each slot's key: a token of up to [`SHORT`] bytes packed in two words ([`packed`]), so
    /// that a lookup compares two integers where a slice key would call `memcmp`.
    keys: &'static [u8],
    /// Each slot's rank.
    short_ranks: &'static [u8],
    /// The rank of every two-byte token, by its bytes as a big-endian `u16` (`u32::MAX`: none):
    /// the first step of every merge looks up each adjacent pair of bytes.
    pairs: &'static [u8],
    /// Longer tokens (1,030 in cl100k_base, 5,492 in o200k_base), in a map built on first use.
    long: FxHashMap<&'static [u8], u32>,
}

/// Bytes aligned to a cache line.
#[repr(C, align(64))]
struct Aligned<B: ?Sized>(B);

/// The tables `build.rs` wrote (see `table.rs`).
static TABLES: [&Aligned<[u8]>; 2] = [
    &Aligned(*include_bytes!(concat!(
        env!("OUT_DIR"),
        "/o200k_base.ranks"
    ))),
    &Aligned(*include_bytes!(concat!(
        env!("OUT_DIR"),
        "/cl100k_base.ranks"
    ))),
];

/// The ranks of `encoding`, ready on first use (well under a millisecond: only the map of long
/// tokens is built).
pub fn ranks(encoding: Encoding) -> &'static Ranks {
    static RANKS: [std::sync::OnceLock<Ranks>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let index = match encoding {
        Encoding::O200kBase => 0,
        Encoding::Cl100kBase => 1,
    };
    RANKS[index].get_or_init(|| Ranks::load(&TABLES[index].0))
}

/// The little-endian `u32` at `at`.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The little-endian `u64` at `at`.
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

impl Ranks {
    fn load(table: &'static [u8]) -> Ranks {
        assert_eq!(
            u32_at(table, 4),
            FORMAT,
            "the vocabulary table was written by another version of build.rs: rebuild docidx"
        );
        let bits = u32_at(table, 0);
        let (keys, rest) = table[16..].split_at(16 << bits);
        let (short_ranks, rest) = rest.split_at(4 << bits);
        let (pairs, rest) = rest.split_at(4 << 16);
        let count = u32_at(rest, 0) as usize;
        let bytes = &rest[4 + 8 * count..];
        let mut long = FxHashMap::with_capacity_and_hasher(count, Default::default());
        let mut start = 0;
        for k in 0..count {
            let end = u32_at(rest, 8 + 8 * k) as usize;
            long.insert(&bytes[start..end], u32_at(rest, 4 + 8 * k));
            start = end;
        }
        Ranks {
            bits,
            keys,
            short_ranks,
            pairs,
            long,
        }
    }

    fn rank(&self, bytes: &[u8]) -> u32 {
        match bytes {
            &[a, b] => u32_at(self.pairs, 4 * usize::from(u16::from_be_bytes([a, b]))),
            [] => u32::MAX,
            _ if bytes.len() <= SHORT => self.short_rank(packed(bytes)),
            _ => self.long.get(bytes).copied().unwrap_or(u32::MAX),
        }
    }

    /// The rank of the short token `key` ([`packed`]), or `u32::MAX`: probes from the key's
    /// first slot to the key or an empty slot, whose second word is zero.
    fn short_rank(&self, key: (u64, u64)) -> u32 {
        let mask = (1 << self.bits) - 1;
        let mut slot = first_slot(key, self.bits);
        loop {
            let hi = u64_at(self.keys, 16 * slot + 8);
            if hi == key.1 && u64_at(self.keys, 16 * slot) == key.0 {
                return u32_at(self.short_ranks, 4 * slot);
            }
            if hi == 0 {
                return u32::MAX;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The number of tokens in the vocabulary.
    #[cfg(test)]
    fn len(&self) -> usize {
        let short = (0..1 << self.bits)
            .filter(|&slot| u64_at(self.keys, 16 * slot + 8) != 0)
            .count();
        short + self.long.len()
    }

    /// The number of tokens of `piece`, one pre-tokenizer piece of at most [`LONG`] bytes.
    pub fn count(&self, piece: &[u8]) -> usize {
        // Every byte is a token; so is any piece in the vocabulary (tiktoken looks it up first).
        if piece.len() <= 1 || self.rank(piece) != u32::MAX {
            return piece.len().min(1);
        }
        if piece.len() > SCANNED {
            return self.count_with_heap(piece);
        }
        // The parts start at `starts[k]` (the last entry is the piece's end), and `pairs[k]`
        // is the rank of parts k and k + 1 merged. On the stack: at most SCANNED bytes.
        let n = piece.len();
        let mut starts = [0u8; SCANNED + 1];
        let mut pairs = [u32::MAX; SCANNED];
        for (k, start) in starts.iter_mut().enumerate().take(n + 1) {
            *start = k as u8;
        }
        for k in 0..n - 1 {
            pairs[k] = self.rank(&piece[k..k + 2]);
        }
        let at = |starts: &[u8; SCANNED + 1], k: usize| usize::from(starts[k]);
        // The number of parts; `starts` holds parts + 1 entries, `pairs` parts - 1.
        let mut parts = n;
        loop {
            let mut best = (u32::MAX, 0);
            for (k, &rank) in pairs[..parts - 1].iter().enumerate() {
                if rank < best.0 {
                    best = (rank, k);
                }
            }
            let (rank, k) = best;
            if rank == u32::MAX {
                return parts;
            }
            // Parts k and k + 1 become one.
            starts.copy_within(k + 2..parts + 1, k + 1);
            pairs.copy_within(k + 1..parts - 1, k);
            parts -= 1;
            if k + 1 < parts {
                pairs[k] = self.rank(&piece[at(&starts, k)..at(&starts, k + 2)]);
            }
            if k > 0 {
                pairs[k - 1] = self.rank(&piece[at(&starts, k - 1)..at(&starts, k + 1)]);
            }
        }
    }

    /// [`Ranks::count`] for a long piece: the same merges in the same order, the lowest rank
    /// first and the leftmost on a tie, found with a heap of the pairs instead of a scan.
    ///
    /// A part is known by the offset it starts at; `next[start]` is where it ends. A pair is
    /// pushed as (rank, start, end): the part at `start` and the one after it, ending at `end`.
    /// Parts only grow, so when either part of a pair changes, its end moves and the pushed
    /// entry is stale; it is dropped when it comes up.
    fn count_with_heap(&self, piece: &[u8]) -> usize {
        use std::cmp::Reverse;
        let n = piece.len();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut heap = std::collections::BinaryHeap::with_capacity(n);
        let push = |heap: &mut std::collections::BinaryHeap<_>, start: usize, end: usize| {
            let rank = self.rank(&piece[start..end]);
            if rank != u32::MAX {
                heap.push(Reverse((rank, start, end)));
            }
        };
        for start in 0..n - 1 {
            push(&mut heap, start, start + 2);
        }
        let mut parts = n;
        while let Some(Reverse((_, start, end))) = heap.pop() {
            // Stale unless the part at `start` still exists and it and the next end at `end`.
            let second = next[start];
            if prev.get(second).is_none_or(|&p| p != start) || next[second] != end {
                continue;
            }
            next[start] = end;
            prev[second] = usize::MAX;
            if end < n {
                prev[end] = start;
                push(&mut heap, start, next[end]);
            }
            if let Some(&before) = prev.get(start).filter(|&&p| p != usize::MAX) {
                push(&mut heap, before, end);
            }
            parts -= 1;
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpe_openai(encoding: Encoding) -> &'static bpe_openai::Tokenizer {
        match encoding {
            Encoding::O200kBase => bpe_openai::o200k_base(),
            Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        }
    }

    #[test]
    fn packed_words_are_the_bytes_and_their_length() {
        // What `packed` must equal: the bytes copied into 16, the length in the last.
        let copied = |bytes: &[u8]| {
            let mut all = [0u8; 16];
            all[..bytes.len()].copy_from_slice(bytes);
            all[15] = bytes.len() as u8;
            let word = |at: usize| u64::from_le_bytes(all[at..at + 8].try_into().unwrap());
            (word(0), word(8))
        };
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..20_000 {
            let len = 1 + round % SHORT;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Zero bytes often, so that padding could be mistaken for them.
                    if seed.is_multiple_of(4) {
                        0
                    } else {
                        (seed >> 32) as u8
                    }
                })
                .collect();
            assert_eq!(packed(&bytes), copied(&bytes), "{bytes:?}");
        }
        assert_ne!(packed(b"a"), packed(b"a\0"));
    }

    #[test]
    fn every_token_has_its_rank_and_other_bytes_none() {
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let bpe = &bpe_openai(encoding).bpe;
            let ranks = ranks(encoding);
            assert_eq!(ranks.len(), bpe.num_tokens());
            for rank in 0..bpe.num_tokens() as u32 {
                assert_eq!(ranks.rank(bpe.token_bytes(rank)), rank, "{encoding} {rank}");
            }
            // Byte strings that are no token, of every length the short map holds, and longer.
            for len in 3..=40 {
                let bytes = vec![0xFF; len];
                assert_eq!(ranks.rank(&bytes), u32::MAX, "{encoding} {len}");
            }
        }
    }

    #[test]
    fn counts_equal_bpe_openai_on_pieces_of_every_kind() {
        let text = "Hello, world! The quick brown fox's 12345 jumps — über naïve café \
                    日本語のテキスト 🚀🎉 <|endoftext|> ```rust\nfn main() {}\n``` \
                    supercalifragilisticexpialidocious antidisestablishmentarianism \
                    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ..........,,,,,,;;;;;; \
                    QmFzZTY0IGlzIG5vdCBwcm9zZQ== 0x7fffffffffffffff";
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let bpe = &bpe_openai(encoding).bpe;
            let ranks = ranks(encoding);
            for piece in super::super::pieces(encoding, text) {
                assert_eq!(
                    ranks.count(piece.as_bytes()),
                    bpe.count(piece.as_bytes()),
                    "{encoding} {piece:?}"
                );
            }
            // Long runs, as single pieces (letters, marks, CJK, emoji, punctuation), on both
            // sides of the length where the heap takes over from the scan.
            for len in [SCANNED - 1, SCANNED, SCANNED + 1, 300, LONG] {
                for unit in ["a", "ab", "abc ", "日本", "🚀", "\u{301}", "=", "Ünï"] {
                    let piece = unit.repeat(len / unit.len() + 1);
                    let piece = &piece.as_bytes()[..len];
                    assert_eq!(
                        ranks.count(piece),
                        bpe.count(piece),
                        "{encoding} {len} {unit:?}"
                    );
                }
            }
            // Arbitrary bytes, not only UTF-8.
            let mut seed = 0x2545_F491_4F6C_DD1Du64;
            for len in 0..600 {
                // Mostly short; every tenth over the heap's threshold, from few distinct bytes
                // so that ties and long merges are common.
                let (len, spread) = match len % 10 {
                    0 => (SCANNED + len, (u64::from(b'a'), 4)),
                    _ => (len % 40, (0, 256)),
                };
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (spread.0 + (seed >> 24) % spread.1) as u8
                    })
                    .collect();
                assert_eq!(
                    ranks.count(&bytes),
                    bpe.count(&bytes),
                    "{encoding} {bytes:?}"
                );
            }
        }
    }
}
