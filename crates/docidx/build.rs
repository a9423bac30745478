//! Writes the vocabularies of cl100k_base and o200k_base, taken from bpe-openai, as tables that
//! `tokens::bpe` embeds and uses where they lie: every token's rank by its bytes, in a hash map
//! laid out here, so that a run builds nothing before it counts. The layout is described and
//! shared in `src/tokens/table.rs`.

use std::io::Write;

mod table {
    include!("src/tokens/table.rs");
}

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (name, tokenizer) in [
        ("cl100k_base", bpe_openai::cl100k_base()),
        ("o200k_base", bpe_openai::o200k_base()),
    ] {
        let bpe = &tokenizer.bpe;
        let tokens: Vec<&[u8]> = (0..bpe.num_tokens())
            .map(|rank| bpe.token_bytes(rank as u32))
            .collect();
        std::fs::File::create(out.join(format!("{name}.ranks")))
            .and_then(|mut f| f.write_all(&table_of(&tokens)))
            .expect("OUT_DIR is writable");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/tokens/table.rs");
}

/// The table of `tokens`, given in rank order.
fn table_of(tokens: &[&[u8]]) -> Vec<u8> {
    let rank_of = |rank: usize| u32::try_from(rank).expect("fewer than 2^32 tokens");
    let short = tokens
        .iter()
        .filter(|t| (1..=table::SHORT).contains(&t.len()))
        .count();
    // At most half the slots full: a search for a missing token, the common case when merging,
    // then stops after about two slots.
    let bits = (2 * short).next_power_of_two().trailing_zeros();
    let mut keys = vec![(0u64, 0u64); 1 << bits];
    let mut ranks = vec![u32::MAX; 1 << bits];
    let mut pairs = vec![u32::MAX; 1 << 16];
    let mut long = Vec::new();
    for (rank, &token) in tokens.iter().enumerate() {
        if let &[a, b] = token {
            pairs[usize::from(u16::from_be_bytes([a, b]))] = rank_of(rank);
        }
        if token.len() > table::SHORT {
            long.push((rank_of(rank), token));
            continue;
        }
        let key = table::packed(token);
        let mut slot = table::first_slot(key, bits);
        while keys[slot] != (0, 0) {
            assert_ne!(keys[slot], key, "a token appears twice");
            slot = (slot + 1) & ((1 << bits) - 1);
        }
        keys[slot] = key;
        ranks[slot] = rank_of(rank);
    }

    let mut table = Vec::new();
    // A header of 16 bytes, so that keys do not straddle cache lines.
    for word in [bits, table::FORMAT, 0, 0] {
        table.extend(word.to_le_bytes());
    }
    for word in keys.into_iter().flat_map(|(lo, hi)| [lo, hi]) {
        table.extend(word.to_le_bytes());
    }
    let mut end = 0;
    let long_entries = long.iter().flat_map(|&(rank, token)| {
        end += token.len();
        [rank, rank_of(end)]
    });
    let words = ranks
        .into_iter()
        .chain(pairs)
        .chain([rank_of(long.len())])
        .chain(long_entries);
    for word in words {
        table.extend(word.to_le_bytes());
    }
    for (_, token) in &long {
        table.extend_from_slice(token);
    }
    table
}
