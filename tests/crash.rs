//! Crash consistency of the binary: `vigil ingest`, `vigil compact` and
//! `vigil detect --due` killed with SIGKILL at random moments, on a local
//! lake and on an S3 lake (moto), each then run again until a run ends.
//!
//! At every kill, every Parquet file a reader can see (any `*.parquet`,
//! whatever lists it) reads whole. After the run that ends, the lake holds
//! what one uninterrupted run leaves: every record once (or dead-lettered
//! once), every finding once, and each finding alerted once: a delivery cut
//! between the destination's answer and the outbox's update is repeated
//! whole, under the same idempotency key, and that is the only repeat
//! allowed.
//!
//! The moments come from a seed each test prints; `VIGIL_CRASH_SEED=<seed>`
//! replays them.

mod common;

#[path = "common/lake_rows.rs"]
mod lake_rows;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{succeed, vigil};
use lake_rows::{alerts_once, file_alerts_config, files_under, Store, TestLake};

/// Kills per command and kind of lake.
const KILLS: usize = 50;
/// Kills before a run is let finish and the lake compared with the reference.
const KILLS_PER_ROUND: usize = 5;
/// The input: a multi-hour timeline of the four families (scenarios need 7 hours).
const EVENTS: &str = "6000";
const HOURS: &str = "8";
const START: &str = "2026-11-01T00:00:00Z";
/// `vigil detect --due` catches up from checkpoints set at `CHECKPOINTS_AT`
/// to `DUE_AT`, with rules that find the timeline's scenarios in between
/// (the time of a run in the dev profile is what bounds their number).
const CHECKPOINTS_AT: &str = "2026-11-01T02:45:00Z";
const DUE_AT: &str = "2026-11-01T05:30:00Z";
const DUE_RULES: [&str; 4] = [
    "apigw_auth_failure_burst",
    "lambda_error_spike",
    "password_spray",
    "waf_blocked_burst",
];

/// The kill moments: a seed printed, or the one `VIGIL_CRASH_SEED` names.
fn moments(test: &str) -> fastrand::Rng {
    let seed = std::env::var("VIGIL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("{test}: VIGIL_CRASH_SEED={seed}");
    fastrand::Rng::with_seed(seed)
}

/// Runs `command` and SIGKILLs it after `after`, unless it ended first
/// (then it must have succeeded). Tells whether it was killed.
fn run_killed(mut command: Command, after: Duration) -> bool {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            assert!(status.success(), "ended on its own, failing: {stderr}");
            return false;
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `command` to its end and returns how long it took.
fn timed(mut command: Command) -> Duration {
    let started = Instant::now();
    succeed(&mut command);
    started.elapsed()
}

/// The generated input: every family over the multi-hour timeline.
fn input() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    succeed(
        vigil(dir.path())
            .args([
                "generate", "--events", EVENTS, "--hours", HOURS, "--start", START, "--seed", "11",
                "--out",
            ])
            .arg(&out),
    );
    let mut paths: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "labels.jsonl"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "{paths:?}");
    (dir, paths)
}

fn ingest(lake: &TestLake, paths: &[PathBuf], batch_rows: &str) -> Command {
    let mut cmd = lake.vigil();
    cmd.args(["ingest", "--no-progress", "--batch-rows", batch_rows])
        .args(paths);
    cmd
}

/// A uniformly random moment of a run that takes `full`.
fn moment(rng: &mut fastrand::Rng, full: Duration) -> Duration {
    full.mul_f64(rng.f64())
}

async fn ingest_is_crash_safe(store: Store) {
    let mut rng = moments(&format!("ingest on {store:?}"));
    let (_input, paths) = input();
    let reference = TestLake::new(store, "reference").await;
    let full = timed(ingest(&reference, &paths, "2000"));
    let expected = reference.rows().await;
    assert!(expected.total() > 6000, "{}", expected.total());

    let mut kills = 0;
    let mut round = 0;
    while kills < KILLS {
        round += 1;
        let lake = TestLake::new(store, &format!("ingest-{round}")).await;
        for _ in 0..KILLS_PER_ROUND {
            let at = moment(&mut rng, full);
            kills += usize::from(run_killed(ingest(&lake, &paths, "2000"), at));
            lake.rows()
                .await
                .assert_no_more_than(&expected, &format!("ingest killed after {at:?}"));
        }
        succeed(&mut ingest(&lake, &paths, "2000"));
        lake.rows()
            .await
            .assert_same(&expected, &format!("ingest run again after round {round}"));
    }
    eprintln!("ingest on {store:?}: {kills} kills over a run of {full:?}");
}

async fn compact_is_crash_safe(store: Store) {
    let mut rng = moments(&format!("compact on {store:?}"));
    let (input, paths) = input();
    // Many small files in every hour, as deliveries of a few records each leave.
    let prepared = TestLake::new(store, "prepared").await;
    succeed(&mut ingest(
        &prepared,
        &chunks(&paths, &input.path().join("chunks"), 60),
        "2000",
    ));
    let expected = prepared.rows().await;
    let files_before = prepared.objects().await.len();
    let compact = |lake: &TestLake| {
        let mut cmd = lake.vigil();
        cmd.arg("compact");
        cmd
    };
    let reference = TestLake::new(store, "compacted").await;
    prepared.copy_into(&reference).await;
    let full = timed(compact(&reference));
    reference
        .rows()
        .await
        .assert_same(&expected, "compacted uninterrupted");
    // One file per table and hour.
    let compacted = parquet_count(&reference.objects().await);
    let hours: std::collections::BTreeSet<String> = prepared
        .objects()
        .await
        .iter()
        .filter_map(|o| o.rsplit_once('/').map(|(folder, _)| folder.to_string()))
        .collect();
    assert_eq!(
        compacted,
        hours.len(),
        "{compacted} files of {files_before}"
    );
    assert!(files_before > 2 * compacted, "{files_before} small files");

    let mut kills = 0;
    let mut round = 0;
    while kills < KILLS {
        round += 1;
        let lake = TestLake::new(store, &format!("compact-{round}")).await;
        prepared.copy_into(&lake).await;
        for _ in 0..KILLS_PER_ROUND {
            let at = moment(&mut rng, full);
            kills += usize::from(run_killed(compact(&lake), at));
            // While a merge is under way its rows may be seen twice, never lost.
            lake.rows()
                .await
                .assert_no_fewer_than(&expected, &format!("compact killed after {at:?}"));
        }
        succeed(&mut compact(&lake));
        lake.rows()
            .await
            .assert_same(&expected, &format!("compact run again after round {round}"));
        assert_eq!(parquet_count(&lake.objects().await), compacted);
    }
    eprintln!("compact on {store:?}: {kills} kills over a run of {full:?}");
}

/// `paths` cut into files of `lines` lines each, in `dir`.
fn chunks(paths: &[PathBuf], dir: &Path, lines: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap();
        let all: Vec<&str> = text.lines().collect();
        for (n, chunk) in all.chunks(lines).enumerate() {
            let family = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy();
            let stem = path.file_stem().unwrap().to_string_lossy();
            let file = dir.join(format!("{family}-{stem}-{n:04}.ndjson"));
            std::fs::write(&file, chunk.join("\n") + "\n").unwrap();
            out.push(file);
        }
    }
    out
}

fn parquet_count(objects: &[String]) -> usize {
    objects
        .iter()
        .filter(|o| o.ends_with(".parquet") && !o.starts_with("_state/"))
        .count()
}

async fn detect_is_crash_safe(store: Store) {
    let mut rng = moments(&format!("detect on {store:?}"));
    let (input, paths) = input();
    let prepared = TestLake::new(store, "ingested").await;
    succeed(&mut ingest(&prepared, &paths, "2000"));
    let mut checkpoints = prepared.vigil();
    checkpoints
        .args(["detect", "--due", "--no-alerts", "--now", CHECKPOINTS_AT])
        .args(DUE_RULES.iter().flat_map(|r| ["--rule", r]));
    succeed(&mut checkpoints);
    let config = |alerts: &Path| file_alerts_config(input.path(), alerts);
    let detect = |lake: &TestLake, config: &Path| {
        let mut cmd = lake.vigil();
        cmd.arg("--config")
            .arg(config)
            .args(["detect", "--due", "--now", DUE_AT])
            .args(DUE_RULES.iter().flat_map(|r| ["--rule", r]));
        cmd
    };
    let reference = TestLake::new(store, "detected").await;
    prepared.copy_into(&reference).await;
    let reference_alerts = input.path().join("alerts-reference.jsonl");
    let full = timed(detect(&reference, &config(&reference_alerts)));
    let expected = reference.rows().await;
    let findings = expected.0.get("findings").map_or(0, Vec::len);
    assert!(findings > 0, "the timeline's scenarios give findings");
    let (expected_alerts, repeats) = alerts_once(&reference_alerts, "uninterrupted");
    assert_eq!(repeats, 0);
    assert!(!expected_alerts.is_empty());

    let mut kills = 0;
    let mut round = 0;
    let mut repeated = 0;
    while kills < KILLS {
        round += 1;
        let lake = TestLake::new(store, &format!("detect-{round}")).await;
        prepared.copy_into(&lake).await;
        let alerts_file = input.path().join(format!("alerts-{round}.jsonl"));
        let config = config(&alerts_file);
        for _ in 0..KILLS_PER_ROUND {
            let at = moment(&mut rng, full);
            kills += usize::from(run_killed(detect(&lake, &config), at));
            let when = format!("detect killed after {at:?}");
            lake.rows().await.assert_no_more_than(&expected, &when);
            alerts_once(&alerts_file, &when);
        }
        succeed(&mut detect(&lake, &config));
        let when = format!("detect run again after round {round}");
        lake.rows().await.assert_same(&expected, &when);
        let (got, repeats) = alerts_once(&alerts_file, &when);
        assert_eq!(got, expected_alerts, "{when}: the alerts");
        repeated += repeats;
    }
    eprintln!(
        "detect on {store:?}: {kills} kills over a run of {full:?}, {repeated} deliveries repeated"
    );
}

#[tokio::test]
async fn ingest_killed_at_random_moments_leaves_every_record_once() {
    ingest_is_crash_safe(Store::Local).await;
}

#[tokio::test]
async fn compact_killed_at_random_moments_loses_and_doubles_nothing() {
    compact_is_crash_safe(Store::Local).await;
}

#[tokio::test]
async fn detect_killed_at_random_moments_settles_and_alerts_each_finding_once() {
    detect_is_crash_safe(Store::Local).await;
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn ingest_killed_on_s3_leaves_every_record_once() {
    ingest_is_crash_safe(Store::Moto).await;
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn compact_killed_on_s3_loses_and_doubles_nothing() {
    compact_is_crash_safe(Store::Moto).await;
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn detect_killed_on_s3_settles_and_alerts_each_finding_once() {
    detect_is_crash_safe(Store::Moto).await;
}
