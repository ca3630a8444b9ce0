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
#[derive(Debug, Clone, Default)]
pub struct TableRead {
    /// The columns, in the lake's order, always with `event_time`.
    pub columns: Vec<String>,
    /// The rows: those matching any of the filters the rules apply to the
    /// table, or `None` when some rule reads every row.
    pub rows: Option<Expr>,
}

/// What running each rule over its window reads of each lake table, found
/// from the rules' optimized plans: the columns they project, and the rows
/// that pass the filter each one puts directly on the table (a rule that
/// reads a table unfiltered, as a traffic baseline does, needs every row).
/// Reading only those rows and columns is what keeps a pass over a busy
/// hour small; each rule still applies its own filter to what it is given.
pub async fn lake_reads(
    jobs: &[(&Rule, TimeRange)],
) -> Result<BTreeMap<Table, TableRead>, DetectError> {
    let ctx = crate::tables::Tables::default().context(None)?;
    let mut columns: BTreeMap<Table, BTreeSet<String>> = BTreeMap::new();
    // Per table, each scan's restriction (`None`: it reads every row).
    let mut scans: BTreeMap<Table, Vec<Option<Expr>>> = BTreeMap::new();
    // Each distinct SQL once: a rule's SQL changes with the window only when
    // it names the window's bounds (a baseline's buckets, say).
    let mut plans: Vec<(&Rule, Vec<String>)> = Vec::new();
    for (rule, window) in jobs {
        let sql = rule.sql(*window);
        match plans.iter_mut().find(|(r, _)| r.id == rule.id) {
            Some((_, sqls)) if sqls.contains(&sql) => {}
            Some((_, sqls)) => sqls.push(sql),
            None => plans.push((rule, vec![sql])),
        }
    }
    for (rule, sqls) in plans {
        // Many windows of a window-dependent rule (a catch-up): plan one,
        // and read every row rather than OR a filter per window.
        let many = sqls.len() > MAX_PLANS_PER_RULE;
        for sql in sqls.iter().take(if many { 1 } else { sqls.len() }) {
            plan_reads(&ctx, rule, sql, !many, &mut columns, &mut scans).await?;
        }
    }
    Ok(columns
        .into_iter()
        .map(|(table, cols)| {
            let ordered = vigil_ingest::schema::schema(table)
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| cols.contains(n))
                .collect();
            let rows = scans
                .remove(&table)
                .and_then(|each| each.into_iter().collect::<Option<Vec<Expr>>>())
                .and_then(|filters| {
                    let mut distinct: Vec<Expr> = Vec::new();
                    for f in filters.into_iter().map(unqualified) {
                        if !distinct.contains(&f) {
                            distinct.push(f);
                        }
                    }
                    distinct.into_iter().reduce(|a, b| a.or(b))
                });
            (
                table,
                TableRead {
                    columns: ordered,
                    rows,
                },
            )
        })
        .collect())
}

/// Adds what one rule's SQL reads to `columns` and `scans` (its filters
/// only when `filters` is set; otherwise its scans read every row).
async fn plan_reads(
    ctx: &SessionContext,
    rule: &Rule,
    sql: &str,
    filters: bool,
    columns: &mut BTreeMap<Table, BTreeSet<String>>,
    scans: &mut BTreeMap<Table, Vec<Option<Expr>>>,
) -> Result<(), DetectError> {
    let plan = ctx
        .sql_with_options(sql, guard::sql_options())
        .await
        .and_then(|df| df.into_optimized_plan())
        .map_err(|source| DetectError::Query {
            rule: rule.id.clone(),
            source,
        })?;
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
            let cols = columns.entry(table).or_default();
            cols.insert("event_time".to_string());
            cols.extend(
                scan.projected_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone()),
            );
            let restriction = filter
                .into_iter()
                .chain(scan.filters.iter().filter(|_| filters))
                .cloned()
                .reduce(|a, b| a.and(b));
            scans.entry(table).or_default().push(restriction);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|source| DetectError::Query {
        rule: rule.id.clone(),
        source,
    })?;
    Ok(())
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
