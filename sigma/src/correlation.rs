//! Sigma correlation rules: events of other rules counted, measured or put
//! in sequence per group over a timespan, as one SQL query.
//!
//! The window is anchored at each matching event, as pySigma's backends
//! evaluate it: the events of the same group in `[t - timespan, t]`, for
//! every event time `t`, so no burst is missed for straddling a boundary.
//! Group values compare case-insensitively (lower-cased text).

use yaml_rust2::Yaml;

use crate::error::Problem;
use crate::logsource::Source;
use crate::sql::{quote, text_of};

/// What a correlation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EventCount,
    ValueCount,
    ValueSum,
    ValueAvg,
    Temporal,
    /// `temporal`, the rules' events in the order listed.
    TemporalOrdered,
    /// The field's value at a percentile (`value_median`: the 50th),
    /// interpolated between the two nearest values as pySigma does.
    ValuePercentile,
}

impl Kind {
    fn parse(text: &str) -> Result<Kind, Problem> {
        Ok(match text {
            "event_count" => Kind::EventCount,
            "value_count" => Kind::ValueCount,
            "value_sum" => Kind::ValueSum,
            "value_avg" => Kind::ValueAvg,
            "temporal" => Kind::Temporal,
            "temporal_ordered" => Kind::TemporalOrdered,
            "value_percentile" | "value_median" => Kind::ValuePercentile,
            other => return Err(format!("unknown correlation type {other:?}")),
        })
    }

    fn needs_field(self) -> bool {
        matches!(
            self,
            Kind::ValueCount | Kind::ValueSum | Kind::ValueAvg | Kind::ValuePercentile
        )
    }
}

/// A correlation rule, read and checked.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub kind: Kind,
    /// The rules it reads, by name or id.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_seconds: u64,
    /// `(operator, threshold)`, all of which must hold.
    pub condition: Vec<(&'static str, f64)>,
    /// The field `value_*` types measure.
    pub field: Option<String>,
    /// alias → (rule name → field).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// Whether the rules it reads also report on their own.
    pub generate: bool,
    /// The percentile `value_percentile` measures (50 for `value_median`).
    pub percentile: Option<f64>,
}

/// One rule a correlation reads: its name, its table and what it yields.
pub struct Referenced<'a> {
    pub name: &'a str,
    pub source: Source,
    pub reads: Reads<'a>,
}

/// What a correlation reads of a rule.
pub enum Reads<'a> {
    /// A detection rule's matching records: its predicate over the table.
    Records { predicate: &'a str },
    /// Another correlation's firings (a chain), each an event at its
    /// window's end carrying the group-by values: its query (see
    /// [`Correlation::sql`]) and group-by fields.
    Firings {
        sql: &'a str,
        group_by: &'a [String],
    },
}

/// Reads the `correlation` map.
pub fn parse(doc: &Yaml) -> Result<Correlation, Problem> {
    let c = &doc["correlation"];
    if !matches!(c, Yaml::Hash(_)) {
        return Err("`correlation` must be a map".into());
    }
    let kind = Kind::parse(c["type"].as_str().ok_or("the correlation has no `type`")?)?;
    let list = |y: &Yaml, what: &str| -> Result<Vec<String>, Problem> {
        match y {
            Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
            Yaml::String(s) => Ok(vec![s.clone()]),
            Yaml::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or(format!("`{what}` must list names"))
                })
                .collect(),
            _ => Err(format!("`{what}` must be a list")),
        }
    };
    let rules = list(&c["rules"], "rules")?;
    if rules.is_empty() {
        return Err("the correlation names no `rules`".into());
    }
    let group_by = list(&c["group-by"], "group-by")?;
    let timespan_seconds = timespan(
        c["timespan"]
            .as_str()
            .ok_or("the correlation has no `timespan`")?,
    )?;
    let mut condition = Vec::new();
    let mut field = None;
    let mut percentile = None;
    match &c["condition"] {
        Yaml::Hash(map) => {
            for (k, v) in map {
                let key = k.as_str().unwrap_or_default();
                if key == "percentile" {
                    percentile = Some(match v {
                        Yaml::Integer(i) => *i as f64,
                        Yaml::Real(r) => r
                            .parse()
                            .map_err(|_| format!("percentile {r} is not a number"))?,
                        _ => return Err("`condition.percentile` must be a number".into()),
                    });
                    continue;
                }
                if key == "field" {
                    field = Some(
                        v.as_str()
                            .ok_or("`condition.field` must be a field name")?
                            .to_string(),
                    );
                    continue;
                }
                let op = match key {
                    "gt" => ">",
                    "gte" => ">=",
                    "lt" => "<",
                    "lte" => "<=",
                    "eq" => "=",
                    "neq" => "<>",
                    other => return Err(format!("unknown condition operator {other:?}")),
                };
                let n = match v {
                    Yaml::Integer(i) => *i as f64,
                    Yaml::Real(r) => r
                        .parse()
                        .map_err(|_| format!("{key}: {r} is not a number"))?,
                    _ => return Err(format!("condition {key} needs a number")),
                };
                condition.push((op, n));
            }
        }
        Yaml::BadValue | Yaml::Null if matches!(kind, Kind::Temporal | Kind::TemporalOrdered) => {
            condition.push((">=", rules.len() as f64));
        }
        _ => return Err("the correlation has no `condition` map".into()),
    }
    if condition.is_empty() {
        return Err("the correlation's condition has no operator".into());
    }
    if kind == Kind::TemporalOrdered {
        ordered_length(&condition, rules.len())?;
    }
    if c["type"].as_str() == Some("value_median") {
        percentile = Some(50.0);
    }
    if kind == Kind::ValuePercentile && !percentile.is_some_and(|p| (0.0..=100.0).contains(&p)) {
        return Err("value_percentile needs `condition.percentile` between 0 and 100".into());
    }
    if kind.needs_field() && field.is_none() {
        return Err("this correlation type needs `condition.field`".into());
    }
    let mut aliases = Vec::new();
    if let Yaml::Hash(map) = &c["aliases"] {
        for (alias, per_rule) in map {
            let alias = alias.as_str().ok_or("an alias must be a name")?.to_string();
            let Yaml::Hash(per_rule) = per_rule else {
                return Err(format!("alias {alias:?} must map rule names to fields"));
            };
            let mut fields = Vec::new();
            for (rule, f) in per_rule {
                fields.push((
                    rule.as_str()
                        .ok_or("an alias's rule must be a name")?
                        .to_string(),
                    f.as_str()
                        .ok_or("an alias's field must be a name")?
                        .to_string(),
                ));
            }
            aliases.push((alias, fields));
        }
    }
    Ok(Correlation {
        kind,
        rules,
        group_by,
        timespan_seconds,
        condition,
        field,
        aliases,
        generate: c["generate"].as_bool().unwrap_or(false),
        percentile,
    })
}

/// Reads a legacy aggregation, `selection | count() [by field] > N`, as
/// the condition before the pipe and an event_count correlation over the
/// rule's `timeframe` (required). `None` for a condition without a pipe.
pub fn legacy_count(
    condition: &str,
    timeframe: Option<&str>,
) -> Result<Option<(String, Correlation)>, Problem> {
    let Some((base, aggregation)) = condition.split_once('|') else {
        return Ok(None);
    };
    let words: Vec<&str> = aggregation.split_whitespace().collect();
    let unsupported = || {
        format!("the aggregation {:?} is not supported (only `count() [by field] <op> N`; write a correlation rule)", aggregation.trim())
    };
    let (by, rest) = match words.as_slice() {
        ["count()", "by", field, rest @ ..] => (Some(field.to_string()), rest),
        ["count()", rest @ ..] => (None, rest),
        _ => return Err(unsupported()),
    };
    let (op, n) = match rest {
        [op, n] => {
            let op = match *op {
                ">" => ">",
                ">=" => ">=",
                "<" => "<",
                "<=" => "<=",
                "=" | "==" => "=",
                _ => return Err(unsupported()),
            };
            (op, n.parse::<f64>().map_err(|_| unsupported())?)
        }
        _ => return Err(unsupported()),
    };
    let timeframe = timeframe.ok_or("a `| count()` condition needs a `timeframe`")?;
    Ok(Some((
        base.trim().to_string(),
        Correlation {
            kind: Kind::EventCount,
            rules: vec!["selection".into()],
            group_by: by.into_iter().collect(),
            timespan_seconds: timespan(timeframe)?,
            condition: vec![(op, n)],
            field: None,
            aliases: Vec::new(),
            generate: false,
            percentile: None,
        },
    )))
}

/// How many of its rules, in their order, a temporal_ordered correlation
/// asks for: the least count its condition allows (gte, gt or eq).
fn ordered_length(condition: &[(&'static str, f64)], rules: usize) -> Result<usize, Problem> {
    let least = condition
        .iter()
        .filter_map(|(op, n)| match *op {
            ">=" | "=" => Some(n.ceil()),
            ">" => Some(n.floor() + 1.0),
            _ => None,
        })
        .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))))
        .ok_or("temporal_ordered needs a condition with a least count (gte, gt or eq)")?;
    if least < 1.0 || least > rules as f64 {
        return Err(format!(
            "temporal_ordered asks for {least} of its {rules} rules in order: between 1 and {rules}"
        ));
    }
    Ok(least as usize)
}

/// Every choice of `k` of `n` indexes, each in increasing order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let Some(before_last) = k.checked_sub(1) else {
        return vec![Vec::new()];
    };
    (before_last..n)
        .flat_map(|last| {
            combinations(last, before_last)
                .into_iter()
                .map(move |mut c| {
                    c.push(last);
                    c
                })
        })
        .collect()
}

/// Subsequences a temporal_ordered correlation tries, at most: each is a
/// chain of joins in its query.
const MOST_ORDERED_SUBSETS: usize = 64;

/// The longest timespan a correlation may have: a year. Longer ones are
/// surely typos, and each window's query reads that much history.
const MOST_TIMESPAN_SECONDS: u64 = 366 * 86_400;

/// `30s`, `5m`, `1h`, `2d` in seconds.
fn timespan(text: &str) -> Result<u64, Problem> {
    let t = text.trim();
    let unit_seconds: u64 = match t.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(format!("timespan {text:?} has no unit (s, m, h, d)")),
    };
    let n: u64 = t
        .get(..t.len().saturating_sub(1))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("timespan {text:?} is not a number and a unit (s, m, h, d)"))?;
    let seconds = n
        .checked_mul(unit_seconds)
        .filter(|&s| s <= MOST_TIMESPAN_SECONDS)
        .ok_or_else(|| format!("timespan {text:?} is longer than a year (366d)"))?;
    if seconds == 0 {
        return Err("the timespan must be positive".into());
    }
    Ok(seconds)
}

/// A Sigma field name as a quoted SQL column name.
pub fn column_name(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

impl Correlation {
    /// The field a rule's events carry for `name` (a group-by field or the
    /// measured field): the alias's field for that rule, else `name`.
    fn field_for<'a>(&'a self, name: &'a str, rule: &str) -> &'a str {
        self.aliases
            .iter()
            .find(|(alias, _)| alias == name)
            .and_then(|(_, per_rule)| {
                per_rule
                    .iter()
                    .find(|(r, _)| r == rule)
                    .map(|(_, f)| f.as_str())
            })
            .unwrap_or(name)
    }

    /// The matching events of every rule read, with their group and value
    /// (and, in a chain, the ids of the records behind each event).
    fn events(&self, rules: &[Referenced], chained: bool) -> Result<String, Problem> {
        let mut parts = Vec::new();
        for r in rules {
            // The event's time and id lead its columns; a firing replaces both.
            let mut time_and_id = ["event_time".to_string(), "event_id".to_string()];
            let mut columns = Vec::new();
            let mut present = Vec::new();
            // The field a rule's events carry for a group-by field or the
            // measured one, as SQL text.
            let field_text = |name: &str, what: &str| -> Result<String, Problem> {
                let field = self.field_for(name, r.name);
                match &r.reads {
                    Reads::Records { .. } => r
                        .source
                        .resolve(field)
                        .map(|f| text_of(&f))
                        .map_err(|e| format!("{what} {name:?} in rule {:?}: {e}", r.name)),
                    Reads::Firings { group_by, .. } => {
                        if group_by.iter().any(|g| g == field) {
                            Ok(column_name(field))
                        } else {
                            Err(format!(
                                "{what} {name:?}: rule {:?} is a correlation, whose firings carry only its group-by fields ({})",
                                r.name,
                                group_by.join(", ")
                            ))
                        }
                    }
                }
            };
            for g in &self.group_by {
                let text = format!("lower({})", field_text(g, "group-by")?);
                present.push(format!("{text} IS NOT NULL"));
                columns.push(format!("{text} AS {}", column_name(g)));
            }
            match &self.field {
                Some(name) => {
                    columns.push(format!("{} AS sigma_value", field_text(name, "field")?))
                }
                None => columns.push("CAST(NULL AS VARCHAR) AS sigma_value".into()),
            }
            columns.push(format!("{} AS sigma_rule", quote(r.name)));
            let (from, mut filter) = match &r.reads {
                Reads::Records { predicate } => {
                    if chained {
                        columns.push("make_array(event_id) AS sigma_samples".into());
                    }
                    (r.source.table().to_string(), format!("({predicate})"))
                }
                Reads::Firings { sql, group_by } => {
                    // A firing is an event at its window's end, named by its
                    // group and that time.
                    let mut id_parts = vec!["'c'".to_string()];
                    id_parts.extend(group_by.iter().map(|g| column_name(g)));
                    id_parts.push("CAST(window_end AS VARCHAR)".into());
                    time_and_id = [
                        "window_end AS event_time".into(),
                        format!("concat_ws('|', {}) AS event_id", id_parts.join(", ")),
                    ];
                    columns.push("sample_ids AS sigma_samples".into());
                    (format!("({sql}) sigma_firings"), "TRUE".to_string())
                }
            };
            // An event without a group value belongs to no group.
            for p in present {
                filter.push_str(&format!(" AND {p}"));
            }
            parts.push(format!(
                "SELECT {}, {} FROM {from} WHERE {filter}",
                time_and_id.join(", "),
                columns.join(", "),
            ));
        }
        Ok(parts.join(" UNION ALL "))
    }

    fn metric(&self) -> String {
        if self.kind == Kind::ValuePercentile {
            // The sorted values, the fractional rank (n - 1) * p, and the
            // two values around it weighted by their distance.
            let p = self.percentile.unwrap_or(50.0) / 100.0;
            let sorted = "array_agg(TRY_CAST(e.sigma_value AS DOUBLE) ORDER BY TRY_CAST(e.sigma_value AS DOUBLE)) \
                          FILTER (WHERE TRY_CAST(e.sigma_value AS DOUBLE) IS NOT NULL)";
            let rank = format!("((cardinality({sorted}) - 1) * {p})");
            let low = format!("CAST(floor({rank}) AS BIGINT)");
            let fraction = format!("({rank} - floor({rank}))");
            return format!(
                "(array_element({sorted}, {low} + 1) * (1 - {fraction}) + \
                 coalesce(array_element({sorted}, {low} + 2), 0) * {fraction})"
            );
        }
        match self.kind {
            Kind::EventCount => "count(DISTINCT e.event_id)",
            Kind::ValueCount => "count(DISTINCT lower(e.sigma_value))",
            Kind::ValueSum => "sum(TRY_CAST(e.sigma_value AS DOUBLE))",
            Kind::ValueAvg => "avg(TRY_CAST(e.sigma_value AS DOUBLE))",
            Kind::Temporal | Kind::TemporalOrdered => "count(DISTINCT e.sigma_rule)",
            Kind::ValuePercentile => unreachable!("handled above"),
        }
        .to_string()
    }

    /// The query: one row per group and window that fires, with the group-by
    /// fields (named as in the rule), `window_start`, `window_end`, `metric`,
    /// `event_count`, `first_seen`, `last_seen` and `sample_ids`.
    /// `anchors_from` limits the windows to those ending at or after it (a
    /// scheduled run's window start), the history before it still counted.
    /// `prefix` names the query's tables, distinct for each correlation of
    /// a chain (SQL refuses a nested table name used twice).
    pub fn sql(
        &self,
        rules: &[Referenced],
        anchors_from: Option<&str>,
        prefix: &str,
    ) -> Result<String, Problem> {
        let chained = rules
            .iter()
            .any(|r| matches!(r.reads, Reads::Firings { .. }));
        let events = self.events(rules, chained)?;
        let groups: Vec<String> = self.group_by.iter().map(|g| column_name(g)).collect();
        let a_groups: Vec<String> = groups.iter().map(|g| format!("a.{g}")).collect();
        let mut anchor_filter = String::new();
        if let Some(from) = anchors_from {
            anchor_filter = format!(" WHERE event_time >= {from}");
        }
        let mut join = format!(
            "e.event_time >= a.window_end - INTERVAL '{s} seconds' AND e.event_time <= a.window_end",
            s = self.timespan_seconds
        );
        for g in &groups {
            join.push_str(&format!(" AND e.{g} = a.{g}"));
        }
        let select_groups = if a_groups.is_empty() {
            String::new()
        } else {
            format!("{}, ", a_groups.join(", "))
        };
        let anchor_groups = if groups.is_empty() {
            String::new()
        } else {
            format!(", {}", groups.join(", "))
        };
        let p = prefix;
        // temporal_ordered: a window counts when it holds the first rule's
        // event, then the second's strictly later, and so on (the earliest
        // of each after the one before, as pySigma chooses them). When the
        // condition asks for k of the rules, any k of them in their order.
        let mut sequence = String::new();
        let mut anchors = format!("{p}_anchors");
        if self.kind == Kind::TemporalOrdered {
            let k = ordered_length(&self.condition, rules.len())?;
            let subsets = combinations(rules.len(), k);
            if subsets.len() > MOST_ORDERED_SUBSETS {
                return Err(format!(
                    "temporal_ordered asking for {k} of {} rules tries {} orders, more than {MOST_ORDERED_SUBSETS}",
                    rules.len(),
                    subsets.len()
                ));
            }
            let mut ordered = Vec::new();
            for (s, subset) in subsets.iter().enumerate() {
                let mut carried: Vec<String> = Vec::new();
                let mut from = format!("{p}_anchors");
                for (j, rule) in subset.iter().filter_map(|&i| rules.get(i)).enumerate() {
                    let after = match j.checked_sub(1) {
                        None => String::new(),
                        Some(previous) => format!(" AND e.event_time > a.sigma_q{previous}"),
                    };
                    let keep: String = carried.iter().map(|q| format!(", a.{q}")).collect();
                    sequence.push_str(&format!(
                        ", {p}_s{s}_seq{j} AS (SELECT {select_groups}a.window_end{keep}, \
                         min(e.event_time) FILTER (WHERE e.sigma_rule = {name}{after}) AS sigma_q{j} \
                         FROM {from} a JOIN {p}_events e ON {join} GROUP BY {select_groups}a.window_end{keep})",
                        name = quote(rule.name),
                    ));
                    carried.push(format!("sigma_q{j}"));
                    from = format!("{p}_s{s}_seq{j}");
                }
                ordered.push(format!(
                    "SELECT window_end{anchor_groups} FROM {from} WHERE sigma_q{} IS NOT NULL",
                    k.saturating_sub(1)
                ));
            }
            sequence.push_str(&format!(", {p}_ordered AS ({})", ordered.join(" UNION ")));
            anchors = format!("{p}_ordered");
        }
        let condition: Vec<String> = self
            .condition
            .iter()
            .map(|(op, n)| format!("metric {op} {n}"))
            .collect();
        let output_groups = if groups.is_empty() {
            String::new()
        } else {
            format!("{}, ", groups.join(", "))
        };
        let body = format!(
            "WITH {p}_events AS ({events}), \
             {p}_anchors AS (SELECT DISTINCT event_time AS window_end{anchor_groups} FROM {p}_events{anchor_filter}){sequence}, \
             {p}_measured AS (SELECT {select_groups}a.window_end, {metric} AS metric, count(DISTINCT e.event_id) AS event_count, \
             min(e.event_time) AS first_seen, max(e.event_time) AS last_seen, \
             {samples} AS sample_ids \
             FROM {anchors} a JOIN {p}_events e ON {join} GROUP BY {select_groups}a.window_end) \
             SELECT {output_groups}window_end - INTERVAL '{s} seconds' AS window_start, window_end, metric, event_count, first_seen, last_seen, sample_ids \
             FROM {p}_measured WHERE {cond}",
            metric = self.metric(),
            samples = if chained {
                "array_distinct(flatten(array_agg(e.sigma_samples)))"
            } else {
                "array_agg(DISTINCT e.event_id)"
            },
            s = self.timespan_seconds,
            cond = condition.join(" AND "),
        );
        if anchors_from.is_none() {
            return Ok(body);
        }
        // A scheduled run reports each group once: its window with the
        // largest measure (the earliest among equals).
        let partition = if groups.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {} ", groups.join(", "))
        };
        Ok(format!(
            "SELECT * EXCLUDE (sigma_rank) FROM (SELECT *, row_number() OVER ({partition}ORDER BY metric DESC, window_end) AS sigma_rank FROM ({body})) WHERE sigma_rank = 1"
        ))
    }
}
