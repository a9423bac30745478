//! GitHub's heading anchors, as `github-slugger` computes them.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Characters GitHub drops from an anchor: everything but letters, decimal and letter numbers,
/// non-enclosing marks, connector punctuation (`_`), spaces and `-`.
static DROPPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[^\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc} \-]").expect("the pattern is a literal")
});

/// The anchor GitHub gives a heading whose plain text is `text`, before de-duplication:
/// lower case, punctuation and emoji removed, each space turned into `-`.
pub fn slug(text: &str) -> String {
    if text.is_ascii() {
        // The same rule without the regex, which takes half a millisecond to build: the ASCII
        // characters it keeps are letters, digits, `_`, ` ` and `-`.
        return text
            .bytes()
            .filter_map(|b| match b.to_ascii_lowercase() {
                b' ' => Some('-'),
                c @ (b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-') => Some(char::from(c)),
                _ => None,
            })
            .collect();
    }
    DROPPED
        .replace_all(&text.to_lowercase(), "")
        .replace(' ', "-")
}

/// Gives each heading of one document a unique anchor, adding `-1`, `-2`, … to repeats the
/// way GitHub does.
#[derive(Debug, Default)]
pub struct Slugger {
    occurrences: HashMap<String, usize>,
}

impl Slugger {
    /// The unique anchor for the next heading with plain text `text`.
    pub fn slug(&mut self, text: &str) -> String {
        let base = slug(text);
        let mut result = base.clone();
        while self.occurrences.contains_key(&result) {
            let n = self
                .occurrences
                .get_mut(&base)
                .expect("base was inserted first");
            *n += 1;
            result = format!("{base}-{n}");
        }
        self.occurrences.insert(result.clone(), 0);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_rules() {
        assert_eq!(
            slug("🚨 Emergency Procedures (Fast-Path)"),
            "-emergency-procedures-fast-path"
        );
        assert_eq!(slug("For Intel Macs (x86_64)"), "for-intel-macs-x86_64");
        assert_eq!(slug("⚠️ Deprecation Notice"), "\u{fe0f}-deprecation-notice");
        assert_eq!(slug("Привет non-latin 你好"), "привет-non-latin-你好");
        assert_eq!(slug("foo & bar"), "foo--bar");
        assert_eq!(slug("x² ½"), "x-");
    }

    #[test]
    fn ascii_text_follows_the_same_rule_as_other_text() {
        // Every ASCII character, between letters, through both paths: the second one goes
        // through the regex because of the `é`.
        for b in 0..=127u8 {
            let c = char::from(b);
            let ascii = slug(&format!("A{c}b"));
            let other = slug(&format!("A{c}bé"));
            assert_eq!(format!("{ascii}é"), other, "{c:?}");
        }
    }

    #[test]
    fn duplicates_get_suffixes() {
        let mut s = Slugger::default();
        assert_eq!(s.slug("foo"), "foo");
        assert_eq!(s.slug("foo"), "foo-1");
        assert_eq!(s.slug("bar"), "bar");
        assert_eq!(s.slug("foo"), "foo-2");
        assert_eq!(s.slug("foo-1"), "foo-1-1");
    }
}
