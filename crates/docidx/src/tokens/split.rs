//! The pre-tokenizers of cl100k_base and o200k_base, written out by hand.
//!
//! Before BPE, tiktoken cuts a text into pieces with a regular expression, and bpe-openai does
//! the same with `regex-automata`; matching it took about a third of docidx's counting time.
//! [`pieces`] gives exactly the same pieces. At each position it tries the expression's
//! alternatives in their order, each written as the match a backtracking engine settles on,
//! which is also the match `regex` gives (leftmost-first). Characters are classified with the
//! `regex` crate's own Unicode tables (through `regex-syntax`), so `\p{L}`, `\p{N}`, `\s` and
//! the rest mean here what they mean in the expression.
//!
//! cl100k_base's expression:
//!
//! ```text
//! (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
//! |\s*[\r\n]+|\s+(?!\S)|\s+
//! ```
//!
//! o200k_base's differs in its first alternatives, which split words at case changes, and in
//! letting `/` follow punctuation's line breaks:
//!
//! ```text
//! [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```

use crate::config::Encoding;

/// `\p{L}`: a letter.
const LETTER: u8 = 1;
/// `\p{N}`: a number.
const NUMBER: u8 = 2;
/// `\s`: Unicode's White_Space.
const SPACE: u8 = 4;
/// `\p{M}`: a mark.
const MARK: u8 = 8;
/// `\p{Lu}` or `\p{Lt}`: an upper or title case letter.
const UPPER: u8 = 16;
/// `\p{Ll}`: a lower case letter.
const LOWER: u8 = 32;
/// `\r` or `\n`.
const NEWLINE: u8 = 64;
/// Past the end of the text: no class matches it.
const END: u8 = 128;

/// The pieces of `text`, in order; they join to `text`.
pub fn pieces(encoding: Encoding, text: &str) -> Pieces<'_> {
    Pieces {
        text,
        at: 0,
        classes: classes(),
        o200k: encoding == Encoding::O200kBase,
    }
}

/// The class flags of every code point, built once from `regex-syntax`'s tables.
fn classes() -> &'static [u8] {
    static CLASSES: std::sync::OnceLock<Box<[u8]>> = std::sync::OnceLock::new();
    CLASSES.get_or_init(|| {
        use regex_syntax::hir::{Class, HirKind};
        let mut table = vec![0u8; 0x11_0000];
        for (class, flag) in [
            (r"\p{L}", LETTER),
            (r"\p{N}", NUMBER),
            (r"\s", SPACE),
            (r"\p{M}", MARK),
            (r"[\p{Lu}\p{Lt}]", UPPER),
            (r"\p{Ll}", LOWER),
            (r"[\r\n]", NEWLINE),
        ] {
            let hir = regex_syntax::parse(class).expect("a valid class");
            let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
                unreachable!("{class} is a Unicode class")
            };
            for range in class.ranges() {
                for c in u32::from(range.start())..=u32::from(range.end()) {
                    table[c as usize] |= flag;
                }
            }
        }
        table.into_boxed_slice()
    })
}

/// The iterator [`pieces`] returns.
pub struct Pieces<'a> {
    text: &'a str,
    at: usize,
    classes: &'static [u8],
    o200k: bool,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.at >= self.text.len() {
            return None;
        }
        let start = self.at;
        let end = if self.o200k {
            self.o200k_end(start)
        } else {
            self.cl100k_end(start)
        };
        self.at = end;
        // Pieces are whole characters, so `end` is a character boundary.
        Some(&self.text[start..end])
    }
}

/// Not whitespace, a letter or a number: `[^\s\p{L}\p{N}]`.
fn is_other(class: u8) -> bool {
    class & (SPACE | LETTER | NUMBER | END) == 0
}

/// o200k_base's first set of letters: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
fn is_upperish(class: u8) -> bool {
    (class & LETTER != 0 && class & LOWER == 0) || class & MARK != 0
}

/// o200k_base's second set of letters: `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
fn is_lowerish(class: u8) -> bool {
    (class & LETTER != 0 && class & UPPER == 0) || class & MARK != 0
}

impl Pieces<'_> {
    /// The class of the character at byte `at` and its length in bytes; [`END`] and 0 at the
    /// end of the text.
    #[inline(always)]
    fn class_at(&self, at: usize) -> (u8, usize) {
        let Some(&b0) = self.text.as_bytes().get(at) else {
            return (END, 0);
        };
        let (code, len) = if b0 < 0x80 {
            (u32::from(b0), 1)
        } else {
            let tail = |i: usize| u32::from(self.text.as_bytes()[at + i] & 0x3F);
            if b0 < 0xE0 {
                (u32::from(b0 & 0x1F) << 6 | tail(1), 2)
            } else if b0 < 0xF0 {
                (u32::from(b0 & 0x0F) << 12 | tail(1) << 6 | tail(2), 3)
            } else {
                (
                    u32::from(b0 & 0x07) << 18 | tail(1) << 12 | tail(2) << 6 | tail(3),
                    4,
                )
            }
        };
        (self.classes[code as usize], len)
    }

    /// The end of the longest run of characters from `at` whose class satisfies `is`.
    #[inline]
    fn run(&self, mut at: usize, is: impl Fn(u8) -> bool) -> usize {
        loop {
            let (class, len) = self.class_at(at);
            if !is(class) {
                return at;
            }
            at += len;
        }
    }

    /// The end of the run of bytes from `at` that are in `set` (ASCII).
    fn run_bytes(&self, mut at: usize, set: &[u8]) -> usize {
        while self
            .text
            .as_bytes()
            .get(at)
            .is_some_and(|b| set.contains(b))
        {
            at += 1;
        }
        at
    }

    /// The end of a contraction (`(?i:'s|'t|'re|'ve|'m|'ll|'d)`) starting at `at`, if one does.
    fn contraction(&self, at: usize) -> Option<usize> {
        if self.text.as_bytes().get(at) != Some(&b'\'') {
            return None;
        }
        let next = |i: usize| self.text.as_bytes().get(at + i).map(u8::to_ascii_lowercase);
        match next(1)? {
            b's' | b't' | b'm' | b'd' => Some(at + 2),
            b'r' | b'v' if next(2) == Some(b'e') => Some(at + 3),
            b'l' if next(2) == Some(b'l') => Some(at + 3),
            // U+017F LATIN SMALL LETTER LONG S folds to `s`.
            0xC5 if next(2) == Some(0xBF) => Some(at + 3),
            _ => None,
        }
    }

    /// `\p{N}{1,3}` from `at`.
    fn numbers(&self, at: usize) -> usize {
        let mut end = at;
        for _ in 0..3 {
            let (class, len) = self.class_at(end);
            if class & NUMBER == 0 {
                break;
            }
            end += len;
        }
        end
    }

    /// ` ?[^\s\p{L}\p{N}]+` from `at`, then a run of `trailing` bytes, if it matches there.
    fn punctuation(&self, at: usize, first: u8, trailing: &[u8]) -> Option<usize> {
        let start = if self.text.as_bytes()[at] == b' ' && is_other(self.class_at(at + 1).0) {
            at + 1
        } else if is_other(first) {
            at
        } else {
            return None;
        };
        Some(self.run_bytes(self.run(start, is_other), trailing))
    }

    /// `\s*[\r\n]+|\s+(?!\S)|\s+` from `at`, where a whitespace character starts.
    fn whitespace(&self, at: usize) -> usize {
        let mut end = at;
        let mut after_newline = None;
        let mut last = at;
        loop {
            let (class, len) = self.class_at(end);
            if class & SPACE == 0 {
                break;
            }
            if class & NEWLINE != 0 {
                after_newline = Some(end + len);
            }
            last = end;
            end += len;
        }
        // `\s*[\r\n]+` backtracks to the run's last line break.
        if let Some(end) = after_newline {
            return end;
        }
        // `\s+(?!\S)` leaves the run's last character for the next piece, unless the text
        // ends; a run of one character before a non-space is `\s+`.
        if end == self.text.len() || last == at {
            end
        } else {
            last
        }
    }

    fn cl100k_end(&self, at: usize) -> usize {
        if let Some(end) = self.contraction(at) {
            return end;
        }
        let (first, len) = self.class_at(at);
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if first & LETTER != 0 {
            return self.run(at, |c| c & LETTER != 0);
        }
        if first & (NEWLINE | NUMBER) == 0 && self.class_at(at + len).0 & LETTER != 0 {
            return self.run(at + len, |c| c & LETTER != 0);
        }
        if first & NUMBER != 0 {
            return self.numbers(at);
        }
        if let Some(end) = self.punctuation(at, first, b"\r\n") {
            return end;
        }
        self.whitespace(at)
    }

    fn o200k_end(&self, at: usize) -> usize {
        let (first, len) = self.class_at(at);
        // Where the letters may start: after an optional `[^\r\n\p{L}\p{N}]`, tried first.
        let prefixed = (first & (NEWLINE | LETTER | NUMBER) == 0).then_some(at + len);
        let starts = || prefixed.into_iter().chain([at]);
        for start in starts() {
            if let Some(end) = self.upperish_then_lowerish(start) {
                return self.contraction(end).unwrap_or(end);
            }
        }
        for start in starts() {
            let end = self.run(start, is_upperish);
            if end > start {
                let end = self.run(end, is_lowerish);
                return self.contraction(end).unwrap_or(end);
            }
        }
        if first & NUMBER != 0 {
            return self.numbers(at);
        }
        if let Some(end) = self.punctuation(at, first, b"\r\n/") {
            return end;
        }
        self.whitespace(at)
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` from `at`, if it matches.
    ///
    /// The first run is as long as it can be; if no lower case letter follows it, it gives back
    /// characters until the second set can match its last one: the run's last character that
    /// is in both sets (`\p{Lm}`, `\p{Lo}` or `\p{M}`), which then ends the match.
    fn upperish_then_lowerish(&self, at: usize) -> Option<usize> {
        let mut end = at;
        let mut after_both = None;
        loop {
            let (class, len) = self.class_at(end);
            if !is_upperish(class) {
                break;
            }
            end += len;
            if is_lowerish(class) {
                after_both = Some(end);
            }
        }
        if is_lowerish(self.class_at(end).0) {
            return Some(self.run(end, is_lowerish));
        }
        after_both
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(encoding: Encoding, text: &str) -> Vec<&str> {
        match encoding {
            Encoding::Cl100kBase => bpe_openai::cl100k_base().split(text).collect(),
            Encoding::O200kBase => bpe_openai::o200k_base().split(text).collect(),
        }
    }

    fn assert_same_pieces(text: &str) {
        for encoding in [Encoding::Cl100kBase, Encoding::O200kBase] {
            let ours: Vec<&str> = pieces(encoding, text).collect();
            assert_eq!(ours, reference(encoding, text), "{encoding} {text:?}");
        }
    }

    /// Characters from every class the expressions tell apart, and the contractions' letters.
    const ALPHABET: &[char] = &[
        'a',
        'b',
        'Z',
        'H',
        's',
        'S',
        't',
        'T',
        'r',
        'R',
        'e',
        'E',
        'v',
        'm',
        'l',
        'L',
        'd',
        'D',
        'ſ',
        'K',
        '\'',
        '’',
        ' ',
        ' ',
        ' ',
        '\t',
        '\n',
        '\n',
        '\r',
        '\u{0b}',
        '\u{0c}',
        '\u{85}',
        '\u{a0}',
        '\u{2028}',
        '\u{3000}',
        '\u{200b}',
        '0',
        '7',
        '9',
        '١',
        'Ⅷ',
        '½',
        '.',
        ',',
        '/',
        '/',
        '(',
        '-',
        '_',
        '#',
        '*',
        '"',
        'é',
        'É',
        'ß',
        'ǅ',
        'ʰ',
        '中',
        'ا',
        'ж',
        'Ж',
        '\u{301}',
        'ि',
        '\u{20dd}',
        '🚀',
        '\u{1F3FB}',
        '\u{10FFFF}',
        '\u{0}',
    ];

    /// A small, seeded generator, so the test is the same on every run.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self, below: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % below as u64) as usize
        }
    }

    #[test]
    fn pieces_match_the_regex_on_random_texts() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..30_000 {
            let len = rng.next(24);
            let text: String = (0..len)
                .map(|_| ALPHABET[rng.next(ALPHABET.len())])
                .collect();
            assert_same_pieces(&text);
        }
    }

    #[test]
    fn pieces_match_the_regex_on_markdown() {
        for text in [
            "",
            "# Title\n\nSome text with <|endoftext|> inside.\n",
            "Ünïcödé — “quotes” 日本語のテキスト 🚀🎉\r\n\r\n## Next\r\n",
            "   leading spaces\n\n\n\ttabs\t\n  \n",
            "```rust\nfn main() { println!(\"hi\"); }\n```\n",
            "path/to/file\n/usr/bin\n//comment\n.\n//x",
            "numbers 1234567 and 3.14159, 'll 've 'S 'ſ 'RE 're' 'Ll",
            "HTMLParser camelCase getHTTPResponse ǅemal ʰello Straße ÉCOLE",
            "हिन्दी भाषा  العربية  русский язык  ",
            "- [tar](pages/common/tar.md) — Archiving utility. (1,234 tokens)\n",
            "trailing spaces   ",
            "a  \u{a0}b\u{3000}\u{3000}c",
        ] {
            assert_same_pieces(text);
        }
    }

    #[test]
    fn contractions_fold_case_as_the_regex_does() {
        // `(?i:x)` for each letter of the contractions: the characters the regex accepts.
        for letter in ['s', 't', 'r', 'e', 'v', 'm', 'l', 'd'] {
            let hir = regex_syntax::parse(&format!("(?i:{letter})")).unwrap();
            let regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(class)) =
                hir.kind()
            else {
                panic!("{letter} gives a class");
            };
            let chars: Vec<char> = class
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .collect();
            for c in chars {
                let text = match letter {
                    'r' | 'v' => format!("'{c}e"),
                    'l' => {
                        assert_same_pieces(&format!("'l{c}"));
                        format!("'{c}l")
                    }
                    'e' => format!("'r{c}"),
                    _ => format!("'{c}"),
                };
                assert_same_pieces(&text);
                assert_eq!(
                    pieces(Encoding::Cl100kBase, &text).next(),
                    Some(text.as_str()),
                    "{text:?} is one contraction"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn pieces_match_the_regex_on_any_text(text in "\\PC*") {
            assert_same_pieces(&text);
        }

        #[test]
        fn pieces_match_the_regex_on_any_characters(text in proptest::collection::vec(proptest::char::any(), 0..16)) {
            assert_same_pieces(&text.into_iter().collect::<String>());
        }
    }
}
