//! `.doc_hashes.json`: `{ "path": "sha256hex", … }` with sorted keys, the change-detection
//! manifest the old scripts kept (same shape, so existing repositories keep working).

use std::collections::BTreeMap;

/// The file name of the manifest, written beside `INDEX.md`.
pub const MANIFEST_FILE: &str = ".doc_hashes.json";

/// Parses a manifest into `(path, sha256)` pairs sorted by path (less memory than a map for
/// tens of thousands of docs). `None` if it is not one.
pub fn parse_sorted(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    struct Pairs(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for Pairs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Pairs;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object of paths and hashes")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Pairs, A::Error> {
                    let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                    while let Some(pair) = map.next_entry()? {
                        pairs.push(pair);
                    }
                    Ok(Pairs(pairs))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    let Pairs(mut pairs) = serde_json::from_slice(bytes).ok()?;
    // Written sorted; a file edited by hand may not be. A repeated path keeps its last hash.
    if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
        let map: BTreeMap<String, String> = pairs.into_iter().collect();
        pairs = map.into_iter().collect();
    }
    Some(pairs)
}

/// `(path, sha256)` borrowed from sorted pairs.
pub fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone {
    pairs.iter().map(|(p, s)| (p.as_str(), s.as_str()))
}

/// The manifest whose entries are `pairs`, sorted by path (the docs of an [`crate::Index`]
/// are), as written: pretty JSON with sorted keys and a final newline.
pub fn render_sorted<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    // Sized up front: a manifest of 40,000 docs is megabytes, and growing by doubling would
    // hold up to twice that.
    let size: usize = pairs.clone().map(|(p, s)| p.len() + s.len() + 10).sum();
    let mut out = Vec::with_capacity(size + 16);
    write_sorted(&mut out, pairs).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`render_sorted`] into any writer (a hasher, for a run that only compares).
pub fn write_sorted<'a>(
    out: &mut dyn std::io::Write,
    pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> std::io::Result<()> {
    struct Sorted<I>(I);
    impl<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> serde::Serialize for Sorted<I> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.clone())
        }
    }
    serde_json::to_writer_pretty(&mut *out, &Sorted(pairs))?;
    out.write_all(b"\n")
}

/// Docs added, removed and changed between two manifests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    /// What changed from `old` to `new`, each given as `(path, sha256)` sorted by path.
    pub fn between_sorted<'o, 'n>(
        old: impl IntoIterator<Item = (&'o str, &'o str)>,
        new: impl IntoIterator<Item = (&'n str, &'n str)>,
    ) -> Changes {
        let mut changes = Changes::default();
        let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
        loop {
            match (old.peek(), new.peek()) {
                (None, None) => return changes,
                (Some(&(path, _)), None) => {
                    changes.removed.push(path.to_string());
                    old.next();
                }
                (None, Some(&(path, _))) => {
                    changes.added.push(path.to_string());
                    new.next();
                }
                (Some(&(o, o_sha)), Some(&(n, n_sha))) => match o.cmp(n) {
                    std::cmp::Ordering::Less => {
                        changes.removed.push(o.to_string());
                        old.next();
                    }
                    std::cmp::Ordering::Greater => {
                        changes.added.push(n.to_string());
                        new.next();
                    }
                    std::cmp::Ordering::Equal => {
                        if o_sha != n_sha {
                            changes.changed.push(n.to_string());
                        }
                        old.next();
                        new.next();
                    }
                },
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_between_manifests() {
        let old = [("a", "1"), ("b", "2"), ("c", "3")];
        let new = [("a", "1"), ("b", "9"), ("d", "4")];
        let c = Changes::between_sorted(old, new);
        assert_eq!(
            (c.added, c.removed, c.changed),
            (vec!["d".into()], vec!["c".into()], vec!["b".into()])
        );
        let unsorted = br#"{"b": "2", "a": "1", "b": "3"}"#;
        assert_eq!(
            parse_sorted(unsorted).unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "3".into())]
        );
        let rendered = render_sorted(new.into_iter());
        assert_eq!(
            parse_sorted(rendered.as_bytes()).unwrap(),
            new.map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(parse_sorted(b"[1]").is_none());
        assert_eq!(
            rendered,
            "{\n  \"a\": \"1\",\n  \"b\": \"9\",\n  \"d\": \"4\"\n}\n"
        );
    }
}
