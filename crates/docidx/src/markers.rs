//! The marker comments that fence the generated part of `INDEX.md`. Everything outside them
//! belongs to people and is kept byte for byte.

/// Starts the generated region. Must stand alone on its line.
pub const BEGIN: &str = "<!-- docidx:begin -->";
/// Ends the generated region. Must stand alone on its line.
pub const END: &str = "<!-- docidx:end -->";

/// How both markers start (a test checks it).
const MARKER_START: &str = "<!-- docidx:";

/// An `INDEX.md` cut around its generated region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region<'a> {
    /// Everything up to and including the begin marker's line.
    pub before: &'a str,
    /// What is between the markers now.
    pub generated: &'a str,
    /// Everything from the start of the end marker's line.
    pub after: &'a str,
}

/// Finds the generated region of `text`. `Ok(None)` when there are no markers at all; an error
/// explaining the problem when there is only one, they are out of order, or there are several.
pub fn find(text: &str) -> Result<Option<Region<'_>>, String> {
    let (begins, ends) = markers(text);
    let lines = |v: &[Marker]| {
        v.iter()
            .map(|(n, _, _)| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([(_, _, begin_end)], [(_, end_start, _)]) if begin_end <= end_start => Ok(Some(Region {
            before: &text[..*begin_end],
            generated: &text[*begin_end..*end_start],
            after: &text[*end_start..],
        })),
        ([(b, _, _)], [(e, _, _)]) => {
            Err(format!("the end marker (line {e}) comes before the begin marker (line {b})"))
        }
        ([], _) => Err(format!("{END} on line {} has no {BEGIN} before it", lines(&ends))),
        (_, []) => Err(format!("{BEGIN} on line {} has no {END} after it", lines(&begins))),
        _ => Err(format!(
            "more than one generated region (begin markers on lines {}, end markers on lines {}); keep one pair",
            lines(&begins),
            lines(&ends)
        )),
    }
}

/// A marker's line number, and where its line starts and ends.
type Marker = (usize, usize, usize);

/// The lines of `text` that are a begin marker, and those that are an end marker.
fn markers(text: &str) -> (Vec<Marker>, Vec<Marker>) {
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    // Only lines holding the markers' common start can be markers: they are found without
    // going through an index of tens of thousands of lines line by line.
    let bytes = text.as_bytes();
    let mut last_line = None;
    // Line breaks before `counted`, counted once: each candidate counts from the last one.
    let (mut counted, mut breaks) = (0, 0);
    for at in memchr::memmem::find_iter(bytes, MARKER_START) {
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
        if last_line == Some(start) {
            continue;
        }
        last_line = Some(start);
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        breaks += memchr::memchr_iter(b'\n', &bytes[counted..start]).count();
        counted = start;
        let n = breaks + 1;
        match text[start..end].trim() {
            BEGIN => begins.push((n, start, end)),
            END => ends.push((n, start, end)),
            _ => {}
        }
    }
    (begins, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_region() {
        let text = "# Hi\n<!-- docidx:begin -->\nold\n<!-- docidx:end -->\ntail\n";
        let r = find(text).unwrap().unwrap();
        assert_eq!(r.before, "# Hi\n<!-- docidx:begin -->\n");
        assert_eq!(r.generated, "old\n");
        assert_eq!(r.after, "<!-- docidx:end -->\ntail\n");
    }

    #[test]
    fn markers_in_prose_do_not_count() {
        assert_eq!(
            find("Use `<!-- docidx:begin -->` and the end marker.\n"),
            Ok(None)
        );
    }

    #[test]
    fn broken_layouts_are_explained() {
        assert!(find("<!-- docidx:begin -->\n")
            .unwrap_err()
            .contains("line 1 has no"));
        assert!(find("x\n<!-- docidx:end -->\n")
            .unwrap_err()
            .contains("line 2 has no"));
        assert!(find("<!-- docidx:end -->\n<!-- docidx:begin -->\n")
            .unwrap_err()
            .contains("before"));
        let two = "<!-- docidx:begin -->\n<!-- docidx:end -->\n<!-- docidx:begin -->\n<!-- docidx:end -->\n";
        assert!(find(two).unwrap_err().contains("more than one"));
    }

    #[test]
    fn both_markers_start_alike() {
        assert!(BEGIN.starts_with(MARKER_START) && END.starts_with(MARKER_START));
    }

    /// The markers looked for line by line, every line trimmed: what `find` must agree with.
    fn find_line_by_line(text: &str) -> (Vec<Marker>, Vec<Marker>) {
        let (mut begins, mut ends, mut pos) = (Vec::new(), Vec::new(), 0);
        for (n, line) in text.split_inclusive('\n').enumerate() {
            match line.trim() {
                BEGIN => begins.push((n + 1, pos, pos + line.len())),
                END => ends.push((n + 1, pos, pos + line.len())),
                _ => {}
            }
            pos += line.len();
        }
        (begins, ends)
    }

    #[test]
    fn finds_what_a_line_by_line_search_finds() {
        let lines = [
            BEGIN,
            END,
            " \t<!-- docidx:begin -->  ",
            "<!-- docidx:end -->\r",
            "text <!-- docidx:end -->",
            "<!-- docidx:begin --><!-- docidx:begin -->",
            "<!-- docidx:",
            "",
            "é",
        ];
        // Every text of up to four of these lines, with either line break, with and without a
        // final one.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| lines.iter().map(move |l| format!("{t}{l}\n")))
                .collect();
            texts.extend(longer);
        }
        for text in texts {
            for text in [
                text.clone(),
                text.replace('\n', "\r\n"),
                text.trim_end().to_string(),
            ] {
                let expected = match find_line_by_line(&text) {
                    (b, e) if b.is_empty() && e.is_empty() => Ok(None),
                    (b, e) => match (b.as_slice(), e.as_slice()) {
                        ([(_, _, b)], [(_, e, _)]) if b <= e => Ok(Some((*b, *e))),
                        _ => Err(()),
                    },
                };
                assert_eq!(markers(&text), find_line_by_line(&text), "{text:?}");
                let found = find(&text)
                    .map(|r| r.map(|r| (r.before.len(), r.before.len() + r.generated.len())));
                assert_eq!(found.map_err(|_| ()), expected, "{text:?}");
            }
        }
    }
}
