//! Arbitrary text cut into the tokenizer's pieces: docidx's hand-written pre-tokenizers must
//! give exactly the pieces of the regular expressions bpe-openai (and tiktoken) use.
#![no_main]

use docidx::{tokens, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (encoding, regex) in [
        (Encoding::Cl100kBase, bpe_openai::cl100k_base()),
        (Encoding::O200kBase, bpe_openai::o200k_base()),
    ] {
        let ours: Vec<&str> = tokens::pieces(encoding, text).collect();
        let theirs: Vec<&str> = regex.split(text).collect();
        assert_eq!(ours, theirs, "{encoding}");
    }
});
