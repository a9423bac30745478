//! Arbitrary text as a hand-written INDEX.md: finding token claims and rewriting their numbers
//! must never panic, must change nothing but the numbers, and the rewritten claims must be
//! found again with their new values.
#![no_main]

use docidx::claims::{self, Claim};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first 8 bytes seed the new counts; the rest is the text.
    if data.len() < 8 {
        return;
    }
    let (seed, text) = data.split_at(8);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let mut seed = u64::from_le_bytes(seed.try_into().expect("8 bytes"));
    let found = claims::find(text);
    let new: Vec<(&Claim, String)> = found
        .iter()
        .map(|c| {
            // xorshift: counts from 0 to a few million, some with thousands separators.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 5_000_000) as usize >> (seed % 23);
            (c, claims::format_count(c, n))
        })
        .collect();
    let out = claims::replace_numbers(text, &new);

    // Nothing but the numbers changed.
    let mut at_text = 0;
    let mut at_out = 0;
    for (c, number) in &new {
        let kept = &text[at_text..c.number.start];
        assert_eq!(&out[at_out..at_out + kept.len()], kept);
        at_out += kept.len() + number.len();
        at_text = c.number.end;
    }
    assert_eq!(&out[at_out..], &text[at_text..]);

    // The same claims are found again, with the new numbers.
    let again = claims::find(&out);
    let values: Vec<usize> = again.iter().map(|c| c.value).collect();
    let wanted: Vec<usize> = new
        .iter()
        .map(|(_, n)| {
            n.replace(',', "")
                .parse()
                .expect("format_count writes digits")
        })
        .collect();
    assert_eq!(values, wanted, "claims after the rewrite");
});
