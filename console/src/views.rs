//! What each page shows, made from the lake's data: the overview's charts
//! and tables, the filtered and paged findings list, the rules and their
//! ATT&CK coverage. Pure functions, shared by the console and the report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_detect::attack::{enterprise_tactics, AttackTags};
use vigil_detect::RuleSet;
use vigil_queries::TimeRange;

use crate::chart::{Bar, StackedBars};
use crate::data::{FindingSummary, Health, DAY_MS, ENTITY_COLUMNS, SEVERITIES};
use crate::triage::TriageStatus;

const HOUR_MS: i64 = 3_600_000;
/// Findings per page of the list.
pub const PAGE_SIZE: usize = 50;
/// Rows of each "top" table on the overview.
const TOP: usize = 10;

/// Time as the console shows it (UTC, to the second).
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Time as an RFC 3339 value for links and forms.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Buckets of a day, or of an hour when the range is two days or less.
fn buckets(range: TimeRange) -> (i64, Vec<i64>) {
    let size = if range.to_ms - range.from_ms <= 2 * DAY_MS {
        HOUR_MS
    } else {
        DAY_MS
    };
    let first = range.from_ms.div_euclid(size) * size;
    let starts = (0..)
        .map(|i| first + i * size)
        .take_while(|s| *s < range.to_ms)
        .take(1_000)
        .collect();
    (size, starts)
}

fn bucket_label(start: i64, size: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(start).unwrap_or_default();
    if size < DAY_MS {
        t.format("%m-%d %Hh").to_string()
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

/// Findings (by first seen) per bucket, stacked by severity.
pub fn findings_chart(findings: &[FindingSummary], range: TimeRange) -> StackedBars {
    let (size, starts) = buckets(range);
    let mut bars: Vec<Bar> = starts
        .iter()
        .map(|s| Bar {
            label: bucket_label(*s, size),
            counts: vec![0; SEVERITIES.len()],
        })
        .collect();
    let first = starts.first().copied().unwrap_or(0);
    for f in findings {
        let i = (f.first_seen - first).div_euclid(size);
        let Some(sev) = SEVERITIES.iter().position(|s| *s == f.severity) else {
            continue;
        };
        if let Some(bar) = usize::try_from(i).ok().and_then(|i| bars.get_mut(i)) {
            bar.counts[sev] += 1;
        }
    }
    StackedBars {
        title: "Findings over time by severity".into(),
        series: SEVERITIES.iter().map(|s| s.to_string()).collect(),
        bars,
    }
}

/// Records ingested per bucket, stacked by table.
pub fn volume_chart(health: &Health, range: TimeRange) -> StackedBars {
    let (size, starts) = buckets(range);
    let tables: Vec<&str> = vigil_ingest::Table::LOGS.iter().map(|t| t.name()).collect();
    let mut bars: Vec<Bar> = starts
        .iter()
        .map(|s| Bar {
            label: bucket_label(*s, size),
            counts: vec![0; tables.len()],
        })
        .collect();
    let first = starts.first().copied().unwrap_or(0);
    for v in &health.volume {
        let i = (v.hour - first).div_euclid(size);
        let Some(t) = tables.iter().position(|t| *t == v.table) else {
            continue;
        };
        if let Some(bar) = usize::try_from(i).ok().and_then(|i| bars.get_mut(i)) {
            bar.counts[t] += v.records.max(0) as u64;
        }
    }
    StackedBars {
        title: "Records ingested per table".into(),
        series: tables.iter().map(|t| t.to_string()).collect(),
        bars,
    }
}

/// A value and how many findings have it.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: usize,
}

/// The overview's tables of open (or acknowledged) findings.
#[derive(Debug, Clone, Serialize)]
pub struct OpenFindings {
    pub total: usize,
    pub by_severity: Vec<Count>,
    pub by_rule: Vec<Count>,
    /// Entity kind → its most frequent values.
    pub by_entity: Vec<EntityCounts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityCounts {
    pub entity: &'static str,
    pub values: Vec<Count>,
}

fn top(counts: BTreeMap<String, (String, usize)>) -> Vec<Count> {
    let mut v: Vec<Count> = counts
        .into_iter()
        .map(|(key, (label, count))| Count { key, label, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v.truncate(TOP);
    v
}

pub fn open_findings(findings: &[FindingSummary]) -> OpenFindings {
    let open: Vec<&FindingSummary> = findings
        .iter()
        .filter(|f| f.status.status.is_active())
        .collect();
    let mut by_rule: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut by_entity: BTreeMap<&'static str, BTreeMap<String, (String, usize)>> = BTreeMap::new();
    for f in &open {
        by_rule
            .entry(f.rule_id.clone())
            .or_insert_with(|| (f.rule_id.clone(), 0))
            .1 += 1;
        for (k, v) in &f.entities {
            if matches!(*k, "region" | "account_id") {
                continue;
            }
            by_entity
                .entry(k)
                .or_default()
                .entry(v.clone())
                .or_insert_with(|| (v.clone(), 0))
                .1 += 1;
        }
    }
    let by_severity = SEVERITIES
        .iter()
        .map(|s| Count {
            key: s.to_string(),
            label: s.to_string(),
            count: open.iter().filter(|f| f.severity == *s).count(),
        })
        .collect();
    OpenFindings {
        total: open.len(),
        by_severity,
        by_rule: top(by_rule),
        by_entity: ENTITY_COLUMNS
            .iter()
            .filter_map(|e| {
                let counts = by_entity.remove(e)?;
                Some(EntityCounts {
                    entity: e,
                    values: top(counts),
                })
            })
            .collect(),
    }
}

/// The findings list's filters, from the query string.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FindingFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub severity: Option<String>,
    pub rule: Option<String>,
    /// A triage status, `active` (open or acknowledged) or empty for all.
    pub status: Option<String>,
    /// An entity value (IP, principal, account, region, resource), exact.
    pub entity: Option<String>,
    /// Text in the title, rule, dedup key or an entity.
    pub q: Option<String>,
    /// `last_seen` (default), `first_seen`, `severity`, `event_count`, `rule`.
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub dir: Option<String>,
    pub page: Option<usize>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl FindingFilter {
    pub fn keeps(&self, f: &FindingSummary) -> bool {
        if let Some(s) = set(&self.severity) {
            if f.severity != s {
                return false;
            }
        }
        if let Some(r) = set(&self.rule) {
            if f.rule_id != r {
                return false;
            }
        }
        match set(&self.status) {
            None | Some("all") => {}
            Some("active") => {
                if !f.status.status.is_active() {
                    return false;
                }
            }
            Some(s) => {
                if f.status.status.as_str() != s {
                    return false;
                }
            }
        }
        if let Some(e) = set(&self.entity) {
            if !f.entities.values().any(|v| v == e) {
                return false;
            }
        }
        if let Some(q) = set(&self.q) {
            if !f.mentions(q) {
                return false;
            }
        }
        true
    }

    /// The findings that pass, sorted; and the page asked for.
    pub fn apply<'a>(&self, findings: &'a [FindingSummary]) -> FindingPage<'a> {
        let mut kept: Vec<&FindingSummary> = findings.iter().filter(|f| self.keeps(f)).collect();
        let asc = set(&self.dir) == Some("asc");
        kept.sort_by(|a, b| {
            let order = match set(&self.sort).unwrap_or("last_seen") {
                "first_seen" => a.first_seen.cmp(&b.first_seen),
                "severity" => a.severity_rank().cmp(&b.severity_rank()),
                "event_count" => a.event_count.cmp(&b.event_count),
                "rule" => a.rule_id.cmp(&b.rule_id),
                _ => a.last_seen.cmp(&b.last_seen),
            }
            .then(a.finding_id.cmp(&b.finding_id));
            if asc {
                order
            } else {
                order.reverse()
            }
        });
        let total = kept.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = self.page.unwrap_or(1).clamp(1, pages);
        let rows = kept
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        FindingPage {
            rows,
            total,
            page,
            pages,
        }
    }

    /// The query string of this filter on another page or sort.
    pub fn query(&self, page: usize, sort: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("severity", &self.severity),
            ("rule", &self.rule),
            ("status", &self.status),
            ("entity", &self.entity),
            ("q", &self.q),
        ] {
            if let Some(v) = set(v) {
                q.append_pair(k, v);
            }
        }
        match sort {
            Some(s) => {
                let same = set(&self.sort).unwrap_or("last_seen") == s;
                let dir = if same && set(&self.dir) != Some("asc") {
                    "asc"
                } else {
                    "desc"
                };
                q.append_pair("sort", s);
                q.append_pair("dir", dir);
            }
            None => {
                if let Some(s) = set(&self.sort) {
                    q.append_pair("sort", s);
                }
                if let Some(d) = set(&self.dir) {
                    q.append_pair("dir", d);
                }
            }
        }
        q.append_pair("page", &page.to_string());
        q.finish()
    }
}

/// A page of the findings list.
#[derive(Debug)]
pub struct FindingPage<'a> {
    pub rows: Vec<&'a FindingSummary>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

/// A finding as a row of a list (times formatted).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRowView {
    pub finding_id: String,
    pub rule_id: String,
    pub title: String,
    pub severity: String,
    pub status: &'static str,
    pub reopened: bool,
    pub first_seen: String,
    pub last_seen: String,
    pub event_count: i64,
    pub entities: Vec<(String, String)>,
}

impl From<&FindingSummary> for FindingRowView {
    fn from(f: &FindingSummary) -> Self {
        FindingRowView {
            finding_id: f.finding_id.clone(),
            rule_id: f.rule_id.clone(),
            title: f.title.clone(),
            severity: f.severity.clone(),
            status: f.status.status.as_str(),
            reopened: f.status.reopened,
            first_seen: time(f.first_seen),
            last_seen: time(f.last_seen),
            event_count: f.event_count,
            entities: f
                .entities
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// A rule as the rules page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: String,
    pub title: String,
    pub mode: String,
    pub severity: String,
    pub tags: Vec<String>,
    /// The end of its last settled window (scheduled rules), or its last
    /// finding's detection (streaming rules).
    pub last_run: Option<String>,
    pub findings: usize,
}

/// Last run and findings count of each rule, from the findings and checkpoints.
pub fn rule_views(
    rules: &RuleSet,
    findings: &[FindingSummary],
    settled: &BTreeMap<String, i64>,
) -> Vec<RuleView> {
    let mut counts: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for f in findings {
        let c = counts.entry(&f.rule_id).or_default();
        c.0 += 1;
        c.1 = c.1.max(f.detected_at);
    }
    rules
        .rules
        .iter()
        .map(|r| {
            let (count, last_detected) = counts.get(r.id.as_str()).copied().unwrap_or_default();
            let mode = match r.schedule() {
                Some(s) => format!(
                    "scheduled: every {} over {}",
                    humanize(s.every),
                    humanize(s.window)
                ),
                None => "streaming".to_string(),
            };
            let last_run = settled
                .get(&r.id)
                .copied()
                .or((last_detected > 0).then_some(last_detected))
                .map(time);
            RuleView {
                id: r.id.clone(),
                title: r.title.clone(),
                mode,
                severity: r.severity.to_string(),
                tags: r.tags.clone(),
                last_run,
                findings: count,
            }
        })
        .collect()
}

fn humanize(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s % 86_400 == 0 && s > 0 {
        format!("{}d", s / 86_400)
    } else if s % 3_600 == 0 && s > 0 {
        format!("{}h", s / 3_600)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// One tactic's column of the coverage matrix.
#[derive(Debug, Clone, Serialize)]
pub struct TacticColumn {
    pub id: String,
    pub name: String,
    pub techniques: Vec<TechniqueCell>,
}

/// A technique under a tactic, with the rules that cover it there.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueCell {
    pub id: String,
    pub name: String,
    pub rules: Vec<String>,
    /// 1-4: how many rules (1, 2, 3-4, 5+), for the cell's colour.
    pub heat: u8,
}

/// The ATT&CK coverage matrix: tactics as columns (in ATT&CK's order), and
/// under each the techniques that rules tagged with that tactic detect.
pub fn attack_matrix(rules: &RuleSet) -> Vec<TacticColumn> {
    let mut cells: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for rule in &rules.rules {
        let tags = AttackTags::from_tags(&rule.tags);
        for tactic in &tags.tactics {
            let Some(tactic_id) = tactic.id else { continue };
            for technique in &tags.techniques {
                let cell = cells
                    .entry((tactic_id.to_string(), technique.id.clone()))
                    .or_insert_with(|| (technique.name.unwrap_or("").to_string(), Vec::new()));
                if !cell.1.contains(&rule.id) {
                    cell.1.push(rule.id.clone());
                }
            }
        }
    }
    enterprise_tactics()
        .into_iter()
        .map(|t| {
            let id = t.id.unwrap_or("").to_string();
            let techniques = cells
                .iter()
                .filter(|((tactic, _), _)| *tactic == id)
                .map(|((_, technique), (name, rules))| TechniqueCell {
                    id: technique.clone(),
                    name: name.clone(),
                    heat: match rules.len() {
                        0 | 1 => 1,
                        2 => 2,
                        3 | 4 => 3,
                        _ => 4,
                    },
                    rules: rules.clone(),
                })
                .collect();
            TacticColumn {
                id,
                name: t.name,
                techniques,
            }
        })
        .collect()
}

/// The triage statuses, for forms.
pub fn statuses() -> Vec<&'static str> {
    TriageStatus::ALL.iter().map(|s| s.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::{EffectiveStatus, TriageStatus};

    fn finding(id: &str, severity: &str, last_seen: i64, status: TriageStatus) -> FindingSummary {
        FindingSummary {
            finding_id: id.into(),
            rule_id: format!("rule-{severity}"),
            title: format!("title {id}"),
            severity: severity.into(),
            first_seen: last_seen - 10,
            last_seen,
            event_count: last_seen,
            dedup_key: String::new(),
            entities: [("src_ip", format!("10.0.0.{}", last_seen % 3))]
                .into_iter()
                .collect(),
            tags: vec![],
            window_start: 0,
            window_end: 0,
            first_detected_at: 0,
            detected_at: 0,
            detections: 1,
            status: EffectiveStatus {
                status,
                reopened: false,
            },
        }
    }

    #[test]
    fn the_list_filters_sorts_and_pages() {
        let findings: Vec<FindingSummary> = (0..120)
            .map(|i| {
                let sev = if i % 2 == 0 { "high" } else { "low" };
                let status = if i % 3 == 0 {
                    TriageStatus::Resolved
                } else {
                    TriageStatus::Open
                };
                finding(&format!("{i:04x}"), sev, 1_000 + i, status)
            })
            .collect();
        let all = FindingFilter::default().apply(&findings);
        assert_eq!((all.total, all.pages, all.rows.len()), (120, 3, PAGE_SIZE));
        assert_eq!(all.rows[0].last_seen, 1_119, "newest first");
        let high_active = FindingFilter {
            severity: Some("high".into()),
            status: Some("active".into()),
            sort: Some("event_count".into()),
            dir: Some("asc".into()),
            page: Some(9),
            ..Default::default()
        }
        .apply(&findings);
        // Even i, not a multiple of 3: 40 of 60.
        assert_eq!(high_active.total, 40);
        assert_eq!(high_active.page, 1, "a page past the end shows the last");
        assert!(high_active
            .rows
            .windows(2)
            .all(|w| w[0].event_count < w[1].event_count));
        let by_ip = FindingFilter {
            entity: Some("10.0.0.1".into()),
            ..Default::default()
        }
        .apply(&findings);
        assert_eq!(by_ip.total, 40);
        let text = FindingFilter {
            q: Some("TITLE 0077".into()),
            ..Default::default()
        }
        .apply(&findings);
        assert_eq!(text.total, 1);
    }

    #[test]
    fn open_findings_count_only_active_ones() {
        let findings = vec![
            finding("a", "high", 1, TriageStatus::Open),
            finding("b", "high", 4, TriageStatus::Acknowledged),
            finding("c", "low", 2, TriageStatus::FalsePositive),
        ];
        let open = open_findings(&findings);
        assert_eq!(open.total, 2);
        assert_eq!(open.by_rule[0].key, "rule-high");
        assert_eq!(open.by_rule[0].count, 2);
        assert_eq!(open.by_entity[0].values[0].key, "10.0.0.1");
    }

    #[test]
    fn the_findings_chart_buckets_by_hour_for_short_ranges() {
        let range = TimeRange::new(0, DAY_MS);
        let findings = vec![
            finding("a", "high", HOUR_MS + 20, TriageStatus::Open),
            finding("b", "low", HOUR_MS + 30, TriageStatus::Open),
        ];
        let chart = findings_chart(&findings, range);
        assert_eq!(chart.bars.len(), 24);
        assert_eq!(chart.bars[1].counts.iter().sum::<u64>(), 2);
        assert_eq!(
            findings_chart(&findings, TimeRange::new(0, 7 * DAY_MS))
                .bars
                .len(),
            7
        );
    }
}
