// The layout of the vocabulary tables that `build.rs` writes and `tokens::bpe` reads, shared by
// both: `build.rs` includes this file with `include!`, which is why it has no inner doc comment.
//
// A table holds, for one encoding, every token's rank by its bytes, ready to use as it lies in
// the binary: nothing is built when a run starts counting. All numbers are little-endian.
//
// - `bits` (u32): the short-token map has `1 << bits` slots; then [`FORMAT`] (u32) and 8 zero
//   bytes. The table is embedded at an address that is a multiple of 64, so no key straddles
//   two cache lines.
// - The keys of the slots, 16 bytes each: a token of 1 to `SHORT` bytes as [`packed`] gives it
//   (two u64), or two zero words for an empty slot. A token sits in the first free slot at or
//   after [`first_slot`], wrapping around (linear probing); at most half the slots are full.
// - The rank of each slot's token (u32).
// - The rank of every two-byte token by its bytes as a big-endian u16 (u32, `u32::MAX`: none):
//   65,536 entries.
// - The number of longer tokens (u32), then each one's rank and end offset (two u32), then
//   their bytes, concatenated.

/// Names this layout, so that a table left by an older build script is refused, not misread.
pub const FORMAT: u32 = 0x646f_6302;

/// The longest token kept in the short-token map: 15 bytes and its length fill two words.
pub const SHORT: usize = 15;

/// `bytes` (1 to [`SHORT`] of them) as two little-endian words: the bytes from the low end,
/// zero-padded, and the length in the top byte. Two different byte strings never give the same
/// words, and the second word is never zero. Read with overlapping loads, not copied byte by
/// byte.
pub fn packed(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    debug_assert!((1..=SHORT).contains(&n));
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            bytes[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let (lo, hi) = match n {
        // The first eight bytes, and the last ones shifted down to follow them.
        9.. => (word(0), word(n - 8) >> (8 * (16 - n))),
        8 => (word(0), 0),
        // Two overlapping halves: a byte they share is the same byte, at the same place.
        4..=7 => (half(0) | half(n - 4) << (8 * (n - 4)), 0),
        _ => (
            u64::from(bytes[0])
                | u64::from(bytes[n / 2]) << (8 * (n / 2))
                | u64::from(bytes[n - 1]) << (8 * (n - 1)),
            0,
        ),
    };
    (lo, hi | (n as u64) << 56)
}

/// The slot where the search for `key` starts, in a map of `1 << bits` slots: the top bits of a
/// multiplicative hash of both words.
pub fn first_slot(key: (u64, u64), bits: u32) -> usize {
    let hash =
        (key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ key.1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (hash >> (64 - bits)) as usize
}
