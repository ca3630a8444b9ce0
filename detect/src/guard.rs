//! The tables rules may read, and the read-only check every rule's SQL passes.

use vigil_ingest::Table;
pub use vigil_queries::guard::{sql_options, Refusal};

/// The tables a rule may read.
pub const RULE_TABLES: [Table; 4] = Table::LOGS;

/// Tables of context a rule may join its lake tables with.
pub const CONTEXT_TABLES: [&str; 2] = ["intel", vigil_queries::first_seen::TABLE];

/// What a rule's SQL reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReads {
    /// The lake tables (at least one).
    pub tables: Vec<Table>,
    /// The context tables (of [`CONTEXT_TABLES`]).
    pub context: Vec<&'static str>,
}

/// One read-only SELECT over the rule tables, joined with context tables if
/// need be; returns what it reads.
pub fn check(sql: &str) -> Result<RuleReads, Refusal> {
    let mut allowed: Vec<&str> = RULE_TABLES.iter().map(|t| t.name()).collect();
    allowed.extend(CONTEXT_TABLES);
    let names = vigil_queries::guard::check(sql, &allowed)?;
    let tables: Vec<Table> = RULE_TABLES
        .into_iter()
        .filter(|t| names.iter().any(|n| n == t.name()))
        .collect();
    if tables.is_empty() {
        return Err(Refusal {
            line: 1,
            message: "the SQL reads no lake table".into(),
        });
    }
    let context = CONTEXT_TABLES
        .into_iter()
        .filter(|t| names.iter().any(|n| n == t))
        .collect();
    Ok(RuleReads { tables, context })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tables_join_lake_tables_and_never_stand_alone() {
        let reads =
            check("SELECT c.event_id FROM cloudtrail c JOIN intel i ON i.indicator = c.src_ip")
                .unwrap();
        assert_eq!(reads.tables, [Table::CloudTrail]);
        assert_eq!(reads.context, ["intel"]);
        let refused = check("SELECT principal FROM first_seen").unwrap_err();
        assert!(
            refused.message.contains("no lake table"),
            "{}",
            refused.message
        );
    }
}
