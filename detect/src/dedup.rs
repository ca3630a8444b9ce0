//! Each event once per table: drops repeated deliveries of an event (the same `event_id`).

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::DataType;
use datafusion::physical_expr_common::binary_map::{ArrowBytesMap, OutputType};
use std::cell::Cell;

use crate::error::DetectError;

/// The column that names an event.
pub const EVENT_ID: &str = "event_id";

/// The event ids a table's rows have had so far.
///
/// CloudTrail delivers some events more than once, and a log subscription
/// may hand a batch over twice; a rule table holds each event once, so no
/// rule counts a delivery twice and `count(DISTINCT event_id)` can count
/// without a set (see [`crate::unique_count`]). Rows without an id are all
/// kept: nothing says two of them are the same event.
pub struct EventIds {
    seen: ArrowBytesMap<i32, ()>,
}

impl Default for EventIds {
    fn default() -> Self {
        EventIds {
            seen: ArrowBytesMap::new(OutputType::Utf8),
        }
    }
}

impl std::fmt::Debug for EventIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventIds")
            .field("len", &self.seen.len())
            .finish()
    }
}

impl EventIds {
    /// The rows of `batch` whose event id was not seen before (in an
    /// earlier batch or an earlier row); the batch itself when all are new.
    pub fn first_deliveries(&mut self, batch: RecordBatch) -> Result<RecordBatch, DetectError> {
        let Some(ids) = batch.column_by_name(EVENT_ID) else {
            return Ok(batch);
        };
        let ids: ArrayRef = match ids.data_type() {
            DataType::Utf8 => ids.clone(),
            _ => cast(ids, &DataType::Utf8)?,
        };
        let new_value = Cell::new(false);
        let mut keep = Vec::with_capacity(ids.len());
        self.seen.insert_if_new(
            &ids,
            |_| new_value.set(true),
            |()| keep.push(new_value.replace(false)),
        );
        for (i, kept) in keep.iter_mut().enumerate() {
            *kept |= ids.is_null(i);
        }
        if keep.iter().all(|&k| k) {
            return Ok(batch);
        }
        Ok(filter_record_batch(&batch, &BooleanArray::from(keep))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch(ids: &[Option<&str>], values: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new(EVENT_ID, DataType::Utf8, true),
            Field::new("n", DataType::Int32, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(ids.to_vec())),
                Arc::new(Int32Array::from(values.to_vec())),
            ],
        )
        .unwrap()
    }

    fn values(batch: &RecordBatch) -> Vec<i32> {
        let n = batch
            .column(1)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        n.values().to_vec()
    }

    #[test]
    fn a_repeated_id_is_dropped_within_a_batch_and_across_batches_but_rows_without_one_stay() {
        let mut ids = EventIds::default();
        let first = ids
            .first_deliveries(batch(
                &[Some("a"), Some("b"), Some("a"), None, None],
                &[1, 2, 3, 4, 5],
            ))
            .unwrap();
        assert_eq!(values(&first), vec![1, 2, 4, 5]);
        let second = ids
            .first_deliveries(batch(&[Some("b"), Some("c"), None], &[6, 7, 8]))
            .unwrap();
        assert_eq!(values(&second), vec![7, 8]);
        let none_new = ids
            .first_deliveries(batch(&[Some("a"), Some("c")], &[9, 10]))
            .unwrap();
        assert_eq!(none_new.num_rows(), 0);
    }
}
