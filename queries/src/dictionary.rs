//! Reads a few low-cardinality string columns as Arrow dictionaries, straight from Parquet's dictionary pages.
//!
//! A CloudTrail lake has millions of rows but a few hundred event names. Read
//! as strings, a hunt's `event_name IN (...)` is evaluated per row; read as a
//! dictionary, per distinct name, and decoding yields a 4-byte key per row
//! instead of a 16-byte string view. The lake's files are written with plain string types, so
//! the reader is told otherwise: [`DictionaryParquetFormat`] is DataFusion's
//! Parquet format whose file readers rewrite each file's Arrow schema hint
//! (the `ARROW:schema` key of its footer) to ask for dictionaries in those
//! columns, which parquet-rs then decodes without building strings. Works on
//! any file, with or without the hint, whatever columns it has.

use std::ops::Range;
use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, SchemaRef};
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::catalog::Session;
use datafusion::common::Statistics;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource, ParquetFileReaderFactory};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;
use futures::FutureExt;
use object_store::{ObjectMeta, ObjectStore};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::{encode_arrow_schema, parquet_to_arrow_schema, ARROW_SCHEMA_META_KEY};
use parquet::file::metadata::{FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataBuilder};

use crate::parquet_scan::with_changed_source;

/// The columns read as dictionaries wherever a table has them: each takes a
/// few hundred values at most, and hunts filter and group on them.
pub const DICTIONARY_COLUMNS: [&str; 2] = ["event_name", "event_source"];

/// The dictionary type those columns are read as.
pub fn dictionary_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// `schema` with the [`DICTIONARY_COLUMNS`] it has typed as dictionaries.
pub fn with_dictionary_columns(schema: &Schema) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| {
            if DICTIONARY_COLUMNS.contains(&f.name().as_str()) && is_string(f.data_type()) {
                Arc::new(f.as_ref().clone().with_data_type(dictionary_type()))
            } else {
                f.clone()
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    )
}

/// DataFusion's [`ParquetFormat`], reading the [`DICTIONARY_COLUMNS`] as
/// dictionaries; everything else is the inner format's.
#[derive(Debug)]
pub struct DictionaryParquetFormat {
    inner: ParquetFormat,
}

impl DictionaryParquetFormat {
    pub fn new(inner: ParquetFormat) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl FileFormat for DictionaryParquetFormat {
    fn get_ext(&self) -> String {
        self.inner.get_ext()
    }

    fn get_ext_with_compression(&self, compression: &FileCompressionType) -> Result<String> {
        self.inner.get_ext_with_compression(compression)
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        self.inner.compression_type()
    }

    async fn infer_schema(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        let schema = self.inner.infer_schema(state, store, objects).await?;
        Ok(with_dictionary_columns(&schema))
    }

    async fn infer_stats(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        object: &ObjectMeta,
    ) -> Result<Statistics> {
        self.inner
            .infer_stats(state, store, table_schema, object)
            .await
    }

    /// The inner format's scan, its file readers wrapped to rewrite the hint.
    async fn create_physical_plan(
        &self,
        state: &dyn Session,
        conf: FileScanConfig,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.create_physical_plan(state, conf).await?;
        with_changed_source(&plan, |source| {
            let readers = source.parquet_file_reader_factory()?.clone();
            Some(
                source
                    .clone()
                    .with_parquet_file_reader_factory(Arc::new(DictionaryReaders {
                        inner: readers,
                    })),
            )
        })
        .ok_or_else(|| DataFusionError::Internal("expected a Parquet file scan".into()))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        self.inner.file_source(table_schema)
    }
}

/// Wraps each file reader of the inner factory in a [`DictionaryReader`].
#[derive(Debug)]
struct DictionaryReaders {
    inner: Arc<dyn ParquetFileReaderFactory>,
}

impl ParquetFileReaderFactory for DictionaryReaders {
    fn create_reader(
        &self,
        partition_index: usize,
        file: datafusion::datasource::listing::PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> Result<Box<dyn AsyncFileReader + Send>> {
        let inner = self
            .inner
            .create_reader(partition_index, file, metadata_size_hint, metrics)?;
        Ok(Box::new(DictionaryReader { inner }))
    }
}

/// A file reader whose footer asks for the [`DICTIONARY_COLUMNS`] as dictionaries.
struct DictionaryReader {
    inner: Box<dyn AsyncFileReader + Send>,
}

impl AsyncFileReader for DictionaryReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        self.inner.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        self.inner.get_byte_ranges(ranges)
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let metadata = self.inner.get_metadata(options).await?;
            with_dictionary_hint(metadata)
        }
        .boxed()
    }
}

/// `metadata` with its Arrow schema hint typing the [`DICTIONARY_COLUMNS`]
/// as dictionaries (unchanged when the file has none of them).
fn with_dictionary_hint(
    metadata: Arc<ParquetMetaData>,
) -> parquet::errors::Result<Arc<ParquetMetaData>> {
    let file = metadata.file_metadata();
    let schema = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())?;
    let wanted = with_dictionary_columns(&schema);
    if wanted.fields() == schema.fields() {
        return Ok(metadata);
    }
    let mut key_values: Vec<KeyValue> = file
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|kv| kv.key != ARROW_SCHEMA_META_KEY)
        .cloned()
        .collect();
    key_values.push(KeyValue::new(
        ARROW_SCHEMA_META_KEY.to_string(),
        encode_arrow_schema(&wanted),
    ));
    let file = FileMetaData::new(
        file.version(),
        file.num_rows(),
        file.created_by().map(str::to_string),
        Some(key_values),
        file.schema_descr_ptr(),
        file.column_orders().cloned(),
    );
    let mut parts = ParquetMetaDataBuilder::new_from_metadata(metadata.as_ref().clone());
    let rewritten = ParquetMetaDataBuilder::new(file)
        .set_row_groups(parts.take_row_groups())
        .set_column_index(parts.take_column_index())
        .set_offset_index(parts.take_offset_index())
        .build();
    Ok(Arc::new(rewritten))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::Int32Type;
    use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
    use parquet::arrow::arrow_writer::ArrowWriterOptions;
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::ParquetMetaDataReader;

    fn parquet(batch: &RecordBatch, arrow_hint: bool) -> Bytes {
        let mut out = Vec::new();
        let options = ArrowWriterOptions::new().with_skip_arrow_metadata(!arrow_hint);
        let mut writer =
            ArrowWriter::try_new_with_options(&mut out, batch.schema(), options).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
        Bytes::from(out)
    }

    fn sample() -> RecordBatch {
        let names: ArrayRef = Arc::new(StringArray::from(vec![
            Some("ConsoleLogin"),
            None,
            Some("PutBucketPolicy"),
            Some("ConsoleLogin"),
        ]));
        let sizes: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
        RecordBatch::try_from_iter([("event_name", names), ("size", sizes)]).unwrap()
    }

    #[test]
    fn a_file_with_or_without_an_arrow_hint_reads_its_dictionary_columns_as_dictionaries() {
        for arrow_hint in [true, false] {
            let file = parquet(&sample(), arrow_hint);
            let metadata = ParquetMetaDataReader::new()
                .parse_and_finish(&file)
                .unwrap();
            let rewritten = with_dictionary_hint(Arc::new(metadata)).unwrap();
            let reader_metadata =
                ArrowReaderMetadata::try_new(rewritten, ArrowReaderOptions::new()).unwrap();
            let schema = reader_metadata.schema();
            assert_eq!(schema.field(0).data_type(), &dictionary_type());
            assert_eq!(schema.field(1).data_type(), &DataType::Int64);

            let batches: Vec<RecordBatch> =
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, reader_metadata)
                    .build()
                    .unwrap()
                    .collect::<std::result::Result<_, _>>()
                    .unwrap();
            let names = batches[0]
                .column(0)
                .as_any()
                .downcast_ref::<DictionaryArray<Int32Type>>()
                .expect("a dictionary array");
            let names: Vec<Option<&str>> = names
                .downcast_dict::<StringArray>()
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(
                names,
                [
                    Some("ConsoleLogin"),
                    None,
                    Some("PutBucketPolicy"),
                    Some("ConsoleLogin")
                ]
            );
        }
    }

    #[test]
    fn a_file_without_dictionary_columns_keeps_its_footer() {
        let sizes: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let batch = RecordBatch::try_from_iter([("size", sizes)]).unwrap();
        let file = parquet(&batch, true);
        let metadata = Arc::new(
            ParquetMetaDataReader::new()
                .parse_and_finish(&file)
                .unwrap(),
        );
        let same = with_dictionary_hint(Arc::clone(&metadata)).unwrap();
        assert!(Arc::ptr_eq(&metadata, &same));
    }
}
