//! Each event once per table: sets aside repeated deliveries of an event (the same `event_id`).

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray, StringViewArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::DataType;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

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
///
/// Each id is kept as its hash and where it was seen, not copied: a busy
/// hour's 1.5 million ids take 30 MB. The hash is aHash, randomly keyed per
/// process so that no log line can aim collisions at it (and a collision
/// costs a comparison, not a wrong answer); it is several times faster than
/// std's SipHash over a busy hour's ids.
#[derive(Debug, Default)]
pub struct EventIds<S = ahash::RandomState> {
    hasher: S,
    /// Each id hash, with the first row (batch, row) that had it.
    first: HashMap<u64, (u32, u32), BuildHasherDefault<HashedAlready>>,
    /// Other ids with a hash already taken (a collision), rarely any.
    others: HashMap<u64, Vec<(u32, u32)>>,
    /// The id column of each batch seen.
    ids: Vec<Ids>,
    /// Rows set aside so far.
    set_aside: usize,
}

/// A batch's id column, as read (text or text views).
#[derive(Debug)]
enum Ids {
    Utf8(StringArray),
    View(StringViewArray),
}

impl Ids {
    fn len(&self) -> usize {
        match self {
            Ids::Utf8(a) => a.len(),
            Ids::View(a) => a.len(),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Ids::Utf8(a) => a.is_null(i),
            Ids::View(a) => a.is_null(i),
        }
    }

    fn value(&self, i: usize) -> &str {
        match self {
            Ids::Utf8(a) => a.value(i),
            Ids::View(a) => a.value(i),
        }
    }
}

impl<S: BuildHasher> EventIds<S> {
    /// The rows of `batch` whose event id was not seen before (in an
    /// earlier batch or an earlier row); the batch itself when all are new.
    pub fn first_deliveries(&mut self, batch: RecordBatch) -> Result<RecordBatch, DetectError> {
        let Some(column) = batch.column_by_name(EVENT_ID) else {
            return Ok(batch);
        };
        let ids = match column.data_type() {
            DataType::Utf8View => Ids::View(column.as_string_view().clone()),
            DataType::Utf8 => Ids::Utf8(column.as_string::<i32>().clone()),
            _ => Ids::Utf8(cast(column, &DataType::Utf8)?.as_string::<i32>().clone()),
        };
        let b = u32::try_from(self.ids.len()).expect("fewer than 4 billion batches");
        self.first.reserve(ids.len());
        let mut keep: Option<Vec<bool>> = None;
        for r in 0..ids.len() {
            if ids.is_null(r) {
                continue;
            }
            let id = ids.value(r);
            let at = (b, r as u32);
            let hash = self.hasher.hash_one(id);
            let id_at = |(b0, r0): (u32, u32)| match self.ids.get(b0 as usize) {
                Some(earlier) => earlier.value(r0 as usize),
                None => ids.value(r0 as usize),
            };
            let repeat = match self.first.entry(hash) {
                Entry::Vacant(slot) => {
                    slot.insert(at);
                    false
                }
                Entry::Occupied(slot) if id_at(*slot.get()) == id => true,
                Entry::Occupied(_) => {
                    let others = self.others.entry(hash).or_default();
                    let seen = others.iter().any(|&o| id_at(o) == id);
                    if !seen {
                        others.push(at);
                    }
                    seen
                }
            };
            if repeat {
                keep.get_or_insert_with(|| vec![true; ids.len()])[r] = false;
            }
        }
        self.ids.push(ids);
        match keep {
            None => Ok(batch),
            Some(keep) => {
                self.set_aside += keep.iter().filter(|&&k| !k).count();
                Ok(filter_record_batch(&batch, &BooleanArray::from(keep))?)
            }
        }
    }

    /// How many rows were set aside as repeats so far.
    pub fn set_aside(&self) -> usize {
        self.set_aside
    }
}

/// A hasher for keys that are hashes already: passes the `u64` through.
#[derive(Debug, Default)]
struct HashedAlready(u64);

impl Hasher for HashedAlready {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with it; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
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

    /// The same batch with its ids as text views (as the lake is read).
    fn viewed(batch: RecordBatch) -> RecordBatch {
        let ids = cast(batch.column(0), &DataType::Utf8View).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new(EVENT_ID, DataType::Utf8View, true),
            Field::new("n", DataType::Int32, false),
        ]));
        RecordBatch::try_new(schema, vec![ids, batch.column(1).clone()]).unwrap()
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
        let mut ids: EventIds = EventIds::default();
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
        assert_eq!(ids.set_aside(), 4);
    }

    #[test]
    fn ids_read_as_text_views_are_told_apart_from_earlier_text_ones() {
        let mut ids: EventIds = EventIds::default();
        let long = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let first = ids
            .first_deliveries(batch(&[Some(long), Some("b")], &[1, 2]))
            .unwrap();
        assert_eq!(values(&first), vec![1, 2]);
        let second = ids
            .first_deliveries(viewed(batch(
                &[Some("c"), Some(long), Some("c"), None],
                &[3, 4, 5, 6],
            )))
            .unwrap();
        assert_eq!(second.column(0).data_type(), &DataType::Utf8View);
        assert_eq!(values(&second), vec![3, 6]);
        let third = ids
            .first_deliveries(batch(&[Some("b"), Some("c"), Some("d")], &[7, 8, 9]))
            .unwrap();
        assert_eq!(values(&third), vec![9]);
    }

    /// Hashes every id alike.
    #[derive(Debug, Default)]
    struct OneHash;

    struct Seven;

    impl Hasher for Seven {
        fn finish(&self) -> u64 {
            7
        }
        fn write(&mut self, _: &[u8]) {}
    }

    impl BuildHasher for OneHash {
        type Hasher = Seven;
        fn build_hasher(&self) -> Seven {
            Seven
        }
    }

    #[test]
    fn ids_sharing_a_hash_are_still_told_apart() {
        let mut ids = EventIds::<OneHash>::default();
        let first = ids
            .first_deliveries(batch(
                &[Some("a"), Some("b"), Some("c"), Some("b")],
                &[1, 2, 3, 4],
            ))
            .unwrap();
        assert_eq!(values(&first), vec![1, 2, 3]);
        let second = ids
            .first_deliveries(batch(&[Some("c"), Some("d"), Some("a")], &[5, 6, 7]))
            .unwrap();
        assert_eq!(values(&second), vec![6]);
    }
}
