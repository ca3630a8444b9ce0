//! Malformed Sigma gets a clear error naming the file, the rule and what is
//! wrong, never a panic.

use vigil_sigma::{compile, compile_files, Placeholders, SigmaError, SigmaFile};

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
        (
            "  sel:\n    eventName|re: '^(?!Get).*'\n  condition: sel",
            "no look-around",
        ),
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

const DENIED: &str = "title: A denied call\nname: denied\nid: 0a9c1f52-1c1d-4a53-8d6e-2f0b8f2e0001\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    errorCode: AccessDenied\n  condition: sel\n";

fn count_of(name: &str, reads: &str, group_by: &str) -> String {
    format!("title: Count of {reads}\nname: {name}\ncorrelation:\n  type: event_count\n  rules: [{reads}]\n  group-by: [{group_by}]\n  timespan: 10m\n  condition: {{gte: 3}}\n")
}

#[test]
fn a_correlation_reading_a_missing_rule_is_named() {
    let e = error_of(&format!(
        "{DENIED}---\n{}",
        count_of("c", "typo", "sourceIPAddress")
    ));
    assert!(
        e.contains("rules/bad.yml") && e.contains("Count of typo"),
        "{e}"
    );
    assert!(e.contains("reads rule \"typo\", which is no rule"), "{e}");
}

#[test]
fn correlations_reading_each_other_are_a_cycle() {
    let e = error_of(&format!(
        "{}---\n{}",
        count_of("a", "b", "sourceIPAddress"),
        count_of("b", "a", "sourceIPAddress")
    ));
    assert!(e.contains("(a cycle)"), "{e}");
}

#[test]
fn a_chain_groups_only_by_what_the_correlation_it_reads_carries() {
    let e = error_of(&format!(
        "{DENIED}---\n{}---\n{}",
        count_of("inner", "denied", "sourceIPAddress"),
        count_of("outer", "inner", "userIdentity.arn")
    ));
    assert!(
        e.contains("rule \"inner\" is a correlation, whose firings carry only its group-by fields (sourceIPAddress)"),
        "{e}"
    );
}

#[test]
fn a_chain_reports_its_outermost_correlation_only() {
    let chain = compile(
        &format!(
            "{DENIED}---\n{}---\n{}",
            count_of("inner", "denied", "sourceIPAddress"),
            count_of("outer", "inner", "sourceIPAddress")
        ),
        "f",
        &Placeholders::new(),
    )
    .unwrap();
    let reporting: Vec<&str> = chain
        .iter()
        .filter(|c| c.reports)
        .map(|c| c.rule.title.as_str())
        .collect();
    assert_eq!(reporting, ["Count of inner"]);
    let outer = chain.iter().find(|c| c.reports).unwrap();
    // The outer window reads the inner one's history too.
    assert_eq!(outer.correlation.as_ref().unwrap().history_seconds, 1200);
}

#[test]
fn a_correlation_reads_the_rules_of_another_file_by_id() {
    let reader = "title: Denials by address\ncorrelation:\n  type: event_count\n  rules: [0a9c1f52-1c1d-4a53-8d6e-2f0b8f2e0001]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition: {gte: 3}\n";
    let files = [
        SigmaFile {
            text: reader,
            name: "reader.yml",
        },
        SigmaFile {
            text: DENIED,
            name: "denied.yml",
        },
    ];
    let results = compile_files(&files, &Placeholders::new());
    let reader = results[0].as_ref().unwrap();
    assert!(reader[0].reports && reader[0].correlation.is_some());
    // The rule read does not report on its own (no `generate`).
    assert!(!results[1].as_ref().unwrap()[0].reports);
    // Alone, the reader names what it misses.
    let e = compile(files[0].text, "reader.yml", &Placeholders::new()).unwrap_err();
    assert!(
        e.to_string().contains("nor of the files loaded with it"),
        "{e}"
    );
}

#[test]
fn temporal_ordered_needs_a_least_count_it_can_reach() {
    let three = "title: a\nname: a\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName: A}, condition: sel}\n---\ntitle: b\nname: b\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName: B}, condition: sel}\n";
    let ordered = |condition: &str| {
        format!("{three}---\ntitle: Ordered\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n{condition}")
    };
    assert!(error_of(&ordered("  condition: {gte: 3}\n")).contains("asks for 3 of its 2 rules"));
    assert!(error_of(&ordered("  condition: {lte: 1}\n"))
        .contains("needs a condition with a least count"));
    let one = compile(
        &ordered("  condition: {gte: 1}\n"),
        "f",
        &Placeholders::new(),
    )
    .unwrap();
    let sql = &one.iter().find(|c| c.reports).unwrap().sql;
    // Either rule alone, each its own order.
    assert!(
        sql.contains("sigma_s1_seq0") && !sql.contains("sigma_s2_"),
        "{sql}"
    );
}

fn count_over(timespan: &str) -> String {
    format!("{DENIED}---\ntitle: Denials\ncorrelation:\n  type: event_count\n  rules: [denied]\n  group-by: [sourceIPAddress]\n  timespan: {timespan}\n  condition: {{gte: 3}}\n")
}

#[test]
fn a_timespan_too_long_or_malformed_is_named() {
    // The fuzzer's find: `…d` beyond u64 seconds overflowed the product.
    for too_long in ["99999999999999999d", "367d", "9000h"] {
        let e = error_of(&count_over(too_long));
        assert!(e.contains("longer than a year"), "{too_long}: {e}");
    }
    // A unit of several bytes once split the text inside a character.
    for malformed in ["5é", "é", "m", "-5m", "5 m", "5w", ""] {
        let e = error_of(&count_over(&format!("{malformed:?}")));
        assert!(e.contains("timespan"), "{malformed}: {e}");
    }
    let year = compile(&count_over("366d"), "f", &Placeholders::new()).unwrap();
    let c = year.iter().find_map(|c| c.correlation.as_ref()).unwrap();
    assert_eq!(c.timespan_seconds, 366 * 86_400);
}

#[test]
fn a_condition_nested_past_the_limit_is_refused_not_recursed() {
    let nested = |depth: usize, open: &str, close: &str| {
        rule(&format!(
            "  sel:\n    eventName: x\n  condition: {}sel{}",
            open.repeat(depth),
            close.repeat(depth)
        ))
    };
    let most = vigil_sigma::condition::MOST_NESTING;
    for (open, close) in [("(", ")"), ("not ", "")] {
        compile(&nested(most, open, close), "f", &Placeholders::new()).unwrap();
        let e = error_of(&nested(most + 1, open, close));
        assert!(e.contains(&format!("nests more than {most} levels")), "{e}");
        // Deep enough to overflow a thread's stack, were it recursed.
        let e = error_of(&nested(200_000, open, close));
        assert!(e.contains("nests more than"), "{e}");
    }
}
