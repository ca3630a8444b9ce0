//! Replaces the Parquet source of a DataFusion file scan, the rest of the scan kept.

use std::sync::Arc;

use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;

/// `plan` with its Parquet source replaced by what `change` makes of it;
/// `None` when `plan` is not a Parquet file scan or `change` gives `None`.
pub(crate) fn with_changed_source(
    plan: &Arc<dyn ExecutionPlan>,
    change: impl FnOnce(&ParquetSource) -> Option<ParquetSource>,
) -> Option<Arc<dyn ExecutionPlan>> {
    let scan = plan
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    let source = change(scan.file_source().downcast_ref::<ParquetSource>()?)?;
    let scan = FileScanConfigBuilder::from(scan.clone())
        .with_source(Arc::new(source))
        .build();
    Some(DataSourceExec::from_data_source(scan))
}
