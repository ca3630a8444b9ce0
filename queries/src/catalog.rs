//! Registers lake tables as DataFusion listing tables with `date`/`hour` partitions.

use arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use vigil_ingest::schema::{schema, PARTITION_COLUMNS};
use vigil_ingest::{Lake, Table};

use crate::dictionary::{with_dictionary_columns, DictionaryParquetFormat};
use crate::error::QueryError;

/// Registers every lake table (`cloudtrail`, `apigateway`, `lambda`, `findings`,
/// `deadletter`) under its own name, and Vigil's SQL functions. A table with no files yet reads as empty.
pub fn register_lake(ctx: &SessionContext, lake: &Lake) -> Result<(), QueryError> {
    register_all(ctx, lake, Reads::Plain)
}

/// As [`register_lake`], with text columns read as `Utf8View` (see `Reads`).
pub fn register_lake_views(ctx: &SessionContext, lake: &Lake) -> Result<(), QueryError> {
    register_all(ctx, lake, Reads::StringViews)
}

fn register_all(ctx: &SessionContext, lake: &Lake, reads: Reads) -> Result<(), QueryError> {
    crate::functions::register_functions(ctx);
    register_store(ctx, lake)?;
    for table in Table::ALL {
        register(ctx, lake, table, table.name(), reads)?;
    }
    Ok(())
}

/// The schema with its text columns as `Utf8View`.
pub fn string_views_of(schema: &Schema) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
            _ => f.clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Makes an S3 lake's object store known to the session (a local lake uses
/// DataFusion's own `file://` store).
fn register_store(ctx: &SessionContext, lake: &Lake) -> Result<(), QueryError> {
    if lake.store_url() != "file://" {
        let url = url::Url::parse(lake.store_url()).map_err(|e| QueryError::LakeUrl {
            url: lake.store_url().to_string(),
            reason: e.to_string(),
        })?;
        ctx.register_object_store(&url, lake.store());
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
    register(ctx, lake, table, name, Reads::Plain)
}

/// How a table's text columns are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// As the lake's schema says (`Utf8`).
    Plain,
    /// As `Utf8View`, so decoding a dictionary page points at the dictionary
    /// instead of copying each value (most of a selective read's time over
    /// millions of rows).
    StringViews,
    /// As `Utf8View`, and the few
    /// [`DICTIONARY_COLUMNS`](crate::dictionary::DICTIONARY_COLUMNS) as Arrow
    /// dictionaries, so that a hunt's filters on them run once per distinct
    /// value. Not for detection: its window reads reuse filters taken from
    /// rule plans over `Utf8View` columns, which fail on a dictionary
    /// column (`Utf8 LIKE Utf8View`).
    Hunting,
}

fn register(
    ctx: &SessionContext,
    lake: &Lake,
    table: Table,
    name: &str,
    reads: Reads,
) -> Result<(), QueryError> {
    let url = lake.table_url(table);
    let err = |source| QueryError::Register {
        table: name.to_string(),
        url: url.clone(),
        source,
    };
    let table_url = ListingTableUrl::parse(&url).map_err(err)?;
    // The session's Parquet settings (filter pushdown, no bloom filters...)
    // apply to the scan only through the format's own options.
    let format = ParquetFormat::default().with_options(ctx.state().default_table_options().parquet);
    let format: Arc<dyn FileFormat> = if reads == Reads::Hunting {
        Arc::new(DictionaryParquetFormat::new(format))
    } else {
        Arc::new(format)
    };
    let options = ListingOptions::new(format)
        .with_file_extension(".parquet")
        .with_table_partition_cols(
            PARTITION_COLUMNS
                .iter()
                .map(|c| (c.to_string(), DataType::Utf8))
                .collect(),
        );
    let schema = match reads {
        Reads::Plain => schema(table),
        Reads::StringViews => string_views_of(&schema(table)),
        Reads::Hunting => with_dictionary_columns(&string_views_of(&schema(table))),
    };
    let config = ListingTableConfig::new(table_url)
        .with_listing_options(options)
        .with_schema(schema);
    let provider = ListingTable::try_new(config).map_err(err)?;
    ctx.register_table(name, Arc::new(provider)).map_err(err)?;
    Ok(())
}

/// The start (Unix ms) of the first hour for which `table` has a partition,
/// found by listing two folders; `None` when the table has none.
pub async fn first_partition_hour(lake: &Lake, table: Table) -> Result<Option<i64>, QueryError> {
    edge_partition_hour(lake, table, Edge::First).await
}

/// The start (Unix ms) of the last hour for which `table` has a partition
/// (where its newest data is), found by listing two folders.
pub async fn last_partition_hour(lake: &Lake, table: Table) -> Result<Option<i64>, QueryError> {
    edge_partition_hour(lake, table, Edge::Last).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Edge {
    First,
    Last,
}

async fn edge_partition_hour(
    lake: &Lake,
    table: Table,
    edge: Edge,
) -> Result<Option<i64>, QueryError> {
    use object_store::ObjectStore;
    let store = lake.store();
    let list_err = |e: object_store::Error| QueryError::LakeUrl {
        url: lake.table_url(table),
        reason: e.to_string(),
    };
    let days = match store
        .list_with_delimiter(Some(&lake.table_path(table)))
        .await
    {
        Ok(d) => d.common_prefixes,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(list_err(e)),
    };
    let mut dates: Vec<(String, object_store::path::Path)> = days
        .into_iter()
        .filter_map(|day| {
            let date = day.filename()?.strip_prefix("date=")?.to_string();
            Some((date, day))
        })
        .collect();
    dates.sort();
    if edge == Edge::Last {
        dates.reverse();
    }
    // The first (or last) day with an hour folder in it.
    for (date, day) in dates {
        let hours = store
            .list_with_delimiter(Some(&day))
            .await
            .map_err(list_err)?
            .common_prefixes;
        let starts = hours.iter().filter_map(|hour| {
            let h = hour.filename()?.strip_prefix("hour=")?;
            chrono::NaiveDateTime::parse_from_str(&format!("{date} {h}:00:00"), "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|start| start.and_utc().timestamp_millis())
        });
        let found = match edge {
            Edge::First => starts.min(),
            Edge::Last => starts.max(),
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
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

/// The common columns the `events` view has, from each family's table.
pub const EVENT_COLUMNS: [&str; 11] = [
    "event_time",
    "time_source",
    "event_id",
    "account_id",
    "region",
    "src_ip",
    "actor",
    "action",
    "outcome",
    "source_ref",
    "raw",
];

/// What a hunting session changes from DataFusion's defaults, unless its
/// `DATAFUSION_*` variable says otherwise.
const HUNTING_DEFAULTS: [(&str, &str); 5] = [
    // Hunts are mostly selective: evaluate filters while decoding Parquet
    // (late materialisation, page pruning), in the order `NullChecksLast`
    // leaves them rather than smallest columns first.
    ("datafusion.execution.parquet.pushdown_filters", "true"),
    ("datafusion.execution.parquet.reorder_filters", "false"),
    // Statistics gathered at planning read every file's footer and page
    // index before the scan reads them again: a quarter of a short hunt's
    // time and 50 MB. Row groups are still pruned by statistics in the scan.
    ("datafusion.execution.collect_statistics", "false"),
    // The lake is written without bloom filters: do not look for them.
    ("datafusion.execution.parquet.bloom_filter_on_read", "false"),
    // Nor for page indexes: row groups (32k rows) are pruned by their
    // statistics already, and loading each file's index made the short
    // hunts 10-15 % slower on the benchmark lake.
    ("datafusion.execution.parquet.enable_page_index", "false"),
];

/// A session over the lake for hunting: every table (restricted to `range`
/// when one is given, so only the partitions it touches are read), the
/// `events` view (the common columns of the log tables, with a `source`
/// column) and Vigil's SQL functions. The OCSF views are added when a query
/// names one ([`crate::ocsf::register_views_for`]).
pub async fn hunting_session(
    lake: &Lake,
    range: Option<crate::TimeRange>,
) -> Result<SessionContext, QueryError> {
    session(lake, range, Reads::Hunting).await
}

/// As [`hunting_session`], with text read as the lake stores it (`Utf8`).
/// For reads that copy every value out (the OCSF export): a `Utf8View`
/// array keeps every buffer its values came from, and passing such arrays
/// on to a Parquet writer cost 40 % of an export's time in scanning their
/// buffer lists.
pub(crate) async fn export_session(
    lake: &Lake,
    range: Option<crate::TimeRange>,
) -> Result<SessionContext, QueryError> {
    session(lake, range, Reads::Plain).await
}

async fn session(
    lake: &Lake,
    range: Option<crate::TimeRange>,
    reads: Reads,
) -> Result<SessionContext, QueryError> {
    // DATAFUSION_* variables tune the session (e.g. DATAFUSION_EXECUTION_BATCH_SIZE),
    // including the settings hunts change by default.
    let mut config = datafusion::prelude::SessionConfig::from_env().map_err(QueryError::Query)?;
    for (key, value) in HUNTING_DEFAULTS {
        let variable = key.to_uppercase().replace('.', "_");
        if std::env::var_os(&variable).is_none() {
            config
                .options_mut()
                .set(key, value)
                .map_err(QueryError::Query)?;
        }
    }
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_optimizer_rule(Arc::new(crate::like_on_dictionaries::LikeOnDictionaries))
        .with_physical_optimizer_rule(Arc::new(crate::filter_order::NullChecksLast))
        .build();
    let ctx = SessionContext::new_with_state(state);
    crate::functions::register_functions(&ctx);
    register_store(&ctx, lake)?;
    let q = QueryError::Query;
    for table in Table::ALL {
        match range {
            None => register(&ctx, lake, table, table.name(), reads)?,
            Some(r) => {
                let raw = format!("__{}_all", table.name());
                register(&ctx, lake, table, &raw, reads)?;
                let view = ctx
                    .table(raw.as_str())
                    .await
                    .map_err(q)?
                    .filter(r.filter())
                    .map_err(q)?;
                ctx.register_table(table.name(), view.into_view())
                    .map_err(q)?;
            }
        }
    }
    let mut events: Option<datafusion::dataframe::DataFrame> = None;
    for table in Table::LOGS {
        let mut columns = vec![datafusion::prelude::lit(table.name()).alias("source")];
        columns.extend(EVENT_COLUMNS.iter().map(|c| datafusion::prelude::col(*c)));
        let df = ctx
            .table(table.name())
            .await
            .map_err(q)?
            .select(columns)
            .map_err(q)?;
        events = Some(match events {
            None => df,
            Some(all) => all.union(df).map_err(q)?,
        });
    }
    if let Some(events) = events {
        ctx.register_table("events", events.into_view())
            .map_err(q)?;
    }
    crate::first_seen::register(&ctx, crate::first_seen::load(lake).await?)?;
    Ok(ctx)
}

/// The tables a hunting query may read.
pub const HUNTING_TABLES: [&str; 14] = [
    "cloudtrail",
    "apigateway",
    "lambda",
    "waf",
    "findings",
    "deadletter",
    "events",
    "intel",
    "first_seen",
    "ocsf_api_activity",
    "ocsf_authentication",
    "ocsf_account_change",
    "ocsf_http_activity",
    "ocsf_application_lifecycle",
];

/// Whether the lake holds any Parquet file at all.
pub async fn lake_is_empty(lake: &Lake) -> Result<bool, QueryError> {
    use futures::StreamExt;
    use object_store::ObjectStore;
    let store = lake.store();
    for table in Table::ALL {
        let mut files = store.list(Some(&lake.table_path(table)));
        if let Some(item) = files.next().await {
            if item.is_ok() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}
