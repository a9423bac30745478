//! Snapshot tests of the rendered outputs for each fixture tree, and the JSON Schema check.

use std::path::{Path, PathBuf};

use docidx::generate::{self, Plan};
use docidx::Config;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn plan(name: &str) -> Plan {
    let root = fixture(name);
    let config = Config::load(&root).expect("fixture config parses");
    generate::plan(&root, &config, &generate::Options::default()).expect("fixture plans")
}

fn text(plan: &Plan, i: usize) -> String {
    String::from_utf8(plan.outputs[i].bytes().unwrap()).expect("outputs are UTF-8")
}

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/index.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is valid")
}

fn check(name: &str) {
    let plan = plan(name);
    let md = text(&plan, 0);
    let json = text(&plan, 1);
    insta::assert_snapshot!(format!("{name}-INDEX.md"), md);
    insta::assert_snapshot!(format!("{name}-INDEX.json"), json);
    let warnings: Vec<String> = plan.warnings.iter().map(|w| w.to_string()).collect();
    insta::assert_snapshot!(format!("{name}-warnings"), warnings.join("\n"));

    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let errors: Vec<String> = schema()
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: INDEX.json breaks the schema: {errors:#?}"
    );
    // The header's claim is exact for the file as written.
    let claimed = plan.statistics.index_tokens;
    assert_eq!(
        docidx::tokens::count(plan.index.as_ref().unwrap().encoding, &md),
        claimed
    );
    assert!(md.contains(&format!(
        "This index: {} tokens",
        docidx::render::thousands(claimed)
    )));
}

#[test]
fn nested() {
    check("nested");
}

#[test]
fn front_matter() {
    check("front-matter");
}

#[test]
fn duplicate_headings() {
    check("duplicate-headings");
}

#[test]
fn hand_written_index_keeps_everything_outside_the_markers() {
    check("hand-written");
    let original = std::fs::read_to_string(fixture("hand-written/docs/INDEX.md")).unwrap();
    let plan = plan("hand-written");
    let new = text(&plan, 0);
    let (head, _) = original.split_once("<!-- docidx:begin -->").unwrap();
    let (_, tail) = original.split_once("<!-- docidx:end -->").unwrap();
    assert!(new.starts_with(&format!("{head}<!-- docidx:begin -->\n")));
    assert!(new.ends_with(&format!("<!-- docidx:end -->{tail}")));
    assert!(!new.contains("This text is replaced by docidx."));
}

#[test]
fn every_fixture_is_deterministic_across_thread_counts() {
    for name in [
        "nested",
        "front-matter",
        "duplicate-headings",
        "hand-written",
    ] {
        let root = fixture(name);
        let mut outputs = Vec::new();
        for jobs in [1, 2, 4] {
            let mut config = Config::load(&root).unwrap();
            config.jobs = Some(jobs);
            let plan = generate::plan(&root, &config, &generate::Options::default()).unwrap();
            outputs.push(
                plan.outputs
                    .iter()
                    .map(|o| o.bytes().unwrap())
                    .collect::<Vec<_>>(),
            );
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{name}");
    }
}

#[test]
fn llms_txt() {
    let root = fixture("nested");
    let mut config = Config::load(&root).unwrap();
    config.llms_txt = true;
    config.llms_optional = vec!["docs/guide/deep/**".into()];
    let plan = generate::plan(&root, &config, &generate::Options::default()).unwrap();
    assert_eq!(plan.outputs.len(), 4);
    assert!(plan.outputs[3].path.ends_with("docs/llms.txt"));
    let text = text(&plan, 3);
    insta::assert_snapshot!("nested-llms.txt", text);
    assert!(text.starts_with("# nested\n\n> A small project"));
    let optional = text
        .split("## Optional")
        .nth(1)
        .expect("an Optional section");
    assert!(optional.contains("(guide/deep/troubleshooting.md)"));
}
