//! The tables rules may read, and the read-only check every rule's SQL passes.

use vigil_ingest::Table;
pub use vigil_queries::guard::{sql_options, Refusal};

/// The tables a rule may read.
pub const RULE_TABLES: [Table; 4] = Table::LOGS;

/// Tables of context a rule may join its lake tables with.
pub const CONTEXT_TABLES: [&str; 2] = ["intel", vigil_queries::first_seen::TABLE];

/// One read-only SELECT over the rule tables; returns the tables it reads.
pub fn check(sql: &str) -> Result<Vec<Table>, Refusal> {
    let mut allowed: Vec<&str> = RULE_TABLES.iter().map(|t| t.name()).collect();
    allowed.extend(CONTEXT_TABLES);
    let names = vigil_queries::guard::check(sql, &allowed)?;
    if names.is_empty() {
        return Err(Refusal {
            line: 1,
            message: "the SQL reads no lake table".into(),
        });
    }
    Ok(RULE_TABLES
        .into_iter()
        .filter(|t| names.iter().any(|n| n == t.name()))
        .collect())
}

/// The context tables (see [`CONTEXT_TABLES`]) a rule's SQL reads.
pub fn context_tables(sql: &str) -> Result<Vec<String>, Refusal> {
    let mut allowed: Vec<&str> = RULE_TABLES.iter().map(|t| t.name()).collect();
    allowed.extend(CONTEXT_TABLES);
    let names = vigil_queries::guard::check(sql, &allowed)?;
    Ok(names
        .into_iter()
        .filter(|n| CONTEXT_TABLES.contains(&n.as_str()))
        .collect())
}
