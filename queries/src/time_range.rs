//! A half-open time range `[from, to)` and the filter that reads only its partitions.

use chrono::{DateTime, Utc};
use datafusion::prelude::{col, lit, Expr};
use datafusion::scalar::ScalarValue;

const HOUR_MS: i64 = 3_600_000;

/// `[from_ms, to_ms)` in Unix milliseconds, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeRange {
    /// Every instant a lake partition can name: its folders are dated, from
    /// 1970 to the end of 9999.
    pub const ALL: TimeRange = TimeRange {
        from_ms: 0,
        to_ms: 253_402_300_800_000,
    };

    pub fn new(from_ms: i64, to_ms: i64) -> Self {
        TimeRange { from_ms, to_ms }
    }

    pub fn is_empty(&self) -> bool {
        self.to_ms <= self.from_ms
    }

    pub fn contains(&self, ms: i64) -> bool {
        self.from_ms <= ms && ms < self.to_ms
    }

    /// The smallest range holding both.
    pub fn union(&self, other: &TimeRange) -> TimeRange {
        TimeRange::new(self.from_ms.min(other.from_ms), self.to_ms.max(other.to_ms))
    }

    /// `event_time >= from AND event_time < to`.
    pub fn event_time_filter(&self) -> Expr {
        col("event_time")
            .gt_eq(timestamp_literal(self.from_ms))
            .and(col("event_time").lt(timestamp_literal(self.to_ms)))
    }

    /// A filter on the `date`/`hour` partition columns alone, so that only the
    /// partitions the range touches are listed and read.
    pub fn partition_filter(&self) -> Expr {
        let (first_date, first_hour) = partition_of(self.from_ms);
        let (last_date, last_hour) = partition_of((self.to_ms - 1).max(self.from_ms));
        let after_start = col("date").gt(lit(first_date.clone())).or(col("date")
            .eq(lit(first_date))
            .and(col("hour").gt_eq(lit(first_hour))));
        let before_end = col("date").lt(lit(last_date.clone())).or(col("date")
            .eq(lit(last_date))
            .and(col("hour").lt_eq(lit(last_hour))));
        after_start.and(before_end)
    }

    /// Both filters: what a scan of the range should apply.
    pub fn filter(&self) -> Expr {
        self.partition_filter().and(self.event_time_filter())
    }
}

/// Merges hours (Unix ms of each hour's start) into contiguous ranges, clipped to `within`.
pub fn hour_ranges(hours: &std::collections::BTreeSet<i64>, within: TimeRange) -> Vec<TimeRange> {
    let mut out: Vec<TimeRange> = Vec::new();
    for &h in hours {
        let r = TimeRange::new(h.max(within.from_ms), (h + HOUR_MS).min(within.to_ms));
        if r.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.to_ms >= r.from_ms => last.to_ms = last.to_ms.max(r.to_ms),
            _ => out.push(r),
        }
    }
    out
}

/// A timestamp literal in the lake's type (ms, UTC).
pub fn timestamp_literal(ms: i64) -> Expr {
    lit(ScalarValue::TimestampMillisecond(
        Some(ms),
        Some("UTC".into()),
    ))
}

/// The `date`/`hour` partition values of an instant.
pub fn partition_of(ms: i64) -> (String, String) {
    let hour_start = ms.div_euclid(HOUR_MS) * HOUR_MS;
    let dt: DateTime<Utc> = DateTime::from_timestamp_millis(hour_start).unwrap_or_default();
    (
        dt.format("%Y-%m-%d").to_string(),
        dt.format("%H").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_those_of_the_hour() {
        // 2026-11-24T09:59:59.999Z
        let ms = 1_795_514_399_999;
        assert_eq!(partition_of(ms), ("2026-11-24".into(), "09".into()));
        assert_eq!(partition_of(ms + 1), ("2026-11-24".into(), "10".into()));
    }

    #[test]
    fn hours_merge_into_ranges_with_gaps_kept() {
        let h = HOUR_MS;
        let hours = [0, h, 5 * h].into_iter().collect();
        let ranges = hour_ranges(&hours, TimeRange::new(30 * 60_000, 10 * h));
        assert_eq!(
            ranges,
            vec![
                TimeRange::new(30 * 60_000, 2 * h),
                TimeRange::new(5 * h, 6 * h)
            ]
        );
    }

    #[test]
    fn a_range_ending_on_the_hour_does_not_touch_the_next_one() {
        let range = TimeRange::new(1_795_510_800_000, 1_795_514_400_000);
        let text = format!("{}", range.partition_filter());
        assert!(text.contains("Utf8(\"09\")"), "{text}");
        assert!(!text.contains("Utf8(\"10\")"), "{text}");
    }
}
