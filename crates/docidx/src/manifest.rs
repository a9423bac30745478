//! `.doc_hashes.json`: `{ "path": "sha256hex", … }` with sorted keys, the change-detection
//! manifest the old scripts kept (same shape, so existing repositories keep working).

use std::collections::BTreeMap;

use crate::analyse::Doc;

/// The file name of the manifest, written beside `INDEX.md`.
pub const MANIFEST_FILE: &str = ".doc_hashes.json";

/// Document path → SHA-256 hex.
pub type Manifest = BTreeMap<String, String>;

/// The manifest of a set of documents.
pub fn of_docs(docs: &[Doc]) -> Manifest {
    docs.iter()
        .map(|d| (d.path.clone(), d.sha256.clone()))
        .collect()
}

/// Parses a manifest; `None` if it is not one.
pub fn parse(bytes: &[u8]) -> Option<Manifest> {
    serde_json::from_slice(bytes).ok()
}

/// The manifest as written: pretty JSON with sorted keys and a final newline.
pub fn render(manifest: &Manifest) -> String {
    render_sorted(
        manifest
            .iter()
            .map(|(path, sha256)| (path.as_str(), sha256.as_str())),
    )
}

/// [`render`] of the manifest whose entries are `pairs`, sorted by path.
pub fn render_sorted<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    struct Sorted<I>(I);
    impl<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> serde::Serialize for Sorted<I> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.clone())
        }
    }
    let mut out = serde_json::to_string_pretty(&Sorted(pairs)).expect("strings serialize");
    out.push('\n');
    out
}

/// Docs added, removed and changed between two manifests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    /// What changed from `old` to `new`.
    pub fn between(old: &Manifest, new: &Manifest) -> Changes {
        let mut changes = Changes::default();
        for (path, hash) in new {
            match old.get(path) {
                None => changes.added.push(path.clone()),
                Some(h) if h != hash => changes.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        changes.removed = old
            .keys()
            .filter(|p| !new.contains_key(*p))
            .cloned()
            .collect();
        changes
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
        let old: Manifest = [("a", "1"), ("b", "2"), ("c", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let new: Manifest = [("a", "1"), ("b", "9"), ("d", "4")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let c = Changes::between(&old, &new);
        assert_eq!(
            (c.added, c.removed, c.changed),
            (vec!["d".into()], vec!["c".into()], vec!["b".into()])
        );
        assert_eq!(
            render(&new),
            "{\n  \"a\": \"1\",\n  \"b\": \"9\",\n  \"d\": \"4\"\n}\n"
        );
    }
}
