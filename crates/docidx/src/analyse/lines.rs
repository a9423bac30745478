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

    /// The 1-based line and column (in characters) of byte `offset` of `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let start = self.starts[line - 1];
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
    fn columns_count_characters() {
        let text = "é🚀x";
        assert_eq!(LineIndex::new(text).line_col(text, "é🚀".len()), (1, 3));
    }
}
