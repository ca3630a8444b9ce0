//! Human-readable summaries for the terminal.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table as Grid};
use std::time::Duration;
use vigil_ingest::{IngestReport, Table};

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
