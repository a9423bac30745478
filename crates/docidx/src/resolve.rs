//! Resolving a relative link target to a path inside the tree.
//!
//! Paths in docidx are `/`-separated strings relative to the root. A file name that is not
//! valid UTF-8 keeps its bytes: each byte of an invalid sequence is written `%XX` and a `%` in
//! that name `%25` ([`component_string`]); [`fs_path`] turns such a path back into the real one.

use std::borrow::Cow;
use std::path::PathBuf;

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
    let mut parts: Vec<Cow<str>> = Vec::new();
    let mut outside_root = false;
    let base = if rest.starts_with('/') { "" } else { from_dir };
    // Each name is decoded on its own, so a name that is not UTF-8 keeps its bytes.
    let names = rest
        .split('/')
        .map(|c| Cow::Owned(component_string(&percent_decode_bytes(c))));
    for part in base.split('/').map(Cow::Borrowed).chain(names) {
        match part.as_ref() {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    outside_root = true;
                }
            }
            _ => parts.push(part),
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
    String::from_utf8_lossy(&percent_decode_bytes(s)).into_owned()
}

/// Decodes `%XX` escapes into bytes (invalid escapes kept as written).
pub fn percent_decode_bytes(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
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
    Cow::Owned(out)
}

/// One file or folder name, from its raw bytes, as docidx paths write it: unchanged when it is
/// UTF-8; otherwise each byte of an invalid sequence as `%XX`, and `%` as `%25`.
pub fn component_string(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('%', "%25"));
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The raw bytes of one name of a docidx path (see [`component_string`]).
pub fn component_bytes(name: &str) -> Cow<'_, [u8]> {
    let decoded = percent_decode_bytes(name);
    if std::str::from_utf8(&decoded).is_ok() {
        Cow::Borrowed(name.as_bytes())
    } else {
        decoded
    }
}

/// The file-system path, relative to the root, of a docidx path.
pub fn fs_path(rel: &str) -> PathBuf {
    rel.split('/')
        .filter(|c| !c.is_empty())
        .map(component_os)
        .collect()
}

#[cfg(unix)]
fn component_os(name: &str) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(&component_bytes(name)).to_os_string()
}

#[cfg(not(unix))]
fn component_os(name: &str) -> std::ffi::OsString {
    name.into()
}

/// Escapes what would break or change a Markdown link destination: spaces, `%`, `#`, `?`,
/// brackets, parentheses, quotes, backslashes and control characters, and the bytes of names
/// that are not UTF-8. Other characters, including non-ASCII ones, are kept as they are.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, name) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for chunk in component_bytes(name).utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_ascii_control() || " %#?()<>[]\\\"'`".contains(c) {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("%{b:02X}"));
                    }
                } else {
                    out.push(c);
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("%{b:02X}"));
            }
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
    fn names_that_are_not_utf8_keep_their_bytes() {
        let name = component_string(b"caf\xe9 100%.md");
        assert_eq!(name, "caf%E9 100%25.md");
        assert_eq!(&*component_bytes(&name), b"caf\xe9 100%.md");
        assert_eq!(component_string(b"caf\xc3\xa9.md"), "café.md");
        assert_eq!(component_bytes("100%.md").as_ref(), b"100%.md");
        assert_eq!(
            percent_encode_path("docs/caf%E9 100%25.md"),
            "docs/caf%E9%20100%25.md"
        );
        assert_eq!(
            resolve("docs", "caf%E9%20100%25.md").path,
            "docs/caf%E9 100%25.md"
        );
        assert_eq!(resolve("docs", "caf%C3%A9.md").path, "docs/café.md");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            assert_eq!(
                fs_path("docs/caf%E9 100%25.md").as_os_str().as_bytes(),
                b"docs/caf\xe9 100%.md"
            );
        }
    }

    #[test]
    fn relative_links() {
        assert_eq!(relative_link("docs", "docs/a/b.md"), "a/b.md");
        assert_eq!(relative_link("docs", "README.md"), "../README.md");
        assert_eq!(relative_link("", "docs/x.md"), "docs/x.md");
        assert_eq!(relative_link("docs/a", "docs/b/c.md"), "../b/c.md");
    }
}
