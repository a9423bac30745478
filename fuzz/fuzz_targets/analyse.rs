//! Arbitrary bytes as a document: `analyse` must never panic, whatever the bytes, and what it
//! returns must survive the trip through `INDEX.json` (the cache the next run reads back).
#![no_main]

use docidx::analyse::{analyse, Settings};
use docidx::{Doc, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the settings, so both encodings and tiny summaries are fuzzed too.
    let (encoding, summary_chars) = match data.first() {
        Some(b) if b & 1 == 1 => (Encoding::Cl100kBase, usize::from(b >> 1)),
        Some(b) => (Encoding::O200kBase, usize::from(b >> 1) + 100),
        None => (Encoding::O200kBase, 160),
    };
    let settings = Settings {
        encoding,
        summary_chars,
    };
    let (doc, _warnings) = analyse("fuzz/doc.md", data, &settings);

    // Sections and links lie within the document.
    let last = doc.lines.max(1);
    for s in &doc.sections {
        assert!(1 <= s.start_line && s.start_line <= s.end_line && s.end_line <= last);
        assert!(
            s.tokens <= doc.tokens,
            "a section has no more tokens than its doc"
        );
    }
    for l in &doc.links {
        assert!(1 <= l.line && l.line <= last && l.column >= 1);
    }
    assert_eq!(doc.bytes, data.len() as u64);

    // INDEX.json keeps the analysis; a later run must be able to read it back.
    let json = serde_json::to_string(&doc).expect("a Doc serializes");
    if let Err(e) = serde_json::from_str::<Doc>(&json) {
        panic!("INDEX.json could not be read back: {e}");
    }
});
