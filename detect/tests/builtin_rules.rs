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
