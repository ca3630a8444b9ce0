//! Runs a rule's inline `[[tests]]`: raw records through the real ingester,
//! the rule through the real engine, the findings against the expectations.

use serde_json::Value;
use vigil_ingest::{IngestOptions, Ingester, MemorySink, SourceId};

use crate::engine::{DetectReport, Detector, ModeFilter, Source};
use crate::finding::Finding;
use crate::rule::{Rule, RuleSet, RuleTest};
use crate::tables::Tables;

/// Ingest time for test records that carry no time of their own: 2026-01-01.
const TEST_INGEST_TIME: i64 = 1_767_225_600_000;

/// The result of one test case.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub rule_id: String,
    pub test: String,
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub message: String,
    pub findings: Vec<Finding>,
}

/// Runs every test of `rule`.
pub async fn run_rule_tests(rule: &Rule) -> Vec<TestOutcome> {
    let mut out = Vec::new();
    for test in &rule.tests {
        let (passed, message, findings) = match run_one(rule, test).await {
            Ok((findings, problems)) => (problems.is_empty(), problems.join("; "), findings),
            Err(e) => (false, e, Vec::new()),
        };
        out.push(TestOutcome {
            rule_id: rule.id.clone(),
            test: test.name.clone(),
            passed,
            message,
            findings,
        });
    }
    out
}

/// Ingests records in memory, exactly as `vigil ingest` would parse them.
pub fn ingest_records(test: &RuleTest) -> Result<Tables, String> {
    let sink = MemorySink::default();
    let options = IngestOptions {
        format: test.format,
        ..IngestOptions::default()
    };
    let mut ingester = Ingester::new(options, sink.clone()).with_ingest_time(TEST_INGEST_TIME);
    for (i, record) in test.records.iter().enumerate() {
        ingester
            .ingest_bytes(
                record.as_bytes(),
                SourceId::new(
                    format!("test:{}#{i}", test.name),
                    &format!("{}#{i}", test.name),
                ),
            )
            .map_err(|e| format!("record {i}: {e}"))?;
    }
    let report = ingester.finish().map_err(|e| e.to_string())?;
    if report.dead_lettered_total() > 0 {
        let reasons: Vec<String> = sink
            .batches()
            .iter()
            .filter(|b| b.table == vigil_ingest::Table::DeadLetter)
            .flat_map(|b| {
                let col = b.batch.column_by_name("error").cloned();
                (0..b.batch.num_rows()).map(move |i| {
                    col.as_ref()
                        .and_then(|c| {
                            c.as_any()
                                .downcast_ref::<arrow::array::StringArray>()
                                .map(|a| a.value(i).to_string())
                        })
                        .unwrap_or_default()
                })
            })
            .collect();
        return Err(format!(
            "{} test record(s) did not parse: {}",
            report.dead_lettered_total(),
            reasons.join("; ")
        ));
    }
    Tables::from_batches(sink.batches()).map_err(|e| e.to_string())
}

/// Runs a rule over in-memory rows as the engine would over the lake: a
/// streaming rule over the batch, a scheduled one over every window.
pub async fn detect_in_memory(rules: RuleSet, tables: &Tables) -> Result<Vec<Finding>, String> {
    let detector = Detector::in_memory(rules);
    let mut report = DetectReport::default();
    let Some(span) = tables.span() else {
        return Ok(Vec::new());
    };
    let mut candidates = detector
        .streaming(tables, &mut report)
        .await
        .map_err(|e| e.to_string())?;
    candidates.extend(
        detector
            .over_range(
                span,
                Source::Memory(tables),
                ModeFilter::Scheduled,
                &mut report,
            )
            .await
            .map_err(|e| e.to_string())?,
    );
    detector
        .settle(candidates, 0, &mut report)
        .await
        .map_err(|e| e.to_string())
}

/// The made-up GeoIP/ASN database of the documentation ranges the samples
/// use (see `scripts/make-sample-context.py`), for rule tests with `geoip = true`.
const SAMPLE_GEOIP: &[u8] = include_bytes!("../../sample-context/geoip-sample.mmdb");

/// The context a test's `intel` and `geoip` put in force.
fn test_context(test: &RuleTest) -> Result<vigil_context::Context, String> {
    use crate::rule::TestIndicator;
    use vigil_context::IndicatorKind;
    let mut indicators = Vec::new();
    for entry in &test.intel {
        let (value, kind) = match entry {
            TestIndicator::Value(v) => (v, IndicatorKind::guess(v)),
            TestIndicator::Described { value, kind } => (value, IndicatorKind::parse(kind)),
        };
        let kind = kind.ok_or_else(|| format!("intel {value:?}: no known kind"))?;
        indicators.push(vigil_context::Indicator {
            value: value.clone(),
            kind,
            source: "rule-test".into(),
            confidence: None,
            first_seen: None,
            last_seen: None,
            tags: vec!["test".into()],
        });
    }
    let (intel, rejected) = vigil_context::IntelSet::build(indicators, "test".into());
    if !rejected.is_empty() {
        return Err(format!("intel: {}", rejected.join("; ")));
    }
    let geo = if test.geoip {
        vigil_context::GeoDatabases::open(vec![("geoip-sample.mmdb".into(), SAMPLE_GEOIP.to_vec())])
            .map_err(|e| e.to_string())?
    } else {
        vigil_context::GeoDatabases::default()
    };
    Ok(vigil_context::Context {
        intel,
        geo,
        ..Default::default()
    })
}

async fn run_one(rule: &Rule, test: &RuleTest) -> Result<(Vec<Finding>, Vec<String>), String> {
    let tables = ingest_records(test)?;
    let rules = RuleSet {
        rules: vec![rule.clone()],
    };
    let findings = if test.intel.is_empty() && !test.geoip {
        detect_in_memory(rules, &tables).await?
    } else {
        // The test's context is in force for this test only; tests with
        // a context take turns.
        static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _turn = TURN.lock().await;
        let context = std::sync::Arc::new(test_context(test)?);
        let before = vigil_context::replace(Some(context));
        let result = detect_in_memory(rules, &tables).await;
        vigil_context::replace(before);
        result?
    };
    let mut problems = Vec::new();
    if findings.len() != test.expect_count {
        problems.push(format!(
            "expected {} finding(s), got {}{}",
            test.expect_count,
            findings.len(),
            if findings.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    findings
                        .iter()
                        .map(|f| f.title.as_str())
                        .collect::<Vec<_>>()
                        .join(" / ")
                )
            }
        ));
    }
    let mut unmatched: Vec<&Finding> = findings.iter().collect();
    for expected in &test.expect {
        match unmatched.iter().position(|f| {
            expected
                .iter()
                .all(|(k, v)| value_of(f, k).as_deref() == Some(v.as_str()))
        }) {
            Some(p) => {
                unmatched.remove(p);
            }
            None => problems.push(format!(
                "no finding has {}",
                expected
                    .iter()
                    .map(|(k, v)| format!("{k} = {v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    Ok((findings, problems))
}

/// A finding's value for an expectation key: its own fields first, then the rule's result columns.
pub fn value_of(f: &Finding, key: &str) -> Option<String> {
    let own = match key {
        "title" => Some(f.title.clone()),
        "severity" => Some(f.severity.to_string()),
        "event_count" => Some(f.event_count.to_string()),
        "dedup_key" => Some(f.dedup_key.clone()),
        "actor" => f.entities.actor.clone(),
        "src_ip" => f.entities.src_ip.clone(),
        "account_id" => f.entities.account_id.clone(),
        "region" => f.entities.region.clone(),
        "resource" => f.entities.resource.clone(),
        _ => None,
    };
    own.or_else(|| match f.fields.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}
