//! Orders the filters a hunt's Parquet scans evaluate while decoding: `column IS NULL` checks last.
//!
//! With filter pushdown, each conjunct of a scan's predicate is evaluated in
//! turn, and each later one decodes its columns only for the rows the earlier
//! ones kept. DataFusion puts the conjuncts over the smallest columns first,
//! which makes `error_code IS NULL` (a tiny, mostly null column) the first
//! filter of a hunt such as `resources_made_public`: it keeps 98 % of the rows
//! and cuts them into thousands of runs, and the selective `event_name IN
//! (...)` then decodes those runs one by one. A null check on an optional
//! field rarely narrows much, so [`NullChecksLast`] moves such conjuncts
//! behind the others and the hunting session keeps the order as it is
//! (`reorder_filters` off).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::physical_plan::FileSource;
use datafusion::error::Result;
use datafusion::physical_expr::expressions::{Column, IsNullExpr};
use datafusion::physical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::parquet_scan::with_changed_source;

/// Moves the `column IS NULL` conjuncts of every Parquet scan's predicate
/// behind its other conjuncts.
#[derive(Debug, Default)]
pub struct NullChecksLast;

impl PhysicalOptimizerRule for NullChecksLast {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match reordered_scan(&node) {
                Some(scan) => Transformed::yes(scan),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "null_checks_last"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The scan `node` with its null checks last, or `None` when it is not a
/// Parquet scan or has nothing to move.
fn reordered_scan(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    with_changed_source(node, |source| {
        let predicate = source.filter()?;
        let (null_checks, others): (Vec<_>, Vec<_>) = split_conjunction(&predicate)
            .into_iter()
            .partition(|c| is_null_check(c.as_ref()));
        if null_checks.is_empty() || others.is_empty() {
            return None;
        }
        let predicate = conjunction(others.into_iter().chain(null_checks).cloned());
        Some(source.with_predicate(predicate))
    })
}

/// `column IS NULL`.
fn is_null_check(expr: &dyn PhysicalExpr) -> bool {
    expr.downcast_ref::<IsNullExpr>()
        .is_some_and(|e| e.arg().downcast_ref::<Column>().is_some())
}
