//! Rendering a validation [`Report`]: human (rustc-like), JSON, GitHub workflow commands and
//! a step summary, and SARIF 2.1.0 for code scanning.

use std::fmt::Write;

use serde_json::json;

use super::{Report, Rule, Severity};

/// Colours for human output (empty strings when colour is off).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub error: &'static str,
    pub warning: &'static str,
    pub bold: &'static str,
    pub dim: &'static str,
    pub reset: &'static str,
}

impl Style {
    pub const PLAIN: Style = Style {
        error: "",
        warning: "",
        bold: "",
        dim: "",
        reset: "",
    };
    pub const ANSI: Style = Style {
        error: "\x1b[1;31m",
        warning: "\x1b[1;33m",
        bold: "\x1b[1m",
        dim: "\x1b[34m",
        reset: "\x1b[0m",
    };
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// rustc-like output: `path:line:col: error[rule]: message`, the source line and a caret under
/// the problem, then a summary. `source(path, line)` gives the text of a line when it can;
/// `display_path` turns a root-relative path into the path to show.
pub fn human(
    report: &Report,
    style: Style,
    source: &dyn Fn(&str, usize) -> Option<String>,
    display_path: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let color = match f.severity {
            Severity::Error => style.error,
            Severity::Warning => style.warning,
        };
        let _ = writeln!(
            out,
            "{}{}:{}:{}:{} {color}{}[{}]{}: {}",
            style.bold,
            display_path(&f.path),
            f.line,
            f.column,
            style.reset,
            severity_name(f.severity),
            f.rule.id(),
            style.reset,
            f.message
        );
        if let Some(line) = source(&f.path, f.line) {
            let line = line.trim_end_matches(['\r', '\n']);
            let gutter = f.line.to_string().len();
            let _ = writeln!(out, "{}{:gutter$} |{}", style.dim, "", style.reset);
            let _ = writeln!(
                out,
                "{}{} |{} {}",
                style.dim,
                f.line,
                style.reset,
                line.replace('\t', " ")
            );
            let width = caret_width(line, f.column, f.highlight.as_deref());
            let pad = " ".repeat(f.column.saturating_sub(1));
            let _ = writeln!(
                out,
                "{}{:gutter$} |{} {pad}{color}{}{}",
                style.dim,
                "",
                style.reset,
                "^".repeat(width),
                style.reset
            );
        }
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

/// The width of the underline: the highlighted text if it sits at (or after) the column.
fn caret_width(line: &str, column: usize, highlight: Option<&str>) -> usize {
    let Some(h) = highlight.filter(|h| !h.is_empty()) else {
        return 1;
    };
    let from: String = line.chars().skip(column.saturating_sub(1)).collect();
    match from.find(h) {
        Some(i) => from[..i].chars().count() + h.chars().count(),
        None => 1,
    }
}

/// `2 errors, 1 warning (broken-anchor: 2, unindexed-doc: 1); 95/96 docs indexed (99%)`.
pub fn summary_line(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let mut line = format!(
        "{} docs checked: {}, {}",
        report.docs,
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    let by_rule = report.by_rule();
    if !by_rule.is_empty() {
        let parts: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        let _ = write!(line, " ({})", parts.join(", "));
    }
    if let Some((indexed, total)) = report.coverage {
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * indexed as f64 / total as f64
        };
        let _ = write!(line, "; {indexed}/{total} docs indexed ({pct:.0}%)");
    }
    line
}

fn summary_json(report: &Report) -> serde_json::Value {
    json!({
        "docs": report.docs,
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "by_rule": report.by_rule(),
        "coverage": report.coverage.map(|(indexed, total)| json!({"indexed": indexed, "total": total})),
        "notes": report.notes,
    })
}

/// `{"findings": [{rule, severity, path, line, column, message}…], "summary": {…}}`.
pub fn json(report: &Report) -> String {
    let value = json!({ "findings": report.findings, "summary": summary_json(report) });
    let mut out = serde_json::to_string_pretty(&value).expect("a report serializes");
    out.push('\n');
    out
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
pub fn github(report: &Report, display_path: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "::{} file={},line={},col={},title={}::{}",
            severity_name(f.severity),
            escape_property(&display_path(&f.path)),
            f.line,
            f.column,
            escape_property(&format!("docidx {}", f.rule.id())),
            escape_data(&f.message)
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "::notice::{}", escape_data(note));
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown table for `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(report: &Report) -> String {
    let mut out = String::from("### docidx validate\n\n");
    let _ = writeln!(out, "{}\n", summary_line(report));
    if !report.findings.is_empty() {
        out.push_str("| rule | severity | count |\n| --- | --- | ---: |\n");
        for rule in Rule::ALL {
            for sev in [Severity::Error, Severity::Warning] {
                let n = report
                    .findings
                    .iter()
                    .filter(|f| f.rule == rule && f.severity == sev)
                    .count();
                if n > 0 {
                    let _ = writeln!(out, "| `{}` | {} | {n} |", rule.id(), severity_name(sev));
                }
            }
        }
        out.push('\n');
    }
    out
}

/// SARIF 2.1.0, one run, with every rule described.
pub fn sarif(report: &Report, display_path: &dyn Fn(&str) -> String) -> String {
    let rules: Vec<_> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "shortDescription": { "text": r.description() },
                "defaultConfiguration": { "level": severity_name(r.default_severity()) },
            })
        })
        .collect();
    let results: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule),
                "level": severity_name(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": crate::resolve::percent_encode_path(&display_path(&f.path)) },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
            })
        })
        .collect();
    let value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": crate::GENERATOR,
                "version": crate::VERSION,
                "informationUri": "https://github.com/docidx/docidx",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&value).expect("a report serializes");
    out.push('\n');
    out
}
