//! Registers lake tables as DataFusion listing tables with `date`/`hour` partitions.

use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use vigil_ingest::schema::{schema, PARTITION_COLUMNS};
use vigil_ingest::{Lake, Table};

use crate::error::QueryError;

/// Registers every lake table (`cloudtrail`, `apigateway`, `lambda`, `findings`,
/// `deadletter`) under its own name, and Vigil's SQL functions. A table with no files yet reads as empty.
pub fn register_lake(ctx: &SessionContext, lake: &Lake) -> Result<(), QueryError> {
    crate::functions::register_functions(ctx);
    if lake.store_url() != "file://" {
        let url = url::Url::parse(lake.store_url()).map_err(|e| QueryError::LakeUrl {
            url: lake.store_url().to_string(),
            reason: e.to_string(),
        })?;
        ctx.register_object_store(&url, lake.store());
    }
    for table in Table::ALL {
        register_table(ctx, lake, table, table.name())?;
    }
    Ok(())
}

/// Registers one lake table under `name`. Its columns are the table's schema
/// followed by the partition columns `date` (`YYYY-MM-DD`) and `hour` (`HH`).
pub fn register_table(
    ctx: &SessionContext,
    lake: &Lake,
    table: Table,
    name: &str,
) -> Result<(), QueryError> {
    let url = lake.table_url(table);
    let err = |source| QueryError::Register {
        table: name.to_string(),
        url: url.clone(),
        source,
    };
    let table_url = ListingTableUrl::parse(&url).map_err(err)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(
            PARTITION_COLUMNS
                .iter()
                .map(|c| (c.to_string(), DataType::Utf8))
                .collect(),
        );
    let config = ListingTableConfig::new(table_url)
        .with_listing_options(options)
        .with_schema(schema(table));
    let provider = ListingTable::try_new(config).map_err(err)?;
    ctx.register_table(name, Arc::new(provider)).map_err(err)?;
    Ok(())
}

/// The hours (Unix ms of each hour's start) in `range` for which `table` has a
/// partition, found by listing folders, without reading any file.
pub async fn partition_hours(
    lake: &Lake,
    table: Table,
    range: crate::TimeRange,
) -> Result<std::collections::BTreeSet<i64>, QueryError> {
    use object_store::ObjectStore;
    let store = lake.store();
    let list_err = |e: object_store::Error| QueryError::LakeUrl {
        url: lake.table_url(table),
        reason: e.to_string(),
    };
    let (first_day, _) = crate::time_range::partition_of(range.from_ms);
    let (last_day, _) = crate::time_range::partition_of((range.to_ms - 1).max(range.from_ms));
    let mut hours = std::collections::BTreeSet::new();
    let days = match store
        .list_with_delimiter(Some(&lake.table_path(table)))
        .await
    {
        Ok(d) => d,
        Err(object_store::Error::NotFound { .. }) => return Ok(hours),
        Err(e) => return Err(list_err(e)),
    };
    for day in days.common_prefixes {
        let Some(date) = day
            .filename()
            .and_then(|f| f.strip_prefix("date="))
            .map(String::from)
        else {
            continue;
        };
        if date < first_day || date > last_day {
            continue;
        }
        for hour in store
            .list_with_delimiter(Some(&day))
            .await
            .map_err(list_err)?
            .common_prefixes
        {
            let Some(h) = hour.filename().and_then(|f| f.strip_prefix("hour=")) else {
                continue;
            };
            let Ok(start) = chrono::NaiveDateTime::parse_from_str(
                &format!("{date} {h}:00:00"),
                "%Y-%m-%d %H:%M:%S",
            ) else {
                continue;
            };
            let ms = start.and_utc().timestamp_millis();
            if ms + 3_600_000 > range.from_ms && ms < range.to_ms {
                hours.insert(ms);
            }
        }
    }
    Ok(hours)
}
