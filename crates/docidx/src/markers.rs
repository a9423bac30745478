//! The marker comments that fence the generated part of `INDEX.md`. Everything outside them
//! belongs to people and is kept byte for byte.

/// Starts the generated region. Must stand alone on its line.
pub const BEGIN: &str = "<!-- docidx:begin -->";
/// Ends the generated region. Must stand alone on its line.
pub const END: &str = "<!-- docidx:end -->";

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
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut pos = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        match line.trim() {
            BEGIN => begins.push((n + 1, pos, pos + line.len())),
            END => ends.push((n + 1, pos, pos + line.len())),
            _ => {}
        }
        pos += line.len();
    }
    let lines = |v: &[(usize, usize, usize)]| {
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
}
