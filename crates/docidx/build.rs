//! Writes the vocabularies of cl100k_base and o200k_base, taken from bpe-openai, as compact
//! tables that `tokens::bpe` embeds: each token's bytes, in rank order.
//!
//! Format: the number of tokens (u32, little-endian), then each token's end offset (u32), then
//! all tokens' bytes concatenated.

use std::io::Write;

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (name, tokenizer) in [
        ("cl100k_base", bpe_openai::cl100k_base()),
        ("o200k_base", bpe_openai::o200k_base()),
    ] {
        let bpe = &tokenizer.bpe;
        let count = bpe.num_tokens();
        let mut table = Vec::new();
        table.extend_from_slice(
            &u32::try_from(count)
                .expect("fewer than 2^32 tokens")
                .to_le_bytes(),
        );
        let mut end = 0u32;
        for rank in 0..count {
            end += u32::try_from(bpe.token_len(rank as u32)).expect("a short token");
            table.extend_from_slice(&end.to_le_bytes());
        }
        for rank in 0..count {
            table.extend_from_slice(bpe.token_bytes(rank as u32));
        }
        std::fs::File::create(out.join(format!("{name}.ranks")))
            .and_then(|mut f| f.write_all(&table))
            .expect("OUT_DIR is writable");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
