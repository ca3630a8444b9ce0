//! Which windows a scheduled rule runs over: aligned, sliding, and caught up after gaps.

use vigil_queries::TimeRange;

use crate::rule::Schedule;

fn ms(d: std::time::Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// Every aligned window (ends on multiples of `every`) that overlaps `range`:
/// a burst anywhere in the range lies whole inside at least one of them when
/// it is shorter than `window - every`.
pub fn windows_over(schedule: &Schedule, range: TimeRange) -> Vec<TimeRange> {
    let (window, every) = (ms(schedule.window), ms(schedule.every).max(1));
    if range.is_empty() {
        return Vec::new();
    }
    let mut end = (range.from_ms.div_euclid(every) + 1) * every;
    let mut out = Vec::new();
    while end - window < range.to_ms {
        out.push(TimeRange::new(end - window, end));
        end += every;
    }
    out
}

/// The windows due at `now`, after the last one done (`last_end`): at most
/// `max_catch_up` of them, the newest; how many older ones were given up is
/// returned too. With no checkpoint, only the latest window is due.
pub fn due_windows(
    schedule: &Schedule,
    last_end: Option<i64>,
    now_ms: i64,
    max_catch_up: usize,
) -> (Vec<TimeRange>, usize) {
    let (window, every) = (ms(schedule.window), ms(schedule.every).max(1));
    let latest_end = (now_ms - ms(schedule.lag)).div_euclid(every) * every;
    let first_end = match last_end {
        Some(last) => last + every,
        None => latest_end,
    };
    if first_end > latest_end {
        return (Vec::new(), 0);
    }
    let due = ((latest_end - first_end) / every + 1) as usize;
    let skipped = due.saturating_sub(max_catch_up.max(1));
    let start = first_end + skipped as i64 * every;
    let windows = (0..due - skipped)
        .map(|i| {
            let end = start + i as i64 * every;
            TimeRange::new(end - window, end)
        })
        .collect();
    (windows, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MIN: i64 = 60_000;

    fn schedule(window: u64, every: u64, lag: u64) -> Schedule {
        Schedule {
            window: Duration::from_secs(window * 60),
            every: Duration::from_secs(every * 60),
            lag: Duration::from_secs(lag * 60),
            lookback: Duration::ZERO,
            min_history: Duration::ZERO,
        }
    }

    #[test]
    fn sliding_windows_cover_a_burst_straddling_a_boundary() {
        // A 4-minute burst from 09:58 to 10:02 with 10-minute windows every 5 minutes.
        let s = schedule(10, 5, 0);
        let burst = TimeRange::new(598 * MIN, 602 * MIN);
        let windows = windows_over(&s, TimeRange::new(540 * MIN, 660 * MIN));
        assert!(windows
            .iter()
            .any(|w| w.from_ms <= burst.from_ms && burst.to_ms <= w.to_ms));
        assert!(windows
            .windows(2)
            .all(|p| p[1].from_ms - p[0].from_ms == 5 * MIN));
        assert!(windows.iter().all(|w| w.to_ms - w.from_ms == 10 * MIN));
    }

    #[test]
    fn windows_over_cover_the_whole_range_and_no_more() {
        let s = schedule(15, 5, 0);
        let w = windows_over(&s, TimeRange::new(100 * MIN + 1, 130 * MIN));
        assert_eq!(w.first().unwrap().to_ms, 105 * MIN);
        assert!(w.last().unwrap().from_ms < 130 * MIN);
        assert!(w.last().unwrap().to_ms >= 130 * MIN);
    }

    #[test]
    fn due_windows_resume_after_the_checkpoint() {
        let s = schedule(10, 5, 2);
        // Last done: the window ending 10:00. Now 10:18 with 2 minutes lag: up to 10:15.
        let (w, skipped) = due_windows(&s, Some(600 * MIN), 618 * MIN, 100);
        assert_eq!(skipped, 0);
        assert_eq!(
            w,
            vec![
                TimeRange::new(595 * MIN, 605 * MIN),
                TimeRange::new(600 * MIN, 610 * MIN),
                TimeRange::new(605 * MIN, 615 * MIN)
            ]
        );
        // Nothing more is due until 10:22.
        assert!(due_windows(&s, Some(615 * MIN), 621 * MIN, 100)
            .0
            .is_empty());
    }

    #[test]
    fn catch_up_is_bounded_and_reports_what_it_gave_up() {
        let s = schedule(5, 5, 0);
        let (w, skipped) = due_windows(&s, Some(0), 1000 * MIN, 10);
        assert_eq!(w.len(), 10);
        assert_eq!(skipped, 190);
        assert_eq!(w.last().unwrap().to_ms, 1000 * MIN);
    }

    #[test]
    fn a_first_run_does_the_latest_window() {
        let s = schedule(10, 5, 0);
        assert_eq!(
            due_windows(&s, None, 603 * MIN, 10).0,
            vec![TimeRange::new(590 * MIN, 600 * MIN)]
        );
    }
}
