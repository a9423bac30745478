//! YAML (`---`) and TOML (`+++`) front matter at the top of a document, kept as JSON.

use serde_json::{Map, Number, Value};

/// Front matter found at the start of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    /// The parsed front matter, or why it could not be parsed.
    pub value: Result<Value, Malformed>,
    /// Byte offset just past the closing fence line: where the Markdown body starts.
    pub body_start: usize,
}

/// Why front matter could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub message: String,
    /// 1-based line in the text given to [`split`], when the parser knows it.
    pub line: Option<usize>,
}

/// How deeply front matter may nest (mappings and lists). `INDEX.json` holds the front matter
/// three levels down, and JSON readers limit nesting (serde_json to 128 levels): deeper front
/// matter would make an `INDEX.json` that docidx itself cannot read back.
pub const MAX_DEPTH: usize = 64;

/// Finds front matter at the very start of `text` (which must not start with a BOM): a line
/// `---` closed by `---` or `...` (YAML), or a line `+++` closed by `+++` (TOML). An opening
/// fence that is never closed is not front matter. Lines end at `\n`, `\r\n` or a lone `\r`,
/// as everywhere else in the analysis.
pub fn split(text: &str) -> Option<FrontMatter> {
    let mut lines = line_spans(text);
    let (_, first_end, first) = lines.next()?;
    let (toml, closers): (bool, &[&str]) = match first.trim_end() {
        "---" => (false, &["---", "..."]),
        "+++" => (true, &["+++"]),
        _ => return None,
    };
    for (start, end, line) in lines {
        if closers.contains(&line.trim_end()) {
            let content = &text[first_end..start];
            let value = if toml {
                parse_toml(content)
            } else {
                parse_yaml(content)
            };
            let value = value.and_then(|v| {
                if depth(&v) > MAX_DEPTH {
                    Err((format!("nested more than {MAX_DEPTH} levels deep"), None))
                } else {
                    Ok(v)
                }
            });
            // The parsers count lines from the first line after the opening fence.
            let value = value.map_err(|(message, line)| Malformed {
                message,
                line: line.map(|l| l + 1),
            });
            return Some(FrontMatter {
                value,
                body_start: end,
            });
        }
    }
    None
}

/// `(start, end including the line break, line without the line break)` for each line.
fn line_spans(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let rest = &text[start..];
        let (line_len, break_len) = match rest.find(['\n', '\r']) {
            Some(i) if rest[i..].starts_with("\r\n") => (i, 2),
            Some(i) => (i, 1),
            None => (rest.len(), 0),
        };
        pos = start + line_len + break_len;
        Some((start, pos, &rest[..line_len]))
    })
}

/// The nesting depth of a value: 0 for a scalar, 1 for a flat list or mapping.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(d);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(d);
                stack.extend(map.values().map(|i| (i, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// The 1-based line of byte `offset` of `text` (lines end at `\n`, `\r\n` or a lone `\r`).
fn line_of(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let breaks = bytes[..offset.min(bytes.len())]
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}

fn parse_yaml(content: &str) -> Result<Value, (String, Option<usize>)> {
    if content.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    // The YAML parser takes time quadratic in the nesting of `[…]` and `{…}`: 200,000 levels,
    // 400 KB, took 90 s. Deeper than the limit is malformed anyway, so it is refused first.
    if let Some(offset) = too_deep_flow(content) {
        return Err((
            format!("nested more than {MAX_DEPTH} levels deep"),
            Some(line_of(content, offset)),
        ));
    }
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(content).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let message = e.to_string();
        // The location is reported separately, relative to the whole file.
        let message = match message.split_once(" at line ") {
            Some((head, _)) if line.is_some() => head.to_string(),
            _ => message,
        };
        (message, line)
    })?;
    Ok(yaml_to_json(yaml))
}

/// Where the brackets and braces of `content` first nest more than [`MAX_DEPTH`] deep, counting
/// every `[`, `{`, `]` and `}` (in quotes too: no valid front matter comes near the limit that
/// way, and a quote cannot hide brackets from the count).
fn too_deep_flow(content: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in content.bytes().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn yaml_to_json(yaml: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

/// JSON keys are strings; YAML keys may be anything.
fn yaml_key(key: serde_yaml_ng::Value) -> String {
    match yaml_to_json(key) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_toml(content: &str) -> Result<Value, (String, Option<usize>)> {
    let table: toml::Table = toml::from_str(content).map_err(|e| {
        let line = e.span().map(|s| line_of(content, s.start));
        (e.message().to_string(), line)
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml() {
        let text = "---\ntitle: Hello\ntags: [a, b]\n1: one\n---\n# Body\n";
        let fm = split(text).unwrap();
        assert_eq!(
            fm.value,
            Ok(json!({"title": "Hello", "tags": ["a", "b"], "1": "one"}))
        );
        assert_eq!(&text[fm.body_start..], "# Body\n");
    }

    #[test]
    fn toml_with_crlf() {
        let text = "+++\r\ntitle = \"T\"\r\ndate = 2024-01-02\r\n+++\r\nbody";
        let fm = split(text).unwrap();
        assert_eq!(fm.value, Ok(json!({"title": "T", "date": "2024-01-02"})));
        assert_eq!(&text[fm.body_start..], "body");
    }

    #[test]
    fn malformed_yaml_is_an_error_but_still_front_matter() {
        let fm = split("---\na: 1\ntitle: [unclosed\n---\nbody").unwrap();
        assert_eq!(fm.value.unwrap_err().line, Some(4));
        assert_eq!(fm.body_start, "---\na: 1\ntitle: [unclosed\n---\n".len());
    }

    #[test]
    fn unclosed_fence_or_later_fence_is_not_front_matter() {
        assert_eq!(split("---\ntitle: x\n"), None);
        assert_eq!(split("\n---\na: b\n---\n"), None);
        assert_eq!(split("# Title\n"), None);
    }

    #[test]
    fn lone_cr_line_endings() {
        let text = "---\rtitle: Old Mac\r---\r# Body\r";
        let fm = split(text).unwrap();
        assert_eq!(fm.value, Ok(json!({"title": "Old Mac"})));
        assert_eq!(&text[fm.body_start..], "# Body\r");
        // YAML allows a lone CR as a line break; TOML does not, so TOML front matter written
        // that way is found and reported as malformed.
        let fm = split("+++\ra = 1\r+++\rbody").unwrap();
        assert!(fm.value.unwrap_err().message.contains("carriage return"));
        assert_eq!(&"+++\ra = 1\r+++\rbody"[fm.body_start..], "body");
        assert_eq!(line_of("a\rb\r\nc\nd", 7), 4);
    }

    #[test]
    fn front_matter_too_deep_for_index_json_is_malformed() {
        let nested = |n: usize| format!("---\na: {}{}\n---\n", "[".repeat(n), "]".repeat(n));
        assert!(split(&nested(MAX_DEPTH - 1)).unwrap().value.is_ok());
        let err = split(&nested(MAX_DEPTH)).unwrap().value.unwrap_err();
        assert!(err.message.contains("levels deep"), "{}", err.message);
        let toml = format!("+++\na = {}{}\n+++\n", "[".repeat(100), "]".repeat(100));
        assert!(split(&toml).unwrap().value.is_err());
    }

    /// Flow nesting far past the limit is refused before the YAML parser sees it (200,000
    /// levels took it 90 s, and it said `recursion limit exceeded`), with the line where it
    /// goes too deep; balanced brackets in quotes do not add up.
    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let n = 200_000;
        let text = format!(
            "---\ntitle: ok\na: {}{}\n---\n",
            "[".repeat(n),
            "]".repeat(n)
        );
        let err = split(&text).unwrap().value.unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.line),
            ("nested more than 64 levels deep", Some(3))
        );
        let quoted: String = (0..100).map(|i| format!("k{i}: \"[[{{x}}]]\"\n")).collect();
        let value = split(&format!("---\n{quoted}---\n")).unwrap().value;
        assert_eq!(value.unwrap()["k99"], json!("[[{x}]]"));
    }

    #[test]
    fn empty_front_matter_is_an_empty_object() {
        assert_eq!(split("---\n---\n").unwrap().value, Ok(json!({})));
    }
}
