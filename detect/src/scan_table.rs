//! A rule table whose scans each read one partition stream its source makes at planning: the lake's feed, or a prepared plan's batch slot.

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Constraints;
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// Makes the partition a scan of a [`ScanTable`] reads.
pub trait ScanSource: std::fmt::Debug + Send + Sync {
    /// The one partition of a scan planned in the session `session_id`.
    fn partition(&self, session_id: &str) -> Arc<dyn PartitionStream>;
}

/// A rule table (its lake schema, and the unique event id it declares) read
/// from a [`ScanSource`]. Filters are left to the plan: the rows come
/// already cut to what the rules may see.
#[derive(Debug)]
pub struct ScanTable<S> {
    schema: SchemaRef,
    constraints: Constraints,
    source: Arc<S>,
}

impl<S> ScanTable<S> {
    pub fn new(schema: SchemaRef, constraints: Constraints, source: Arc<S>) -> ScanTable<S> {
        ScanTable {
            schema,
            constraints,
            source,
        }
    }
}

#[async_trait]
impl<S: ScanSource + 'static> TableProvider for ScanTable<S> {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn constraints(&self) -> Option<&Constraints> {
        Some(&self.constraints)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(StreamingTableExec::try_new(
            self.schema.clone(),
            vec![self.source.partition(state.session_id())],
            projection,
            [],
            false,
            limit,
        )?))
    }
}
