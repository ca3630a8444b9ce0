//! The rule tables held in memory, each event once, sliced per window (copying only batches a window cuts).

use arrow::array::{Array, BooleanArray, RecordBatch, TimestampMillisecondArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::{Constraint, Constraints};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::collections::BTreeMap;
use std::sync::Arc;
use vigil_ingest::schema::schema;
use vigil_ingest::{Table, TableBatch};
use vigil_queries::TimeRange;

use crate::dedup::{EventIds, EVENT_ID};
use crate::error::DetectError;
use crate::guard::RULE_TABLES;
use crate::unique_count::UniqueCount;

/// Rows of the rule tables, each event once, in the order they were read.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    batches: BTreeMap<Table, Vec<RecordBatch>>,
    /// Repeated deliveries of an event set aside while building these.
    repeated: usize,
}

fn times(batch: &RecordBatch) -> Option<&TimestampMillisecondArray> {
    batch
        .column_by_name("event_time")?
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
}

/// The first and last `event_time` of a batch (`None` when it has none).
fn time_bounds(t: &TimestampMillisecondArray) -> Option<(i64, i64)> {
    Some((arrow::compute::min(t)?, arrow::compute::max(t)?))
}

/// The rows of `batch` whose `event_time` is in `range`: the batch itself
/// when all are, a copy when some are, `None` when none is.
pub(crate) fn within(
    batch: &RecordBatch,
    range: TimeRange,
) -> Result<Option<RecordBatch>, DetectError> {
    let Some(t) = times(batch) else {
        return Ok(Some(batch.clone()));
    };
    match time_bounds(t) {
        Some((first, last))
            if t.null_count() == 0 && range.contains(first) && range.contains(last) =>
        {
            Ok(Some(batch.clone()))
        }
        Some((first, last)) if last >= range.from_ms && first < range.to_ms => {
            let inside: BooleanArray = t
                .iter()
                .map(|v| Some(v.is_some_and(|v| range.contains(v))))
                .collect();
            Ok(Some(filter_record_batch(batch, &inside)?))
        }
        _ => Ok(None),
    }
}

/// The batch with its text columns as `Utf8View` (the bytes are shared,
/// not copied), as rules see lake tables.
fn string_views(batch: RecordBatch) -> Result<RecordBatch, DetectError> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| f.data_type() == &DataType::Utf8)
    {
        return Ok(batch);
    }
    let schema = vigil_queries::string_views_of(&batch.schema());
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// A rule table's schema as rules see it: the lake's, text as views.
pub(crate) fn rule_table_schema(table: Table) -> SchemaRef {
    vigil_queries::string_views_of(&schema(table))
}

/// A session for running a rule: small, no information schema, one
/// partition. Rules run side by side, a task each; splitting a rule's input
/// in two as well only adds the work of repartitioning it.
pub fn session() -> SessionContext {
    session_with(Pushdown::Filters, 1)
}

/// A session for reading the lake: two partitions, so that two files (or
/// row groups) decode at once.
pub(crate) fn lake_session(pushdown: Pushdown) -> SessionContext {
    session_with(pushdown, 2)
}

/// Whether a lake scan evaluates its filter while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushdown {
    /// The filter is evaluated during the Parquet decode, so the other
    /// columns are decoded only for the rows that pass (late
    /// materialisation): the way to read few rows of many.
    Filters,
    /// Columns are decoded whole and filtered after: the way to read (almost)
    /// every row, where evaluating a filter first only adds work.
    None,
}

fn session_with(pushdown: Pushdown, partitions: usize) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_information_schema(false);
    // Lake text read as Utf8View: a dictionary page decodes to views of its
    // dictionary instead of a copy of each value, and filters copy views,
    // not bytes. Ingested batches are viewed alike (see `from_batches`), so a
    // rule sees the same types in streaming and scheduled mode.
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = true;
    // No statistics at planning: the scan prunes with them anyway, and
    // gathering them reads every footer once more.
    config.options_mut().execution.collect_statistics = false;
    let late = pushdown == Pushdown::Filters;
    config.options_mut().execution.parquet.pushdown_filters = late;
    config.options_mut().execution.parquet.reorder_filters = late;
    // The lake is written without bloom filters: do not look for them.
    config.options_mut().execution.parquet.bloom_filter_on_read = false;
    // Nor for page indexes: the lake's row groups (32k rows) are pruned by
    // their statistics already, and loading each file's index cost more
    // than it saved on every benchmark lake.
    config.options_mut().execution.parquet.enable_page_index = false;
    let ctx = SessionContext::new_with_config(config);
    vigil_queries::register_functions(&ctx);
    ctx.add_analyzer_rule(Arc::new(UniqueCount));
    ctx
}

impl Tables {
    /// The rule tables' rows among `batches` (other tables are ignored),
    /// each event once.
    pub fn from_batches(
        batches: impl IntoIterator<Item = TableBatch>,
    ) -> Result<Tables, DetectError> {
        let mut tables = Tables::default();
        let mut ids: BTreeMap<Table, EventIds> = BTreeMap::new();
        for tb in batches {
            if !RULE_TABLES.contains(&tb.table) || tb.batch.num_rows() == 0 {
                continue;
            }
            let batch = ids
                .entry(tb.table)
                .or_default()
                .first_deliveries(string_views(tb.batch)?)?;
            if batch.num_rows() > 0 {
                tables.batches.entry(tb.table).or_default().push(batch);
            }
        }
        tables.repeated = ids.values().map(EventIds::set_aside).sum();
        Ok(tables)
    }

    /// Rows set aside as repeated deliveries of an event already held.
    pub fn repeated(&self) -> usize {
        self.repeated
    }

    pub fn rows(&self) -> usize {
        self.batches.values().flatten().map(|b| b.num_rows()).sum()
    }

    pub fn tables(&self) -> impl Iterator<Item = Table> + '_ {
        self.batches.keys().copied()
    }

    /// The batches of one table (none when it has no rows).
    pub fn batches_of(&self, table: Table) -> &[RecordBatch] {
        self.batches.get(&table).map_or(&[], Vec::as_slice)
    }

    /// From the first event to just after the last one.
    pub fn span(&self) -> Option<TimeRange> {
        self.batches
            .values()
            .flatten()
            .filter_map(|b| time_bounds(times(b)?))
            .map(|(first, last)| TimeRange::new(first, last + 1))
            .reduce(|a, b| a.union(&b))
    }

    /// The hours (Unix ms of each hour's start) that hold at least one row.
    pub fn hours(&self) -> std::collections::BTreeSet<i64> {
        use vigil_ingest::HOUR_MS;
        let mut hours = std::collections::BTreeSet::new();
        for batch in self.batches.values().flatten() {
            let Some(t) = times(batch) else { continue };
            let Some((first, last)) = time_bounds(t) else {
                continue;
            };
            let (first, last) = (first.div_euclid(HOUR_MS), last.div_euclid(HOUR_MS));
            if first == last {
                hours.insert(first * HOUR_MS);
            } else {
                hours.extend(t.iter().flatten().map(|v| v.div_euclid(HOUR_MS) * HOUR_MS));
            }
        }
        hours
    }

    /// The rows of the given tables alone (shared, not copied).
    pub fn only(&self, tables: &[Table]) -> Tables {
        Tables {
            batches: self
                .batches
                .iter()
                .filter(|(t, _)| tables.contains(t))
                .map(|(t, b)| (*t, b.clone()))
                .collect(),
            repeated: 0,
        }
    }

    /// The rows whose `event_time` is in `range` (batches within it shared,
    /// not copied).
    pub fn slice(&self, range: TimeRange) -> Result<Tables, DetectError> {
        let mut out = Tables::default();
        for (table, batches) in &self.batches {
            for batch in batches {
                if let Some(part) = within(batch, range)? {
                    if part.num_rows() > 0 {
                        out.batches.entry(*table).or_default().push(part);
                    }
                }
            }
        }
        Ok(out)
    }

    /// A session where each rule table is registered under its name (empty
    /// when there are no rows), restricted to `range` when one is given.
    pub fn context(&self, range: Option<TimeRange>) -> Result<SessionContext, DetectError> {
        let ctx = session();
        let view;
        let source = match range {
            Some(r) => {
                view = self.slice(r)?;
                &view
            }
            None => self,
        };
        for table in RULE_TABLES {
            let batches = source.batches.get(&table).cloned().unwrap_or_default();
            let schema = batches
                .first()
                .map(|b| b.schema())
                .unwrap_or_else(|| rule_table_schema(table));
            let unique_ids = Tables::unique_ids(&schema);
            let mem = MemTable::try_new(schema, vec![batches])
                .map_err(DetectError::Lake)?
                .with_constraints(unique_ids);
            ctx.register_table(table.name(), Arc::new(mem))
                .map_err(DetectError::Lake)?;
        }
        // Empty until a scheduled pass registers the facts it folded.
        vigil_queries::first_seen::register(&ctx, None)?;
        Ok(ctx)
    }

    /// The constraint every rule table carries: each event once (see
    /// `crate::dedup`), declared so that `count(DISTINCT event_id)` counts
    /// without a set.
    pub fn unique_ids(schema: &Schema) -> Constraints {
        schema
            .index_of(EVENT_ID)
            .ok()
            .map(|i| Constraints::new_unverified(vec![Constraint::Unique(vec![i])]))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    const HOUR: i64 = 3_600_000;

    fn batch(times: &[i64]) -> TableBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "event_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new(EVENT_ID, DataType::Utf8, true),
        ]));
        let ids: Vec<String> = times.iter().map(|t| format!("e{t}")).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampMillisecondArray::from(times.to_vec()).with_timezone("UTC")),
                Arc::new(StringArray::from(ids)),
            ],
        )
        .unwrap();
        TableBatch {
            table: Table::ApiGateway,
            batch_id: format!("b{}", times[0]),
            batch,
        }
    }

    fn times_of(tables: &Tables) -> Vec<i64> {
        let mut out: Vec<i64> = tables
            .batches
            .values()
            .flatten()
            .flat_map(|b| times(b).unwrap().values().to_vec())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn rows_in_any_order_are_sliced_by_time_and_a_batch_within_the_range_is_shared() {
        let tables = Tables::from_batches([
            batch(&[5 * HOUR + 30, 2 * HOUR + 10, 5 * HOUR + 10]),
            batch(&[3 * HOUR + 1, 3 * HOUR]),
        ])
        .unwrap();
        assert_eq!(
            tables.span(),
            Some(TimeRange::new(2 * HOUR + 10, 5 * HOUR + 31))
        );
        assert_eq!(
            tables.hours().into_iter().collect::<Vec<_>>(),
            vec![2 * HOUR, 3 * HOUR, 5 * HOUR]
        );
        let cut = tables
            .slice(TimeRange::new(3 * HOUR, 5 * HOUR + 20))
            .unwrap();
        assert_eq!(times_of(&cut), vec![3 * HOUR, 3 * HOUR + 1, 5 * HOUR + 10]);
        // The second batch lies within the range: the same buffers, not a copy.
        let shared = &cut.batches[&Table::ApiGateway][1];
        let original = &tables.batches[&Table::ApiGateway][1];
        assert!(shared.column(1).to_data().buffers()[1]
            .ptr_eq(&original.column(1).to_data().buffers()[1]));
        assert!(
            tables
                .slice(TimeRange::new(6 * HOUR, 7 * HOUR))
                .unwrap()
                .rows()
                == 0
        );
    }
}
