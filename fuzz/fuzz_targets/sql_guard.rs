//! Hunting SQL: whatever the guard accepts is, read independently, one query
//! that writes nothing (no INSERT, UPDATE, DELETE, MERGE, SELECT INTO, DDL,
//! in the statement, its set operations or its common table expressions).
#![no_main]

use datafusion::sql::sqlparser::ast::{Query, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use libfuzzer_sys::fuzz_target;

fn writes(query: &Query) -> bool {
    let in_ctes = query
        .with
        .as_ref()
        .is_some_and(|with| with.cte_tables.iter().any(|cte| writes(&cte.query)));
    in_ctes || body_writes(&query.body)
}

fn body_writes(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.into.is_some(),
        SetExpr::Query(q) => writes(q),
        SetExpr::SetOperation { left, right, .. } => body_writes(left) || body_writes(right),
        SetExpr::Values(_) | SetExpr::Table(_) => false,
        // INSERT, UPDATE, DELETE, MERGE and whatever a new parser adds.
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    if vigil_queries::guard::check(sql, &vigil_queries::HUNTING_TABLES).is_err() {
        return;
    }
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .unwrap_or_else(|e| panic!("the guard accepted what does not parse: {e}\n{sql}"));
    assert_eq!(
        statements.len(),
        1,
        "the guard accepted {} statements",
        statements.len()
    );
    match &statements[0] {
        Statement::Query(q) => assert!(!writes(q), "the guard accepted a write: {sql}"),
        other => panic!("the guard accepted a statement that is not a query: {other}"),
    }
});
