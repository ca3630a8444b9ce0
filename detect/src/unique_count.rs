//! `count(DISTINCT key)` counted without a set where the plan knows `key` is unique.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Dependency, Result};
use datafusion::logical_expr::expr::{AggregateFunction, Case};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;
use std::sync::Arc;

/// Rewrites `count(DISTINCT k)` into `count(k)` when the aggregated rows
/// hold each value of `k` at most once: the rule tables declare `event_id`
/// unique (they hold each event once, see [`crate::dedup`]), and DataFusion
/// carries that through scans, filters and projections (not through joins
/// or unions that could repeat a row). So the rules keep saying what they
/// mean, distinct events, and the count needs no hash set per group. The
/// same holds for `count(DISTINCT CASE WHEN c THEN k END)`, whose values
/// are `k` or null.
#[derive(Debug, Default)]
pub struct UniqueCount;

impl AnalyzerRule for UniqueCount {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Aggregate(agg) => rewrite(agg),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "vigil_unique_count"
    }
}

fn rewrite(agg: Aggregate) -> Result<Transformed<LogicalPlan>> {
    if !rows_of_one_scan(&agg.input) {
        return Ok(Transformed::no(LogicalPlan::Aggregate(agg)));
    }
    let input_schema = agg.input.schema().clone();
    let mut changed = false;
    let mut aggr_expr = Vec::with_capacity(agg.aggr_expr.len());
    for expr in &agg.aggr_expr {
        match counts_unique(expr, &input_schema) {
            Some(count) => {
                changed = true;
                aggr_expr.push(count.alias(expr.schema_name().to_string()));
            }
            None => aggr_expr.push(expr.clone()),
        }
    }
    if !changed {
        return Ok(Transformed::no(LogicalPlan::Aggregate(agg)));
    }
    let rewritten = Aggregate::try_new(agg.input, agg.group_expr, aggr_expr)?;
    Ok(Transformed::yes(LogicalPlan::Aggregate(rewritten)))
}

/// The plan yields rows of a single table scan, each at most once (so a
/// key unique in the table is unique in them): DataFusion's dependency
/// tracking is trusted only along such plans (it keeps a key through an
/// unnest, which repeats rows).
fn rows_of_one_scan(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(_) => true,
        LogicalPlan::Projection(p) => rows_of_one_scan(&p.input),
        LogicalPlan::Filter(f) => rows_of_one_scan(&f.input),
        LogicalPlan::SubqueryAlias(s) => rows_of_one_scan(&s.input),
        LogicalPlan::Sort(s) => rows_of_one_scan(&s.input),
        LogicalPlan::Limit(l) => rows_of_one_scan(&l.input),
        LogicalPlan::Window(w) => rows_of_one_scan(&w.input),
        _ => false,
    }
}

/// `count(k)` for a `count(DISTINCT k)` over rows where `k` is unique.
fn counts_unique(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    let Expr::AggregateFunction(AggregateFunction { func, params }) = expr else {
        return None;
    };
    if func.name() != "count" || !params.distinct || params.args.len() != 1 {
        return None;
    }
    let column = unique_values_of(&params.args[0])?;
    let index = schema.index_of_column(column).ok()?;
    let unique = schema
        .functional_dependencies()
        .iter()
        .any(|dep| dep.mode == Dependency::Single && dep.source_indices == [index]);
    unique.then(|| {
        Expr::AggregateFunction(AggregateFunction::new_udf(
            Arc::clone(func),
            params.args.clone(),
            false,
            params.filter.clone(),
            params.order_by.clone(),
            params.null_treatment,
        ))
    })
}

/// The column whose values (or nulls) the expression yields: the column
/// itself, or a searched `CASE` with one branch yielding it and no `ELSE`.
fn unique_values_of(arg: &Expr) -> Option<&Column> {
    match arg {
        Expr::Column(c) => Some(c),
        Expr::Case(Case {
            expr: None,
            when_then_expr,
            else_expr,
        }) if when_then_expr.len() == 1 && else_is_null(else_expr) => {
            match when_then_expr[0].1.as_ref() {
                Expr::Column(c) => Some(c),
                _ => None,
            }
        }
        _ => None,
    }
}

fn else_is_null(else_expr: &Option<Box<Expr>>) -> bool {
    match else_expr.as_deref() {
        None => true,
        Some(Expr::Literal(value, _)) => value.is_null(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::tables::Tables;

    /// The aggregate line of the query's optimized plan.
    async fn aggregate_of(sql: &str) -> String {
        let ctx = Tables::default().context(None).unwrap();
        let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
        let text = plan.display_indent().to_string();
        text.lines()
            .filter(|l| l.contains("Aggregate:"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn distinct_event_ids_of_one_table_are_counted_without_a_set() {
        let plan = aggregate_of(
            "SELECT src_ip, count(DISTINCT event_id) AS n,
                    count(DISTINCT CASE WHEN status >= 500 THEN event_id END) AS errors
             FROM apigateway a WHERE status > 0 GROUP BY src_ip",
        )
        .await;
        assert!(
            plan.contains("count(a.event_id) AS count(DISTINCT a.event_id)"),
            "{plan}"
        );
        assert!(
            plan.contains("count(CASE WHEN a.status >= Int32(500) THEN a.event_id END) AS"),
            "{plan}"
        );
    }

    #[tokio::test]
    async fn other_columns_and_joined_rows_keep_their_distinct_count() {
        // (Two distinct counts, so that DataFusion keeps the DISTINCT.)
        let plan = aggregate_of(
            "SELECT count(DISTINCT src_ip) AS n, count(DISTINCT status) AS m FROM apigateway",
        )
        .await;
        assert!(
            plan.contains("aggr=[[count(DISTINCT apigateway.src_ip)"),
            "{plan}"
        );
        // A join can repeat an event: its ids are no longer unique.
        let plan = aggregate_of(
            "SELECT count(DISTINCT a.event_id) AS n, count(DISTINCT b.status) AS m
             FROM apigateway a JOIN apigateway b ON a.src_ip = b.src_ip",
        )
        .await;
        assert!(plan.contains("aggr=[[count(DISTINCT a.event_id)"), "{plan}");
    }
}
