//! What a pass over the lake reads of each table: the columns and rows its rules use, from their query plans.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::SessionContext;
use std::collections::{BTreeMap, BTreeSet};
use vigil_ingest::Table;
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::guard;
use crate::rule::Rule;

/// Beyond this many windows of one window-dependent rule in a pass, its
/// tables are read whole instead of through a filter per window.
const MAX_PLANS_PER_RULE: usize = 4;

/// What the rules of a pass read of one table.
#[derive(Debug, Clone)]
pub struct TableRead {
    /// The time span read: every rule's window over the table, with its lookback.
    pub span: TimeRange,
    /// The columns, in the lake's order, always with `event_time`.
    pub columns: Vec<String>,
    /// The rows within the span: those some rule reads (the filter it puts
    /// directly on the table, over its own window), or `None` when the rules
    /// together read every row of the span.
    pub rows: Option<Expr>,
}

/// One job of a pass: a rule, the window it runs over, and the time range
/// it reads (the window with its lookback).
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub rule: &'a Rule,
    pub window: TimeRange,
    pub read: TimeRange,
}

/// What running each rule over its window reads of each lake table, found
/// from the rules' optimized plans: the columns they project, and the rows
/// that pass the filter each one puts directly on the table within its read
/// range (a rule that reads a table unfiltered, as a traffic baseline does,
/// needs every row of its range). Reading only those rows and columns is
/// what keeps a pass over a busy hour small; each rule still applies its
/// own filter to what it is given.
pub async fn lake_reads(jobs: &[Job<'_>]) -> Result<BTreeMap<Table, TableRead>, DetectError> {
    let ctx = crate::tables::Tables::default().context(None)?;
    // Each distinct SQL once: a rule's SQL changes with the window only when
    // it names the window's bounds (a baseline's buckets, say).
    let mut plans: Vec<(&Rule, Vec<(String, TimeRange)>)> = Vec::new();
    // A job whose read range is empty reads nothing (and must not widen a span).
    for job in jobs.iter().filter(|j| !j.read.is_empty()) {
        let sql = job.rule.sql(job.window);
        match plans.iter_mut().find(|(r, _)| r.id == job.rule.id) {
            Some((_, sqls)) => match sqls.iter_mut().find(|(s, _)| *s == sql) {
                Some((_, read)) => *read = read.union(&job.read),
                None => sqls.push((sql, job.read)),
            },
            None => plans.push((job.rule, vec![(sql, job.read)])),
        }
    }
    // Each plan by a task of its own: planning is single-threaded work.
    let mut planning = Vec::new();
    for (rule, sqls) in plans {
        // Many windows of a window-dependent rule (a catch-up): plan one,
        // and read every row of their ranges rather than OR a filter per window.
        let many = sqls.len() > MAX_PLANS_PER_RULE;
        let to_plan = if many {
            let read = sqls
                .iter()
                .map(|(_, r)| *r)
                .reduce(|a, b| a.union(&b))
                .expect("a rule in the plans has a job");
            vec![(sqls[0].0.clone(), read, false)]
        } else {
            sqls.into_iter()
                .map(|(sql, read)| (sql, read, true))
                .collect()
        };
        for (sql, read, filters) in to_plan {
            let (ctx, rule) = (ctx.clone(), rule.clone());
            planning.push(tokio::spawn(async move {
                plan_reads(&ctx, &rule, &sql, read, filters).await
            }));
        }
    }
    let mut columns: BTreeMap<Table, BTreeSet<String>> = BTreeMap::new();
    // Per table, each scan's read range and restriction (`None`: every row).
    let mut scans: BTreeMap<Table, Vec<(TimeRange, Option<Expr>)>> = BTreeMap::new();
    for planned in futures::future::join_all(planning).await {
        let planned = planned??;
        for scan in planned {
            columns.entry(scan.table).or_default().extend(scan.columns);
            scans
                .entry(scan.table)
                .or_default()
                .push((scan.read, scan.restriction));
        }
    }
    Ok(columns
        .into_iter()
        .filter_map(|(table, cols)| {
            let ordered = vigil_ingest::schema::schema(table)
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| cols.contains(n))
                .collect();
            let (span, rows) = rows_read(scans.remove(&table)?)?;
            Some((
                table,
                TableRead {
                    span,
                    columns: ordered,
                    rows,
                },
            ))
        })
        .collect())
}

/// The span the scans of one table cover, and the rows they read of it
/// (`None`: every row, when unrestricted scans cover the span between them).
fn rows_read(scans: Vec<(TimeRange, Option<Expr>)>) -> Option<(TimeRange, Option<Expr>)> {
    let span = scans.iter().map(|(r, _)| *r).reduce(|a, b| a.union(&b))?;
    let mut whole: Vec<TimeRange> = scans
        .iter()
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| *r)
        .collect();
    whole.sort();
    let mut covered_to = span.from_ms;
    for r in &whole {
        if r.from_ms <= covered_to {
            covered_to = covered_to.max(r.to_ms);
        }
    }
    if covered_to >= span.to_ms {
        return Some((span, None));
    }
    let mut distinct: Vec<Expr> = Vec::new();
    for (range, filter) in scans {
        let restriction = match filter {
            Some(f) => range.event_time_filter().and(unqualified(f)),
            None => range.event_time_filter(),
        };
        if !distinct.contains(&restriction) {
            distinct.push(restriction);
        }
    }
    Some((span, distinct.into_iter().reduce(|a, b| a.or(b))))
}

/// One scan of a lake table in a rule's plan.
struct Scan {
    table: Table,
    /// The columns it reads, with `event_time`.
    columns: BTreeSet<String>,
    /// The time range it reads (the rule's window with its lookback).
    read: TimeRange,
    /// The filter put directly on it (`None`: every row of the range).
    restriction: Option<Expr>,
}

/// The scans of the lake tables in one rule's SQL (with their filters only
/// when `filters` is set; otherwise they read every row).
async fn plan_reads(
    ctx: &SessionContext,
    rule: &Rule,
    sql: &str,
    read: TimeRange,
    filters: bool,
) -> Result<Vec<Scan>, DetectError> {
    let plan = ctx
        .sql_with_options(sql, guard::sql_options())
        .await
        .and_then(|df| df.into_optimized_plan())
        .map_err(|source| DetectError::Query {
            rule: rule.id.clone(),
            source,
        })?;
    let mut out = Vec::new();
    // Scans already accounted for by the filter above them.
    let mut filtered: Vec<*const LogicalPlan> = Vec::new();
    plan.apply_with_subqueries(|node| {
        let (scan, filter) = match node {
            LogicalPlan::Filter(f) => match f.input.as_ref() {
                LogicalPlan::TableScan(scan) => {
                    filtered.push(f.input.as_ref() as *const LogicalPlan);
                    (scan, Some(&f.predicate).filter(|p| filters && usable(p)))
                }
                _ => return Ok(TreeNodeRecursion::Continue),
            },
            LogicalPlan::TableScan(scan) if !filtered.contains(&(node as *const _)) => (scan, None),
            _ => return Ok(TreeNodeRecursion::Continue),
        };
        if let Some(table) = rule_table(scan.table_name.table()) {
            let mut columns = BTreeSet::from(["event_time".to_string()]);
            columns.extend(
                scan.projected_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone()),
            );
            let restriction = filter
                .into_iter()
                .chain(scan.filters.iter().filter(|_| filters))
                .cloned()
                .reduce(|a, b| a.and(b))
                // The read range restricts time already: a filter on time
                // alone (a baseline's buckets) keeps every row of it.
                .filter(|r| !on_time_alone(r));
            out.push(Scan {
                table,
                columns,
                read,
                restriction,
            });
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|source| DetectError::Query {
        rule: rule.id.clone(),
        source,
    })?;
    Ok(out)
}

fn rule_table(name: &str) -> Option<Table> {
    guard::RULE_TABLES
        .iter()
        .copied()
        .find(|t| t.name() == name)
}

/// A filter can be applied to the lake read on its own: it refers to no
/// other query (a subquery or an outer column).
fn usable(predicate: &Expr) -> bool {
    !predicate
        .exists(|e| {
            Ok(matches!(
                e,
                Expr::ScalarSubquery(_)
                    | Expr::InSubquery(_)
                    | Expr::Exists(_)
                    | Expr::OuterReferenceColumn(..)
            ))
        })
        .unwrap_or(true)
}

/// The predicate refers to no column but `event_time`.
fn on_time_alone(predicate: &Expr) -> bool {
    predicate
        .column_refs()
        .iter()
        .all(|c| c.name == "event_time")
}

/// The filter with its columns named without the rule's table alias, so
/// that it applies to the lake table.
fn unqualified(predicate: Expr) -> Expr {
    predicate
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
                c.name,
            )))),
            e => Ok(Transformed::no(e)),
        })
        .map(|t| t.data)
        .expect("renaming columns cannot fail")
}
