//! Byte offsets to 1-based lines and columns. Lines end at `\n`, `\r\n` or a lone `\r`, as in
//! CommonMark.

/// The start offset of every line of a text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        if starts.last() == Some(&bytes.len()) {
            starts.pop();
        }
        LineIndex {
            starts,
            len: bytes.len(),
        }
    }

    /// The number of lines (a final line without a line break counts; an empty text has none).
    pub fn count(&self) -> usize {
        if self.len == 0 {
            0
        } else {
            self.starts.len()
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The 1-based line and column (in characters) of byte `offset` of `text`. A byte order
    /// mark at the start of the text takes no column, as in editors.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let mut start = self.starts[line - 1];
        if start == 0 && text.starts_with('\u{feff}') && offset >= 3 {
            start = '\u{feff}'.len_utf8();
        }
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }

    /// The byte offset where 1-based `line` starts; the text's length past the last line.
    pub fn start(&self, line: usize) -> usize {
        self.starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(self.len)
    }
}

/// A text with every line break written `\n`, for the Markdown parser, and the way back to
/// byte offsets of the original. pulldown-cmark does not treat `\r\n` and a lone `\r` quite as
/// CommonMark (and GitHub, which normalises line breaks) does: a lone `\r` after a code fence
/// becomes part of its info string, and `\r\n` inside a code span becomes two spaces.
#[derive(Debug, Clone)]
pub struct LfText<'a> {
    pub text: std::borrow::Cow<'a, str>,
    /// Offsets in `text` of the `\n` of each `\r\n` of the original, ascending.
    crlf: Vec<usize>,
}

impl<'a> LfText<'a> {
    pub fn new(original: &'a str) -> LfText<'a> {
        if !original.contains('\r') {
            return LfText {
                text: std::borrow::Cow::Borrowed(original),
                crlf: Vec::new(),
            };
        }
        let bytes = original.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut crlf = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' {
                if bytes.get(i + 1) == Some(&b'\n') {
                    crlf.push(out.len());
                } else {
                    out.push(b'\n');
                }
            } else {
                out.push(b);
            }
        }
        // Only ASCII bytes were dropped or replaced by ASCII bytes, so the text is still UTF-8.
        let text = String::from_utf8(out).expect("ASCII edits keep UTF-8 valid");
        LfText {
            text: std::borrow::Cow::Owned(text),
            crlf,
        }
    }

    /// The offset in the original of offset `at` of [`LfText::text`].
    pub fn original(&self, at: usize) -> usize {
        at + self.crlf.partition_point(|&q| q <= at)
    }

    /// The offset in [`LfText::text`] of offset `at` of the original (a `\r` of a `\r\n` maps
    /// to its `\n`).
    pub fn normalized(&self, at: usize) -> usize {
        // The k-th removed `\r` was at `crlf[k] + k` in the original.
        let removed = self
            .crlf
            .iter()
            .enumerate()
            .take_while(|&(k, &q)| q + k < at)
            .count();
        at - removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_line_endings() {
        let text = "a\nb\r\nc\rd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.count(), 4);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 2), (2, 1));
        assert_eq!(idx.line_col(text, 5), (3, 1));
        assert_eq!(idx.line_col(text, 7), (4, 1));
        assert_eq!(idx.start(3), 5);
        assert_eq!(idx.start(5), text.len());
    }

    #[test]
    fn counts_like_str_lines() {
        for text in ["", "x", "x\n", "x\n\n", "\n", "a\nb"] {
            assert_eq!(
                LineIndex::new(text).count(),
                text.lines().count(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lf_text_maps_offsets_both_ways() {
        let original = "a\rb\r\nc\r\n\r\nd\r";
        let lf = LfText::new(original);
        assert_eq!(lf.text, "a\nb\nc\n\nd\n");
        for (n, o) in [
            (0, 0),
            (2, 2),
            (3, 4),
            (4, 5),
            (5, 7),
            (6, 9),
            (7, 10),
            (8, 11),
        ] {
            assert_eq!(lf.original(n), o, "normalized {n}");
            assert_eq!(lf.normalized(o), n, "original {o}");
        }
        assert!(matches!(
            LfText::new("a\nb").text,
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_bom_takes_no_column() {
        let text = "\u{feff}ab\ncd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 3), (1, 1));
        assert_eq!(idx.line_col(text, 4), (1, 2));
        assert_eq!(idx.line_col(text, 6), (2, 1));
    }

    #[test]
    fn columns_count_characters() {
        let text = "é🚀x";
        assert_eq!(LineIndex::new(text).line_col(text, "é🚀".len()), (1, 3));
    }
}
