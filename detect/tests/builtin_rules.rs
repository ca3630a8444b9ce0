//! Every built-in rule loads, plans against the lake schemas, and passes its own tests.

use vigil_detect::{run_rule_tests, RuleSet};

#[tokio::test]
async fn every_builtin_rule_passes_its_tests() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    rules.check_plans().await.expect("built-in rules plan");
    assert!(rules.rules.len() >= 2);
    let mut failures = Vec::new();
    let mut run = 0;
    for rule in &rules.rules {
        for outcome in run_rule_tests(rule).await {
            run += 1;
            if !outcome.passed {
                failures.push(format!(
                    "{} / {}: {}",
                    outcome.rule_id, outcome.test, outcome.message
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {run} rule tests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_sigma_pack_is_off_by_default_and_loads_whole_when_asked_for() {
    use vigil_detect::rule::pack_of;
    use vigil_detect::RuleSources;
    let default = RuleSources::default().load().unwrap();
    assert!(default.rules.iter().all(|r| pack_of(r).is_none()));
    let with_pack = RuleSources {
        packs: vec!["sigma".into()],
        ..RuleSources::default()
    }
    .load()
    .unwrap();
    with_pack
        .check_plans()
        .await
        .expect("every pack rule plans");
    let pack: Vec<_> = with_pack
        .rules
        .iter()
        .filter(|r| pack_of(r).as_deref() == Some("sigma"))
        .collect();
    assert_eq!(pack.len(), 56);
    assert_eq!(with_pack.rules.len(), default.rules.len() + 56);
    for r in pack {
        assert!(r.id.starts_with("sigma_aws_"), "{}", r.id);
        assert!(r.references[0].starts_with("Sigma: "), "{:?}", r.references);
    }
    let unknown = RuleSources {
        packs: vec!["nope".into()],
        ..RuleSources::default()
    }
    .load()
    .unwrap_err();
    assert!(
        unknown.to_string().contains("no rule pack named \"nope\""),
        "{unknown}"
    );
}

#[tokio::test]
async fn the_legacy_count_rules_of_sigmahq_load_as_scheduled_correlations() {
    use vigil_detect::Mode;
    let dir = vigil_test_support::corpus("sigma-aws-rules/unsupported/cloud");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            vigil_detect::sigma::SigmaSource {
                path,
                text,
                tests: None,
            }
        })
        .collect();
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    for result in vigil_detect::sigma::parse_sigma_files(&files, &Default::default()) {
        match result {
            Ok(rules) => loaded.extend(rules),
            Err(e) => refused.push(e.to_string()),
        }
    }
    // Six `| count()` rules and one plain rule load; the eighth uses
    // `near`, which has no reading.
    assert_eq!(loaded.len(), 7, "{refused:?}");
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("near"), "{}", refused[0]);
    let scheduled = loaded.iter().filter(|r| r.mode != Mode::Streaming).count();
    assert_eq!(scheduled, 6);
    RuleSet { rules: loaded }
        .check_plans()
        .await
        .expect("they plan");
}

#[tokio::test]
async fn a_sigma_rule_runs_the_tests_of_its_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stop_logging.yml"),
        "title: CloudTrail stopped\nid: 3f6a3c3e-44c1-4f3a-9c43-0d3b1e0f5a10\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  selection:\n    eventSource: cloudtrail.amazonaws.com\n    eventName: StopLogging\n  condition: selection\nlevel: high\n",
    )
    .unwrap();
    let record = |name: &str, id: &str| {
        format!(
            "'{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/bob\",\"accountId\":\"111122223333\",\"userName\":\"bob\"}},\"eventTime\":\"2026-11-24T09:00:00Z\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"{name}\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"203.0.113.9\",\"userAgent\":\"aws-cli/2.15.0\",\"requestParameters\":{{\"name\":\"main\"}},\"responseElements\":null,\"eventID\":\"{id}\",\"readOnly\":false,\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"111122223333\"}}'"
        )
    };
    let sidecar = |fires: usize| {
        format!(
            "[[tests]]\nname = \"stopped\"\nformat = \"cloudtrail\"\nrecords = [{}]\nexpect_count = {fires}\n\n[[tests]]\nname = \"only described\"\nformat = \"cloudtrail\"\nrecords = [{}]\nexpect_count = 0\n",
            record("StopLogging", "e-1"),
            record("DescribeTrails", "e-2")
        )
    };
    let sidecar_path = dir.path().join("stop_logging.tests.toml");
    std::fs::write(&sidecar_path, sidecar(1)).unwrap();
    let rules = RuleSet::load_dir(dir.path()).unwrap();
    assert_eq!(rules.rules.len(), 1, "the sidecar is not a rule of its own");
    let outcomes = run_rule_tests(&rules.rules[0]).await;
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o.passed), "{outcomes:#?}");

    // A sidecar expecting what the rule does not do fails its test.
    std::fs::write(&sidecar_path, sidecar(2)).unwrap();
    let rules = RuleSet::load_dir(dir.path()).unwrap();
    let outcomes = run_rule_tests(&rules.rules[0]).await;
    assert!(outcomes.iter().any(|o| !o.passed));
}

#[tokio::test]
async fn a_folder_s_sigma_files_read_each_other_s_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("denied.yml"),
        "title: A denied call\nid: 0a9c1f52-1c1d-4a53-8d6e-2f0b8f2e0002\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    errorCode: AccessDenied\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mr_denied_bursts.yml"),
        "title: Bursts of denied calls, repeated\ncorrelation:\n  type: event_count\n  rules: [denied_burst]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  condition: {gte: 2}\nlevel: high\n---\ntitle: A burst of denied calls\nname: denied_burst\ncorrelation:\n  type: event_count\n  rules: [0a9c1f52-1c1d-4a53-8d6e-2f0b8f2e0002]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition: {gte: 3}\n",
    )
    .unwrap();
    let set = RuleSet::load_dir(dir.path()).expect("the files load together");
    let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    // The chain reports once, as its outermost correlation; the rules it
    // reads do not report on their own.
    assert_eq!(ids, ["sigma_mr_denied_bursts_2"]);
    let rule = &set.rules[0];
    assert!(rule.mode != vigil_detect::Mode::Streaming);
    set.check_plans().await.expect("the chain plans");
}

#[test]
fn a_deeply_nested_sigma_condition_compiles_or_is_refused_for_its_depth() {
    // Every depth up to the Sigma parser's limit either compiles to SQL the
    // guard accepts or is refused naming the nesting, never with a parser
    // error alone; four levels, more than rules use, always compile.
    let most = vigil_sigma::condition::MOST_NESTING;
    for (open, close) in [("(", ")"), ("not ", ""), ("not (sel or (", "))")] {
        for depth in 1..=most {
            let condition = format!("{}other{}", open.repeat(depth), close.repeat(depth));
            let text = format!(
                "title: Deep\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n  sel:\n    eventName: x\n  other:\n    eventSource: y\n  condition: {condition}\n"
            );
            let source = vigil_detect::sigma::SigmaSource {
                path: "deep.yml".into(),
                text,
                tests: None,
            };
            for result in vigil_detect::sigma::parse_sigma_files(&[source], &Default::default()) {
                match result {
                    Ok(rules) => {
                        for rule in rules {
                            let sql = rule.sql(vigil_queries::TimeRange::ALL);
                            vigil_detect::guard::check(&sql)
                                .unwrap_or_else(|e| panic!("{condition}: {e:?}\n{sql}"));
                        }
                    }
                    Err(e) => {
                        let e = e.to_string();
                        assert!(depth > 4, "{condition}: {e}");
                        assert!(e.contains("nests"), "{condition}: {e}");
                    }
                }
            }
        }
    }
}
