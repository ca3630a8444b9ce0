//! Keeps rule, query and hunt SQL read-only: one SELECT over known tables, nothing else.

use datafusion::execution::context::SQLOptions;
use datafusion::sql::sqlparser::ast::{
    Query, SetExpr, Spanned, Statement, TableFactor, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// Why SQL was refused, and on which line of the SQL (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub message: String,
}

/// DataFusion options that refuse DDL, DML and statements (`SET`, ...), as a
/// second lock behind [`check`].
pub fn sql_options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// How deep the parser may nest (expressions in expressions, queries in
/// queries). The parser (sqlparser 0.62, which DataFusion 55 pins) backtracks,
/// and some shapes double its work per level: under its default of 50, two
/// queries of about 250 bytes the `sql_guard` fuzz target found took 20 s and
/// 11 s to refuse, the second still 11 s at 30; at 20 both are refused in
/// microseconds. The built-in rules, the Sigma pack and the saved hunts nest
/// less deeply.
pub const RECURSION_LIMIT: usize = 20;

/// Checks that `sql` is exactly one read-only query over the `allowed` tables
/// and returns the tables it reads.
pub fn check(sql: &str, allowed: &[&str]) -> Result<Vec<String>, Refusal> {
    check_statements(sql, allowed, false)
}

/// Like [`check`], and also accepts `EXPLAIN [ANALYZE] [VERBOSE]` of such a
/// query, so that a hunter can see a query's plan and where its time went
/// (`EXPLAIN ANALYZE` runs the query, which reads and nothing else).
pub fn check_query(sql: &str, allowed: &[&str]) -> Result<Vec<String>, Refusal> {
    check_statements(sql, allowed, true)
}

fn check_statements(sql: &str, allowed: &[&str], explain: bool) -> Result<Vec<String>, Refusal> {
    let statements = Parser::new(&GenericDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => Refusal {
                line: 1,
                message: format!(
                    "the SQL nests more than {RECURSION_LIMIT} levels deep \
                     (expressions in expressions, queries in queries)"
                ),
            },
            e => Refusal {
                line: parser_error_line(&e.to_string()),
                message: format!("the SQL does not parse: {e}{}", nesting_hint(sql)),
            },
        })?;
    let statement = match statements.as_slice() {
        [one] => one,
        [] => {
            return Err(Refusal {
                line: 1,
                message: "the SQL is empty".into(),
            })
        }
        [_, _, ..] => {
            return Err(Refusal {
                line: second_statement_line(sql),
                message: format!(
                    "the SQL must be one SELECT; found {} statements",
                    statements.len()
                ),
            })
        }
    };
    let statement = match statement {
        Statement::Explain { statement, .. } if explain => statement.as_ref(),
        other => other,
    };
    let Statement::Query(query) = statement else {
        return Err(Refusal {
            line: line_of(statement.span().start.line),
            message: format!(
                "only a read-only SELECT is allowed, not {}",
                statement
                    .to_string()
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        });
    };
    let mut visitor = ReadOnly::default();
    if let ControlFlow::Break(refusal) = query.visit(&mut visitor) {
        return Err(refusal);
    }
    let mut tables = Vec::new();
    for name in &visitor.relations {
        if visitor.ctes.contains(name) {
            continue;
        }
        if !allowed.contains(&name.as_str()) {
            return Err(Refusal {
                line: 1,
                message: format!(
                    "unknown table {name}: the tables are {}",
                    allowed.join(", ")
                ),
            });
        }
        if !tables.contains(name) {
            tables.push(name.clone());
        }
    }
    Ok(tables)
}

#[derive(Default)]
struct ReadOnly {
    relations: BTreeSet<String>,
    ctes: BTreeSet<String>,
}

impl Visitor for ReadOnly {
    type Break = Refusal;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.to_lowercase());
            }
        }
        if let Some(write) = body_writes(&query.body) {
            return refuse(query.span().start.line, write.into());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        let line = factor.span().start.line;
        match factor {
            TableFactor::Table { name, args, .. } => {
                if args.is_some() {
                    return refuse(
                        line,
                        format!("table function {name} is not allowed in a rule"),
                    );
                }
                self.relations.insert(name.to_string().to_lowercase());
                ControlFlow::Continue(())
            }
            TableFactor::TableFunction { .. } | TableFactor::Function { .. } => {
                refuse(line, "table functions are not allowed in a rule".into())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// What a query's body writes, if anything: SELECT INTO, or a statement
/// that changes data where the parser takes a query (`(INSERT ...)`, a
/// common table expression's `UPDATE`), on either side of a set operation.
/// Nested queries are visited on their own.
fn body_writes(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => Some("SELECT INTO writes a table"),
        SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) | SetExpr::Table(_) => None,
        SetExpr::SetOperation { left, right, .. } => {
            body_writes(left).or_else(|| body_writes(right))
        }
        _ => Some("a query may not insert, update, delete or merge"),
    }
}

fn refuse(line: u64, message: String) -> ControlFlow<Refusal> {
    ControlFlow::Break(Refusal {
        line: line_of(line),
        message,
    })
}

fn line_of(line: u64) -> usize {
    (line as usize).max(1)
}

/// The line where the second statement starts (statement spans are not
/// filled in for every kind of statement, tokens always have a location).
fn second_statement_line(sql: &str) -> usize {
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return 1;
    };
    tokens
        .iter()
        .skip_while(|t| t.token != Token::SemiColon)
        .skip(1)
        .find(|t| !matches!(t.token, Token::Whitespace(_) | Token::SemiColon))
        .map(|t| line_of(t.span.start.line))
        .unwrap_or(1)
}

/// sqlparser reports `... at Line: 3, Column: 7`.
/// Why SQL that nests deeply may fail to parse: the parser, at its
/// recursion limit inside a construct it tries more than one way (a
/// function's arguments, a parenthesis), reports the last way's error, not
/// the limit. Empty unless the SQL nests parentheses a third of the limit
/// deep, as such SQL does (`NOT coalesce(` is two levels a parenthesis).
fn nesting_hint(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return String::new();
    };
    let mut depth: usize = 0;
    let mut deepest: usize = 0;
    for token in &tokens {
        match token {
            Token::LParen => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest >= RECURSION_LIMIT / 3 {
        format!(
            " (the SQL nests parentheses {deepest} deep; the guard reads at most \
             {RECURSION_LIMIT} levels of expressions in expressions, which may be why)"
        )
    } else {
        String::new()
    }
}

fn parser_error_line(message: &str) -> usize {
    message
        .split("Line: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: [&str; 3] = ["cloudtrail", "apigateway", "lambda"];

    fn refused(sql: &str) -> Refusal {
        check(sql, &RULES).expect_err(sql)
    }

    #[test]
    fn sql_refused_at_the_nesting_limit_says_how_deep_it_nests() {
        // The parser reports `coalesce` unexpected here, not its limit.
        let deep = format!(
            "SELECT * FROM cloudtrail WHERE {}x{}",
            "NOT coalesce(".repeat(12),
            ", false)".repeat(12)
        );
        let r = refused(&deep);
        assert!(r.message.contains("nests parentheses 12 deep"), "{r:?}");
        let shallow = refused("SELECT * FROM cloudtrail WHERE (x = ");
        assert!(!shallow.message.contains("nests"), "{shallow:?}");
    }

    #[test]
    fn a_select_over_lake_tables_is_allowed() {
        let tables = check(
            "WITH x AS (SELECT * FROM cloudtrail) SELECT * FROM x JOIN apigateway a ON x.src_ip = a.src_ip",
            &RULES,
        )
        .unwrap();
        assert_eq!(
            tables,
            vec!["apigateway".to_string(), "cloudtrail".to_string()]
        );
    }

    #[test]
    fn a_query_the_parser_would_backtrack_on_for_seconds_is_refused_at_once() {
        // Found by the sql_guard fuzz target (timeouts): refused by the
        // nesting limit before the parser's backtracking doubles its work
        // per level.
        let slow = "SELECT(ch.eveve.TOeve.Td .   L[AEStevevveve.Td .vAch.eveve.TOevee.Td .vAch.ev .vAch.evevZe.TOeve.ve.TOevZe.TOeve.ve.TOeve.Td .   L[AEStevevveve.Td .vAch.eveve.TOevee.Td  (\x0c\x0c\x0cVALUSELECT * FROM (ES(\x0c(.vAch\x0c\x0c\x0c.VALUES(\x0c(Fmeadcv";
        let slower = "SELECT(   LSETeveve.TOevee.Td .ve.ventt_LATERA .SETeveve.TOevee.Td .ve.veevee.Td .ve.ventt_LATERA .SETeveve.TOevee.Td .ve.ventt_LATERA .eenRA .e .eenu_L[TeenRA . ee.enu_L[TEtRA .{eeTd .vAent_intt_LATERA .eenRA .e .eenu_L[TeenRA . ee.enu_L[TEtRA .{eeTd .vAent_id";
        for sql in [slow, slower] {
            let refusal = refused(sql);
            assert!(refusal.message.contains("levels deep"), "{refusal:?}");
        }
        // Ordinary nesting stays well inside the limit.
        let nested = format!(
            "SELECT {}1{} AS n FROM cloudtrail",
            "(".repeat(8),
            ")".repeat(8)
        );
        assert!(check(&nested, &["cloudtrail"]).is_ok());
    }

    #[test]
    fn a_write_where_a_query_may_stand_is_refused() {
        // Found by the sql_guard fuzz target: a parenthesised INSERT parses
        // as a query whose body is the INSERT.
        assert!(
            refused("(INSERT s\r\r\rTABLE\tSET \r\r(\r\r\r\r\r\r\r\rLATE)")
                .message
                .contains("may not insert")
        );
        for sql in [
            "(INSERT INTO cloudtrail SELECT * FROM cloudtrail)",
            "SELECT * FROM cloudtrail UNION ALL (INSERT INTO cloudtrail SELECT * FROM cloudtrail)",
            "WITH w AS (UPDATE cloudtrail SET event_name = 'x') SELECT * FROM cloudtrail",
            "SELECT * FROM (DELETE FROM cloudtrail) AS d",
            "SELECT * INTO copy FROM cloudtrail UNION SELECT * FROM cloudtrail",
        ] {
            // Refused, whether or not this parser takes the statement at all.
            assert!(check(sql, &RULES).is_err(), "{sql}");
        }
    }

    #[test]
    fn hunts_may_explain_a_select_and_rules_may_not() {
        let sql = "EXPLAIN ANALYZE SELECT count(*) FROM cloudtrail";
        assert_eq!(check_query(sql, &RULES).unwrap(), vec!["cloudtrail"]);
        assert!(check(sql, &RULES).is_err());
        for bad in [
            "EXPLAIN ANALYZE DROP TABLE cloudtrail",
            "EXPLAIN INSERT INTO cloudtrail SELECT * FROM lambda",
            "EXPLAIN SELECT * FROM secrets",
            "EXPLAIN SELECT * FROM read_parquet('/etc/passwd')",
        ] {
            assert!(check_query(bad, &RULES).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_and_statements_are_refused() {
        assert!(refused("DROP TABLE cloudtrail")
            .message
            .contains("only a read-only SELECT"));
        assert!(refused("INSERT INTO cloudtrail SELECT * FROM cloudtrail")
            .message
            .contains("INSERT"));
        assert!(
            refused("COPY cloudtrail TO '/tmp/x.csv'")
                .message
                .contains("parse")
                || refused("COPY cloudtrail TO '/tmp/x.csv'")
                    .message
                    .contains("read-only")
        );
        assert!(refused("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'").line >= 1);
        assert!(refused("SET datafusion.execution.batch_size = 1")
            .message
            .contains("read-only"));
    }

    #[test]
    fn a_second_statement_is_refused_with_its_line() {
        let r = refused("SELECT * FROM cloudtrail;\nDELETE FROM cloudtrail");
        assert!(r.message.contains("2 statements"), "{r:?}");
        assert_eq!(r.line, 2);
    }

    #[test]
    fn table_functions_and_unknown_tables_are_refused() {
        let r = refused("SELECT *\nFROM read_parquet('/etc/x.parquet')");
        assert!(r.message.contains("table function"), "{r:?}");
        assert_eq!(r.line, 2);
        assert!(refused("SELECT * FROM generate_series(1, 10)")
            .message
            .contains("table function"));
        assert!(refused("SELECT * FROM information_schema.tables")
            .message
            .contains("unknown table"));
        assert!(refused("SELECT * FROM findings")
            .message
            .contains("unknown table"));
    }

    #[test]
    fn parse_errors_name_their_line() {
        let r = refused("SELECT *\nFROM cloudtrail\nWHERE ) x");
        assert_eq!(r.line, 3, "{r:?}");
    }
}
