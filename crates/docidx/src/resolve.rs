//! Resolving a relative link target to a path inside the tree.

/// A link target resolved against the folder of the file that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Root-relative, `/`-separated, without `.` or `..` (empty for the root itself).
    pub path: String,
    /// The `#fragment`, percent-decoded, if any.
    pub fragment: Option<String>,
    /// Whether the target climbs out of the root (`path` is then meaningless).
    pub outside_root: bool,
}

/// Resolves `target` (a relative link as written) from the root-relative folder `from_dir`.
/// A leading `/` is relative to the root; `?query` is dropped; the path is percent-decoded.
pub fn resolve(from_dir: &str, target: &str) -> Resolved {
    let (rest, fragment) = match target.split_once('#') {
        Some((p, f)) => (p, Some(percent_decode(f))),
        None => (target, None),
    };
    let rest = rest.split_once('?').map_or(rest, |(p, _)| p);
    let decoded = percent_decode(rest);
    let mut parts: Vec<&str> = Vec::new();
    let mut outside_root = false;
    let base = if decoded.starts_with('/') {
        ""
    } else {
        from_dir
    };
    for part in base.split('/').chain(decoded.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    outside_root = true;
                }
            }
            p => parts.push(p),
        }
    }
    Resolved {
        path: parts.join("/"),
        fragment,
        outside_root,
    }
}

/// The root-relative folder holding the root-relative file `path` (empty for the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Decodes `%XX` escapes (invalid UTF-8 results are replaced, invalid escapes kept as written).
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes what would break or change a Markdown link destination: spaces, `%`, `#`, `?`,
/// brackets, parentheses, quotes, backslashes and control characters. Other characters,
/// including non-ASCII ones, are kept as they are.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii_control() || " %#?()<>[]\\\"'`".contains(c) {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The relative link from a file in root-relative folder `from_dir` to root-relative `path`.
pub fn relative_link(from_dir: &str, path: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_absolute_and_escaping_links() {
        let r = resolve("docs/guide", "../api/x%20y.md?plain=1#Some%20Part");
        assert_eq!(r.path, "docs/api/x y.md");
        assert_eq!(r.fragment.as_deref(), Some("Some Part"));
        assert!(!r.outside_root);
        assert_eq!(resolve("docs", "/README.md").path, "README.md");
        assert_eq!(resolve("docs", "./").path, "docs");
        assert!(resolve("docs", "../../../../etc/passwd").outside_root);
        assert_eq!(resolve("", "#top").fragment.as_deref(), Some("top"));
    }

    #[test]
    fn percent_round_trip() {
        let name = "my doc #1 (100%).md";
        assert_eq!(
            percent_encode_path(name),
            "my%20doc%20%231%20%28100%25%29.md"
        );
        assert_eq!(percent_decode(&percent_encode_path(name)), name);
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(percent_encode_path("日本/ü.md"), "日本/ü.md");
    }

    #[test]
    fn relative_links() {
        assert_eq!(relative_link("docs", "docs/a/b.md"), "a/b.md");
        assert_eq!(relative_link("docs", "README.md"), "../README.md");
        assert_eq!(relative_link("", "docs/x.md"), "docs/x.md");
        assert_eq!(relative_link("docs/a", "docs/b/c.md"), "../b/c.md");
    }
}
