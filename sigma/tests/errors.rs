//! Malformed Sigma gets a clear error naming the file, the rule and what is
//! wrong, never a panic.

use vigil_sigma::{compile, Placeholders, SigmaError};

fn error_of(yaml: &str) -> String {
    match compile(yaml, "rules/bad.yml", &Placeholders::new()) {
        Ok(c) => panic!(
            "compiled: {:?}",
            c.iter().map(|c| &c.sql).collect::<Vec<_>>()
        ),
        Err(e) => e.to_string(),
    }
}

fn rule(detection: &str) -> String {
    format!(
        "title: Bad rule\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\nlevel: high\n"
    )
}

#[test]
fn bad_yaml_names_the_file() {
    let e = error_of("title: [unclosed\n");
    assert!(e.starts_with("rules/bad.yml: not valid YAML"), "{e}");
}

#[test]
fn an_unknown_modifier_is_named() {
    let e = error_of(&rule("  sel:\n    eventName|contans: x\n  condition: sel"));
    assert!(e.contains("rules/bad.yml") && e.contains("Bad rule"), "{e}");
    assert!(e.contains("unknown value modifier \"contans\""), "{e}");
}

#[test]
fn an_unknown_field_is_named() {
    let e = error_of(&rule("  sel:\n    src_country: FR\n  condition: sel"));
    assert!(
        e.contains("field \"src_country\" is not in the cloudtrail table"),
        "{e}"
    );
}

#[test]
fn a_condition_naming_a_missing_selection_is_named() {
    let e = error_of(&rule(
        "  sel:\n    eventName: x\n  condition: sel and not filter",
    ));
    assert!(e.contains("\"filter\", which is not a selection"), "{e}");
}

#[test]
fn a_missing_condition_and_a_bad_logsource_are_named() {
    assert!(error_of(&rule("  sel:\n    eventName: x")).contains("no `condition`"));
    let e = error_of("title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image: x\n  condition: sel\n");
    assert!(e.contains("is not a Vigil table"), "{e}");
}

#[test]
fn a_placeholder_without_a_value_is_named() {
    let e = error_of(&rule(
        "  sel:\n    sourceIPAddress|expand: '%office_ips%'\n  condition: sel",
    ));
    assert!(e.contains("placeholder %office_ips% has no value"), "{e}");
    let mut values = Placeholders::new();
    values.insert(
        "office_ips".into(),
        vec!["198.51.100.7".into(), "198.51.100.8".into()],
    );
    let ok = compile(
        &rule("  sel:\n    sourceIPAddress|expand: '%office_ips%'\n  condition: sel"),
        "f",
        &values,
    )
    .unwrap();
    assert!(
        ok[0].predicate.contains("'198.51.100.8'"),
        "{}",
        ok[0].predicate
    );
}

#[test]
fn bad_values_are_named_not_panicked_on() {
    for (detection, needle) in [
        (
            "  sel:\n    eventName|gt: abc\n  condition: sel",
            "needs a number",
        ),
        (
            "  sel:\n    eventName|exists: maybe\n  condition: sel",
            "exists takes true or false",
        ),
        (
            "  sel:\n    eventName|base64: 'a*'\n  condition: sel",
            "cannot be base64-encoded",
        ),
        ("  sel:\n    eventName: []\n  condition: sel", "empty list"),
        (
            "  sel:\n    eventName: {a: b}\n  condition: sel",
            "must be text",
        ),
        ("  sel:\n    eventName: x\n  condition: (sel", "unclosed"),
        (
            "  sel:\n    eventName: x\n  condition: sel | count() > 5",
            "needs a `timeframe`",
        ),
        (
            "  sel:\n    eventName: x\n  timeframe: 5m\n  condition: sel | near other",
            "not supported",
        ),
        ("  condition: 1 of them", "names no selection"),
    ] {
        let e = error_of(&rule(detection));
        assert!(e.contains(needle), "{detection}: {e}");
    }
}

#[test]
fn an_error_is_typed() {
    let e = compile("a: [", "f.yml", &Placeholders::new()).unwrap_err();
    assert!(matches!(e, SigmaError::Yaml { .. }));
}

#[test]
fn every_truncation_of_a_rule_is_an_answer_not_a_panic() {
    let full = rule(
        "  sel_a:\n    eventName|startswith: 'Delete'\n    userAgent|re|i: '^aws-cli/(1|2)\\.'\n  sel_b:\n    - requestParameters.bucketName|contains|all: [a, b]\n    - sourceIPAddress|cidr: 10.0.0.0/8\n  keywords:\n    - evil\n  condition: (1 of sel_*) and not keywords",
    );
    assert!(compile(&full, "f", &Placeholders::new()).is_ok());
    for end in 0..full.len() {
        if full.is_char_boundary(end) {
            let _ = compile(&full[..end], "f", &Placeholders::new());
        }
    }
}

#[test]
fn a_legacy_count_is_the_event_count_correlation_it_means() {
    let legacy = compile(
        &rule("  selection:\n    eventName: ListBuckets\n  timeframe: 10m\n  condition: selection | count() by sourceIPAddress > 5"),
        "f",
        &Placeholders::new(),
    )
    .unwrap();
    let correlation = compile(
        "title: base\nname: selection\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  selection:\n    eventName: ListBuckets\n  condition: selection\n---\ntitle: Bad rule\ncorrelation:\n  type: event_count\n  rules: [selection]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition: {gt: 5}\nlevel: high\n",
        "f",
        &Placeholders::new(),
    )
    .unwrap();
    assert_eq!(legacy.len(), 1);
    let reporting: Vec<_> = correlation.iter().filter(|c| c.reports).collect();
    assert_eq!(legacy[0].sql, reporting[0].sql);
    let c = legacy[0].correlation.as_ref().unwrap();
    assert_eq!(
        (c.group_by.clone(), c.timespan_seconds),
        (vec!["sourceIPAddress".to_string()], 600)
    );
}
