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
use datafusion::datasource::physical_plan::{
    FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_expr::expressions::{Column, IsNullExpr};
use datafusion::physical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

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
    let scan = node
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    let source = scan.file_source().downcast_ref::<ParquetSource>()?;
    let predicate = source.filter()?;
    let conjuncts = split_conjunction(&predicate);
    let (null_checks, others): (Vec<_>, Vec<_>) = conjuncts
        .into_iter()
        .partition(|c| is_null_check(c.as_ref()));
    if null_checks.is_empty() || others.is_empty() {
        return None;
    }
    let predicate = conjunction(others.into_iter().chain(null_checks).cloned());
    let source = source.with_predicate(predicate);
    let scan = FileScanConfigBuilder::from(scan.clone())
        .with_source(Arc::new(source))
        .build();
    Some(DataSourceExec::from_data_source(scan))
}

/// `column IS NULL`.
fn is_null_check(expr: &dyn PhysicalExpr) -> bool {
    expr.downcast_ref::<IsNullExpr>()
        .is_some_and(|e| e.arg().downcast_ref::<Column>().is_some())
}
