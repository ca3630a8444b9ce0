//! The lake's Parquet settings: zstd, bounded row groups, and per-column
//! choices of dictionary, statistics and compression.

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::IngestError;

/// Columns whose every value is (nearly) unique: whole records, ids, nested
/// JSON. A dictionary never pays off on them and min/max statistics never
/// prune a query, yet both cost a hash or a comparison of every value (a
/// third of the writer's time on CloudTrail), so both are off for these.
const UNIQUE_COLUMNS: &[&str] = &[
    "raw",
    "raw_bytes",
    "event_id",
    "request_id",
    "integration_request_id",
    "extended_request_id",
    "shared_event_id",
    "xray_trace_id",
    "message",
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "resources",
    "service_event_details",
    "insight_details",
    "fields",
    "samples",
];

/// Columns of a few distinct values per file: enumerations, and the names of
/// accounts, APIs, functions, IAM users and roles. Dictionary-encoded, their
/// pages are runs of small codes that zstd shrinks little (by 0-30 % on the
/// benchmark lake; mostly-null ones it makes larger), while a reader pays for
/// every compressed column chunk it opens: parquet-rs builds zstd contexts
/// for each, and zstd asks the CPU for its features (`cpuid`, a trap to the
/// hypervisor on a VM), a tenth of a short hunt's time. These are written
/// uncompressed (the lake grows by under 1 %). Not source addresses, session
/// ARNs, principal ids or user agents: they can take millions of values, and
/// then their dictionaries overflow to plain text that needs zstd (`src_ip`
/// uncompressed made the busy detection lake 12 % larger).
const LOW_CARDINALITY_COLUMNS: &[&str] = &[
    "account_id",
    "region",
    "outcome",
    "time_source",
    "log_format",
    "event_name",
    "event_source",
    "event_type",
    "event_category",
    "event_version",
    "api_version",
    "recipient_account_id",
    "error_code",
    "tls_version",
    "tls_cipher_suite",
    "user_identity_type",
    "user_identity_account_id",
    "user_identity_invoked_by",
    "user_identity_identity_provider",
    "user_identity_source_identity",
    "user_identity_session_issuer_type",
    "vpc_endpoint_id",
    "api_id",
    "domain_name",
    "stage",
    "protocol",
    "http_method",
    "route_key",
    "resource_path",
    "status",
    "error_response_type",
    "integration_status",
    "websocket_event_type",
    "function_name",
    "runtime_version",
    "error_type",
    "function_version",
    "level",
    "record_type",
    "user_identity_user_name",
    "user_identity_session_issuer_arn",
    "user_identity_session_issuer_user_name",
];

/// Encodes one batch as a Parquet file (zstd).
pub fn encode_parquet(batch: &RecordBatch) -> Result<Vec<u8>, IngestError> {
    encode_parquet_with(batch, lake_codec()?)
}

/// Encodes one batch as the lake does, but with `unique` as the codec of its
/// [`UNIQUE_COLUMNS`]: to measure codecs against each other
/// (`benches/codecs.rs`).
pub fn encode_parquet_with(
    batch: &RecordBatch,
    unique: Compression,
) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut writer = ArrowWriter::try_new(
        &mut out,
        batch.schema(),
        Some(writer_properties_with(&batch.schema(), unique)?),
    )?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

/// The lake's codec: zstd at level 1.
fn lake_codec() -> Result<Compression, IngestError> {
    Ok(Compression::ZSTD(ZstdLevel::try_new(1)?))
}

/// The lake's Parquet settings: zstd, row groups of up to [`ROW_GROUP_ROWS`]
/// rows, no dictionary or statistics on the [`UNIQUE_COLUMNS`], no
/// compression on the [`LOW_CARDINALITY_COLUMNS`].
pub(crate) fn writer_properties(
    schema: &arrow::datatypes::SchemaRef,
) -> Result<WriterProperties, IngestError> {
    writer_properties_with(schema, lake_codec()?)
}

/// The lake's Parquet settings with `unique` as the [`UNIQUE_COLUMNS`]' codec.
fn writer_properties_with(
    schema: &arrow::datatypes::SchemaRef,
    unique: Compression,
) -> Result<WriterProperties, IngestError> {
    let mut props = WriterProperties::builder()
        .set_compression(lake_codec()?)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for field in schema.fields() {
        if UNIQUE_COLUMNS.contains(&field.name().as_str()) {
            let column = ColumnPath::from(field.name().as_str());
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_statistics_enabled(column.clone(), EnabledStatistics::None)
                .set_column_compression(column, unique);
        } else if LOW_CARDINALITY_COLUMNS.contains(&field.name().as_str()) {
            props = props.set_column_compression(
                ColumnPath::from(field.name().as_str()),
                Compression::UNCOMPRESSED,
            );
        }
    }
    Ok(props.build())
}

/// Rows per row group: a quarter of a file, so that a detection window of a
/// few minutes skips most of its hour's rows by their `event_time` statistics.
pub const ROW_GROUP_ROWS: usize = 32 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Table;
    use crate::lake::test_batch;

    #[test]
    fn low_cardinality_columns_are_stored_uncompressed_and_the_rest_with_zstd() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let mut low_cardinality_seen = std::collections::BTreeSet::new();
        for table in Table::INGESTED {
            let bytes = encode_parquet(&test_batch(table, 10, 0)).unwrap();
            let file = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
            let row_group = file.metadata().row_group(0);
            for column in row_group.columns() {
                let name = column.column_path().string();
                let low_cardinality = LOW_CARDINALITY_COLUMNS.contains(&name.as_str());
                if low_cardinality {
                    low_cardinality_seen.insert(name.clone());
                }
                let zstd = matches!(column.compression(), Compression::ZSTD(_));
                assert_eq!(
                    zstd,
                    !low_cardinality,
                    "{table:?}.{name}: {:?}",
                    column.compression()
                );
            }
        }
        // A misspelt name would silently compress its column.
        let unknown: Vec<_> = LOW_CARDINALITY_COLUMNS
            .iter()
            .filter(|c| !low_cardinality_seen.contains(**c))
            .collect();
        assert!(unknown.is_empty(), "not a column of any table: {unknown:?}");
    }
}
