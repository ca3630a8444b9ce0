//! Human-readable summaries for the terminal.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table as Grid};
use std::time::Duration;
use vigil_detect::{DetectReport, Finding, FindingStatus, RuleSet, TestOutcome};
use vigil_ingest::{IngestReport, Table};

use crate::commands::detect::FormatArg;

fn right(n: u64) -> Cell {
    Cell::new(n).set_alignment(CellAlignment::Right)
}

/// Prints what an ingestion did: rows and files per table, dead letters and
/// skips by reason, and the reconciliation of the counts.
pub fn print_ingest_summary(report: &IngestReport, lake: &str, elapsed: Duration) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["table", "rows", "files"]);
    for table in Table::INGESTED {
        let rows = if table == Table::DeadLetter {
            report.dead_lettered_total()
        } else {
            report.parsed.get(&table).copied().unwrap_or(0)
        };
        grid.add_row(vec![
            Cell::new(table.name()),
            right(rows),
            right(report.files_written.get(&table).copied().unwrap_or(0)),
        ]);
    }
    println!("Ingested into {lake}");
    println!("{grid}");
    for (title, counts) in [
        ("dead-lettered", &report.dead_lettered),
        ("skipped", &report.skipped),
    ] {
        if !counts.is_empty() {
            let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            println!("{title}: {}", parts.join(", "));
        }
    }
    let merged: u64 = report.files_already_merged.values().sum();
    if merged > 0 {
        println!("{merged} file(s) not stored again: `vigil compact` had merged them (their rows are in the lake)");
    }
    for path in &report.empty_inputs {
        println!("warning: {path} is empty");
    }
    for err in &report.input_errors {
        println!("error: {err}");
    }
    let secs = elapsed.as_secs_f64().max(1e-6);
    println!(
        "{} inputs, {} records read = {} parsed + {} dead-lettered + {} skipped{}; {:.1} MB in {:.2}s ({:.1} MB/s)",
        report.inputs,
        report.records_read,
        report.parsed_total(),
        report.dead_lettered_total(),
        report.skipped_total(),
        if report.reconciles() { "" } else { " (MISMATCH)" },
        report.bytes_read as f64 / 1e6,
        secs,
        report.bytes_read as f64 / 1e6 / secs,
    );
}

/// Prints what a compaction did (or would do) per table.
pub fn print_compaction(report: &vigil_ingest::compact::CompactReport, lake: &str, dry_run: bool) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "table",
        "hours",
        "files merged",
        "files written",
        "rows",
        "MB before",
        "MB after",
    ]);
    let mb =
        |b: u64| Cell::new(format!("{:.1}", b as f64 / 1e6)).set_alignment(CellAlignment::Right);
    for (table, t) in &report.tables {
        grid.add_row(vec![
            Cell::new(table.name()),
            right(t.hours),
            right(t.files_merged),
            right(t.files_written),
            right(t.rows),
            mb(t.bytes_before),
            mb(t.bytes_after),
        ]);
    }
    let verb = if dry_run {
        "Would compact"
    } else {
        "Compacted"
    };
    println!("{verb} {lake}");
    println!("{grid}");
    for (table, t) in &report.tables {
        if t.leftovers_deleted > 0 {
            println!(
                "{}: deleted {} files an interrupted compaction had already merged",
                table.name(),
                t.leftovers_deleted
            );
        }
        for (hour, reason) in &t.skipped {
            println!("{}: {hour} left as it is: {reason}", table.name());
        }
    }
    if report.staging_files_deleted > 0 {
        let done = if dry_run { "would delete" } else { "deleted" };
        println!(
            "{done} {} staging files of writes that never finished (older than an hour)",
            report.staging_files_deleted
        );
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Prints findings as a table (or JSON lines) and what detection did.
pub fn print_findings(findings: &[Finding], report: &DetectReport, format: FormatArg) {
    if let FormatArg::Json = format {
        for f in findings {
            println!("{}", serde_json::to_string(f).unwrap_or_default());
        }
        return;
    }
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "severity",
        "rule",
        "finding",
        "events",
        "first seen (UTC)",
        "status",
    ]);
    for f in findings {
        grid.add_row(vec![
            Cell::new(f.severity),
            Cell::new(&f.rule_id),
            Cell::new(&f.title),
            right(f.event_count),
            Cell::new(time(f.first_seen)),
            Cell::new(f.status.as_str()),
        ]);
    }
    let new = findings
        .iter()
        .filter(|f| f.status == FindingStatus::New)
        .count();
    if findings.is_empty() {
        println!("No findings.");
    } else {
        println!("Findings");
        println!("{grid}");
    }
    println!(
        "{} finding(s): {new} new, {} updated; {} repeat detection(s) merged into open findings; {} rule evaluations over {} rows{}",
        findings.len(),
        findings.len() - new,
        report.unchanged,
        report.evaluations,
        report.rows_read,
        [
            (report.repeated_deliveries > 0).then(|| format!(
                "; {} repeated deliveries of an event set aside",
                report.repeated_deliveries
            )),
            (report.windows_skipped > 0).then(|| format!(
                "; {} late window(s) skipped (catch-up bound)",
                report.windows_skipped
            )),
            (report.windows_without_history > 0).then(|| format!(
                "; {} window(s) of baseline rules left quiet (less history than the rule's min_history)",
                report.windows_without_history
            )),
            (report.streaming.batches > 0).then(|| format!(
                "; streaming rules over {} batch(es) of {} rows on average, {:.1} ms per batch (slowest {:.1} ms)",
                report.streaming.batches,
                report.streaming.rows / report.streaming.batches,
                report.streaming.per_batch().as_secs_f64() * 1e3,
                report.streaming.slowest.as_secs_f64() * 1e3
            )),
        ]
        .into_iter()
        .flatten()
        .collect::<String>()
    );
}

/// Prints the rules in force.
pub fn print_rules(rules: &RuleSet) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "rule", "severity", "mode", "tables", "tags", "pack", "file",
    ]);
    for r in &rules.rules {
        let mode = match r.schedule() {
            Some(s) => format!(
                "scheduled {} every {}",
                humantime::format_duration(s.window),
                humantime::format_duration(s.every)
            ),
            None => "streaming".into(),
        };
        grid.add_row(vec![
            Cell::new(&r.id),
            Cell::new(r.severity),
            Cell::new(mode),
            Cell::new(
                r.tables
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Cell::new(r.tags.join(" ")),
            Cell::new(vigil_detect::rule::pack_of(r).unwrap_or_else(|| "-".into())),
            Cell::new(r.path.display()),
        ]);
    }
    println!("{grid}");
    println!("{} rule(s)", rules.rules.len());
}

/// Prints pass/fail per rule test.
pub fn print_test_outcomes(outcomes: &[TestOutcome]) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["rule", "test", "result"]);
    for o in outcomes {
        grid.add_row(vec![
            Cell::new(&o.rule_id),
            Cell::new(&o.test),
            Cell::new(if o.passed {
                "pass".to_string()
            } else {
                format!("FAIL: {}", o.message)
            }),
        ]);
    }
    println!("{grid}");
    let passed = outcomes.iter().filter(|o| o.passed).count();
    println!("{passed} of {} rule test(s) passed", outcomes.len());
}

/// Prints where detection spent its time: the lake read (the rules run as
/// it goes), each rule, and the rules' planning and finishing beyond it.
pub fn print_timings(report: &DetectReport) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["step", "seconds"]);
    grid.add_row(vec![
        Cell::new("read the lake (once per window span), rules running"),
        Cell::new(format!("{:.3}", report.read_time.as_secs_f64()))
            .set_alignment(CellAlignment::Right),
    ]);
    let mut rules: Vec<_> = report.rule_time.iter().collect();
    rules.sort_by(|a, b| b.1.cmp(a.1));
    for (rule, t) in rules {
        grid.add_row(vec![
            Cell::new(rule),
            Cell::new(format!("{:.3}", t.as_secs_f64())).set_alignment(CellAlignment::Right),
        ]);
    }
    // Rules run side by side and while the lake is read: their times
    // overlap the read's; this is the wall time beyond it.
    grid.add_row(vec![
        Cell::new("rules: planning, and finishing after the read"),
        Cell::new(format!("{:.3}", report.evaluation_time.as_secs_f64()))
            .set_alignment(CellAlignment::Right),
    ]);
    let total = report.read_time + report.evaluation_time;
    grid.add_row(vec![
        Cell::new("total"),
        Cell::new(format!("{:.3}", total.as_secs_f64())).set_alignment(CellAlignment::Right),
    ]);
    eprintln!("{grid}");
}

/// Prints what alerting did, per destination.
pub fn print_deliveries(report: &vigil_alerting::DeliveryReport, dead_letter: &str) {
    if report.destinations.is_empty() {
        return;
    }
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "destination",
        "routed",
        "delivered",
        "dead-lettered",
        "attempts",
    ]);
    for (name, c) in &report.destinations {
        grid.add_row(vec![
            Cell::new(name),
            right(c.routed as u64),
            right(c.delivered as u64),
            right(c.dead_lettered as u64),
            right(c.attempts as u64),
        ]);
    }
    eprintln!("Alerts");
    eprintln!("{grid}");
    eprintln!(
        "{} delivered, {} dead-lettered{}; {} update(s) of findings already alerted not re-sent",
        report.delivered(),
        report.dead_lettered(),
        if report.dead_lettered() > 0 {
            format!(" (in {dead_letter}: `vigil alerts redrive` re-sends them)")
        } else {
            String::new()
        },
        report.suppressed
    );
}

/// Prints the saved hunts with their parameters.
pub fn print_hunts(hunts: &[vigil_queries::hunts::Hunt]) {
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["hunt", "what", "parameters (default)"]);
    for h in hunts {
        let params: Vec<String> = h
            .params
            .iter()
            .map(|p| format!("{} ({})", p.name, p.default))
            .collect();
        grid.add_row(vec![
            Cell::new(&h.name),
            Cell::new(format!("{}: {}", h.title, h.description)),
            Cell::new(params.join(", ")),
        ]);
    }
    println!("{grid}");
}
