//! The generator is deterministic, everything it writes parses (in each of
//! its three shapes) with nothing dead-lettered, and the built-in rules find
//! every planted scenario with no false positive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vigil_detect::engine::{DetectReport, ModeFilter, Source};
use vigil_detect::{Detector, RuleSet};
use vigil_generate::score::{lake_findings, read_labels, score_findings};
use vigil_generate::{generate, GenerateOptions, OutputFormat, ScenarioKind};
use vigil_ingest::{IngestOptions, Ingester, Lake};
use vigil_queries::TimeRange;

const START: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

fn options(out: &Path, format: OutputFormat, events: u64, seed: u64) -> GenerateOptions {
    GenerateOptions {
        events,
        hours: Some(7),
        seed,
        format,
        out: out.to_path_buf(),
        start_ms: START,
        ..GenerateOptions::default()
    }
}

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        OutputFormat::Ndjson,
        OutputFormat::Cloudwatch,
        OutputFormat::S3,
    ] {
        let a = dir.path().join(format!("{format:?}-a"));
        let b = dir.path().join(format!("{format:?}-b"));
        let c = dir.path().join(format!("{format:?}-c"));
        generate(&options(&a, format, 3_000, 11)).unwrap();
        generate(&options(&b, format, 3_000, 11)).unwrap();
        generate(&options(&c, format, 3_000, 12)).unwrap();
        let (fa, fb, fc) = (files(&a), files(&b), files(&c));
        assert!(fa.len() > 3, "{format:?}: {:?}", fa.keys());
        assert_eq!(
            fa.keys().collect::<Vec<_>>(),
            fb.keys().collect::<Vec<_>>(),
            "{format:?}"
        );
        for (path, bytes) in &fa {
            assert!(fb[path] == *bytes, "{format:?}: {} differs", path.display());
        }
        assert_ne!(
            fa.get(Path::new("labels.jsonl")),
            fc.get(Path::new("labels.jsonl"))
        );
    }
}

fn ingest(lake: &Lake, dir: &Path) -> vigil_ingest::IngestReport {
    let mut ingester = Ingester::new(IngestOptions::default(), lake.writer().unwrap());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            ingester.ingest_path(&path).unwrap();
        }
    }
    ingester.finish().unwrap()
}

#[test]
fn every_shape_parses_with_nothing_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        OutputFormat::Ndjson,
        OutputFormat::Cloudwatch,
        OutputFormat::S3,
    ] {
        let out = dir.path().join(format!("{format:?}"));
        let generated = generate(&options(&out, format, 4_000, 5)).unwrap();
        let lake = Lake::open(
            dir.path()
                .join(format!("{format:?}-lake"))
                .to_str()
                .unwrap(),
        )
        .unwrap();
        let report = ingest(&lake, &out);
        assert!(report.reconciles(), "{format:?}");
        assert_eq!(report.dead_lettered_total(), 0, "{format:?}: {report:?}");
        assert_eq!(
            report.parsed_total(),
            generated.events(),
            "{format:?}: {report:?}"
        );
        let rows = |t: vigil_ingest::Table| report.rows_written.get(&t).copied().unwrap_or(0);
        assert_eq!(
            rows(vigil_ingest::Table::CloudTrail),
            generated.cloudtrail,
            "{format:?}"
        );
        assert_eq!(
            rows(vigil_ingest::Table::ApiGateway),
            generated.apigateway,
            "{format:?}"
        );
        assert_eq!(
            rows(vigil_ingest::Table::Lambda),
            generated.lambda_lines,
            "{format:?}"
        );
        assert_eq!(rows(vigil_ingest::Table::Waf), generated.waf, "{format:?}");
        assert!(generated.waf > 0, "{format:?}");
        assert!(generated.events() >= 4_000);
    }
}

#[tokio::test]
async fn the_builtin_rules_find_every_scenario_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let generated = generate(&options(&out, OutputFormat::Ndjson, 8_000, 7)).unwrap();
    assert_eq!(generated.scenarios, ScenarioKind::ALL.len());
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let (l, o) = (lake.clone(), out.clone());
    let report = tokio::task::spawn_blocking(move || ingest(&l, &o))
        .await
        .unwrap();
    assert_eq!(report.dead_lettered_total(), 0);

    let detector = Detector::for_lake(RuleSet::builtin().unwrap(), lake.clone());
    let mut detect = DetectReport::default();
    let range = TimeRange::new(START, START + 7 * 3_600_000);
    let candidates = detector
        .over_range(range, Source::Lake, ModeFilter::All, &mut detect)
        .await
        .unwrap();
    detector
        .settle(candidates, START + 8 * 3_600_000, &mut detect)
        .await
        .unwrap();

    let labels = read_labels(&generated.labels).unwrap();
    let score = score_findings(&labels, &lake_findings(&lake).await.unwrap());
    assert_eq!(score.scenarios, ScenarioKind::ALL.len());
    assert_eq!(score.recall(), 1.0, "missed: {:?}", score.missed);
    assert_eq!(score.false_positives, 0, "{:#?}", score.unexplained);
    for (rule, r) in &score.rules {
        assert_eq!(r.found, r.expected, "{rule}: {r:?}");
    }
    // Every expected rule of every kind was checked.
    for kind in ScenarioKind::ALL {
        for rule in kind.expected_rules() {
            assert!(score.rules[*rule].found >= 1, "{rule}");
        }
    }
}

#[test]
fn scoring_counts_a_finding_outside_every_scenario_as_a_false_positive() {
    use vigil_generate::score::ScoredFinding;
    let dir = tempfile::tempdir().unwrap();
    let generated = generate(&options(
        &dir.path().join("g"),
        OutputFormat::Ndjson,
        500,
        3,
    ))
    .unwrap();
    let labels = read_labels(&generated.labels).unwrap();
    let spray = labels
        .iter()
        .find(|l| l.kind == ScenarioKind::PasswordSpray)
        .unwrap();
    let found = ScoredFinding {
        finding_id: "a".into(),
        rule_id: "password_spray".into(),
        first_seen: spray.start_ms,
        last_seen: spray.end_ms,
        keys: vec![spray.entities[0].clone()],
    };
    // Same rule, an hour and a half later, another address: no scenario explains it.
    let stray = ScoredFinding {
        finding_id: "b".into(),
        rule_id: "password_spray".into(),
        first_seen: spray.end_ms + 5_400_000,
        last_seen: spray.end_ms + 5_500_000,
        keys: vec!["192.0.2.200".into()],
    };
    let score = score_findings(&labels, &[found.clone(), stray]);
    assert_eq!(score.false_positives, 1);
    assert_eq!(score.rules["password_spray"].found, 1);
    assert_eq!(score.scenarios_found, 1);
    assert!(score.recall() < 1.0);
    let none = score_findings(&labels, &[]);
    assert_eq!((none.scenarios_found, none.recall()), (0, 0.0));
}
