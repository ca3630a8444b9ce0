//! Reading indicator sets: plain lists, CSV with a column mapping, STIX 2.1 bundles and MISP CSV exports.

use serde::Deserialize;
use std::collections::BTreeMap;

use super::{Indicator, IndicatorKind};

/// How a set's file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntelFormat {
    /// One indicator a line; `#` starts a comment.
    Plain,
    /// A header row, then one indicator a row (see [`CsvColumns`]).
    Csv,
    /// A STIX 2.1 bundle (JSON): its `indicator` objects with simple patterns.
    Stix,
    /// A MISP CSV export (`uuid,event_id,category,type,value,...`).
    Misp,
}

impl IntelFormat {
    /// The format a file's name and first bytes suggest.
    pub fn guess(location: &str, bytes: &[u8]) -> IntelFormat {
        let head = String::from_utf8_lossy(bytes.get(..512).unwrap_or(bytes)).to_ascii_lowercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('{') {
            IntelFormat::Stix
        } else if head.starts_with("uuid,event_id,category,type,value") {
            IntelFormat::Misp
        } else if location.to_ascii_lowercase().ends_with(".csv") {
            IntelFormat::Csv
        } else {
            IntelFormat::Plain
        }
    }
}

/// Which CSV columns hold what (by header name). Only `indicator` is needed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvColumns {
    #[serde(default = "default_indicator_column")]
    pub indicator: String,
    #[serde(default = "default_kind_column")]
    pub kind: String,
    #[serde(default = "default_confidence_column")]
    pub confidence: String,
    #[serde(default = "default_first_seen_column")]
    pub first_seen: String,
    #[serde(default = "default_last_seen_column")]
    pub last_seen: String,
    #[serde(default = "default_tags_column")]
    pub tags: String,
}

fn default_indicator_column() -> String {
    "indicator".into()
}
fn default_kind_column() -> String {
    "kind".into()
}
fn default_confidence_column() -> String {
    "confidence".into()
}
fn default_first_seen_column() -> String {
    "first_seen".into()
}
fn default_last_seen_column() -> String {
    "last_seen".into()
}
fn default_tags_column() -> String {
    "tags".into()
}

impl Default for CsvColumns {
    fn default() -> Self {
        CsvColumns {
            indicator: default_indicator_column(),
            kind: default_kind_column(),
            confidence: default_confidence_column(),
            first_seen: default_first_seen_column(),
            last_seen: default_last_seen_column(),
            tags: default_tags_column(),
        }
    }
}

/// How to read one set.
#[derive(Debug, Clone)]
pub struct SetSpec {
    /// The name indicators carry as their source.
    pub source: String,
    pub format: Option<IntelFormat>,
    /// Every indicator's kind, when the file does not say (plain, CSV).
    pub kind: Option<IndicatorKind>,
    pub columns: CsvColumns,
    /// Tags added to every indicator of the set.
    pub tags: Vec<String>,
    /// The confidence of indicators that carry none.
    pub confidence: Option<u8>,
}

/// A set's indicators, and the entries left out with why (counted per reason).
#[derive(Debug, Default)]
pub struct Parsed {
    pub indicators: Vec<Indicator>,
    pub skipped: BTreeMap<String, usize>,
}

impl Parsed {
    fn skip(&mut self, reason: impl Into<String>) {
        let count = self.skipped.entry(reason.into()).or_default();
        *count = count.saturating_add(1);
    }

    fn push(&mut self, spec: &SetSpec, value: &str, kind: IndicatorKind, meta: Meta) {
        let mut tags = meta.tags;
        for tag in &spec.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        self.indicators.push(Indicator {
            value: value.trim().to_string(),
            kind,
            source: spec.source.clone(),
            confidence: meta.confidence.or(spec.confidence),
            first_seen: meta.first_seen,
            last_seen: meta.last_seen,
            tags,
        });
    }
}

#[derive(Debug, Default)]
struct Meta {
    confidence: Option<u8>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    tags: Vec<String>,
}

/// The indicators of one set's file.
pub fn parse(location: &str, bytes: &[u8], spec: &SetSpec) -> Result<Parsed, String> {
    match spec
        .format
        .unwrap_or_else(|| IntelFormat::guess(location, bytes))
    {
        IntelFormat::Plain => Ok(parse_plain(bytes, spec)),
        IntelFormat::Csv => parse_csv(bytes, spec),
        IntelFormat::Stix => parse_stix(bytes, spec),
        IntelFormat::Misp => parse_misp(bytes, spec),
    }
}

fn parse_plain(bytes: &[u8], spec: &SetSpec) -> Parsed {
    let mut parsed = Parsed::default();
    for line in String::from_utf8_lossy(bytes).lines() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A comment after the value, unless the value may hold `#` itself.
        let value = match spec.kind {
            Some(IndicatorKind::UserAgent | IndicatorKind::UserAgentRegex) => line,
            _ => line.split(" #").next().unwrap_or(line).trim(),
        };
        match spec.kind.or_else(|| IndicatorKind::guess(value)) {
            Some(kind) => parsed.push(spec, value, kind, Meta::default()),
            None => parsed.skip("a line that is no known kind of indicator (say the set's kind)"),
        }
    }
    parsed
}

fn split_tags(text: &str) -> Vec<String> {
    text.split([',', ';', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

fn parse_confidence(text: &str) -> Option<u8> {
    let n: f64 = text.trim().parse().ok()?;
    // 0-1 scores are read as fractions.
    let n = if n > 0.0 && n <= 1.0 && text.contains('.') {
        n * 100.0
    } else {
        n
    };
    (0.0..=100.0).contains(&n).then_some(n.round() as u8)
}

/// A time as sets write them: Unix seconds or ms, RFC 3339, `YYYY-MM-DD` or `YYYYMMDD`.
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let date = chrono::NaiveDate::parse_from_str(t, "%Y%m%d").ok()?;
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    if let Ok(n) = t.parse::<i64>() {
        // Seconds, unless the number is too large to be (then milliseconds).
        return Some(if n.unsigned_abs() >= 100_000_000_000 {
            n
        } else {
            n.saturating_mul(1000)
        });
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") {
        return Some(dt.and_utc().timestamp_millis());
    }
    let date = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes)
}

fn parse_csv(bytes: &[u8], spec: &SetSpec) -> Result<Parsed, String> {
    let mut reader = csv_reader(bytes);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let c = &spec.columns;
    let indicator = column(&c.indicator).ok_or_else(|| {
        format!(
            "no {:?} column (columns: {}); map it with columns = {{ indicator = \"...\" }}",
            c.indicator,
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    let (kind, confidence, first_seen, last_seen, tags) = (
        column(&c.kind),
        column(&c.confidence),
        column(&c.first_seen),
        column(&c.last_seen),
        column(&c.tags),
    );
    let mut parsed = Parsed::default();
    for row in reader.records() {
        let Ok(row) = row else {
            parsed.skip("a row that is not CSV");
            continue;
        };
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).filter(|v| !v.is_empty());
        let Some(value) = get(Some(indicator)) else {
            parsed.skip("a row without an indicator");
            continue;
        };
        let declared = match get(kind) {
            Some(name) => match IndicatorKind::parse(name) {
                Some(k) => Some(k),
                None => {
                    parsed.skip(format!("kind {name:?}"));
                    continue;
                }
            },
            None => spec.kind,
        };
        let Some(kind) = declared.or_else(|| IndicatorKind::guess(value)) else {
            parsed.skip("a value that is no known kind of indicator (add a kind column)");
            continue;
        };
        let meta = Meta {
            confidence: get(confidence).and_then(parse_confidence),
            first_seen: get(first_seen).and_then(parse_time),
            last_seen: get(last_seen).and_then(parse_time),
            tags: get(tags).map(split_tags).unwrap_or_default(),
        };
        parsed.push(spec, value, kind, meta);
    }
    Ok(parsed)
}

/// The kind a MISP attribute type maps to, and the part of its value that is the indicator.
fn misp_kind(kind: &str, value: &str) -> Option<(IndicatorKind, String)> {
    let first = || value.split('|').next().unwrap_or(value).to_string();
    let address = |v: String| {
        let kind = if v.contains('/') {
            IndicatorKind::Cidr
        } else {
            IndicatorKind::Ip
        };
        (kind, v)
    };
    Some(match kind {
        "ip-src" | "ip-dst" => address(value.to_string()),
        "ip-src|port" | "ip-dst|port" => address(first()),
        "domain" | "hostname" => (IndicatorKind::Domain, value.to_string()),
        "domain|ip" | "hostname|port" => (IndicatorKind::Domain, first()),
        "url" | "uri" | "link" => (IndicatorKind::Url, value.to_string()),
        "user-agent" => (IndicatorKind::UserAgent, value.to_string()),
        _ => return None,
    })
}

fn parse_misp(bytes: &[u8], spec: &SetSpec) -> Result<Parsed, String> {
    let mut reader = csv_reader(bytes);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(kind_at), Some(value_at)) = (column("type"), column("value")) else {
        return Err("a MISP CSV export needs its type and value columns".into());
    };
    let (to_ids, date, tags, category) = (
        column("to_ids"),
        column("date"),
        column("attribute_tag"),
        column("category"),
    );
    let mut parsed = Parsed::default();
    for row in reader.records() {
        let Ok(row) = row else {
            parsed.skip("a row that is not CSV");
            continue;
        };
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).filter(|v| !v.is_empty());
        let (Some(kind), Some(value)) = (get(Some(kind_at)), get(Some(value_at))) else {
            parsed.skip("a row without type or value");
            continue;
        };
        let Some((kind, value)) = misp_kind(kind, value) else {
            parsed.skip(format!("MISP type {kind:?}"));
            continue;
        };
        let mut meta = Meta {
            // MISP marks attributes fit for detection with to_ids.
            confidence: get(to_ids).map(|v| if v == "1" || v == "True" { 75 } else { 25 }),
            first_seen: get(date).and_then(parse_time),
            last_seen: None,
            tags: get(tags).map(split_tags).unwrap_or_default(),
        };
        if let Some(category) = get(category) {
            meta.tags.push(format!("misp-category:{category}"));
        }
        parsed.push(spec, &value, kind, meta);
    }
    Ok(parsed)
}

/// The comparisons of a STIX pattern made only of `path = 'value'` (or
/// `MATCHES`) joined by `OR`, in one or more observation expressions.
fn stix_comparisons(pattern: &str) -> Option<Vec<(String, String, String)>> {
    static COMPARISON: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    // A constant expression, compiled by every STIX test: it cannot fail on input.
    #[allow(clippy::expect_used)]
    let re = COMPARISON.get_or_init(|| {
        regex::Regex::new(r"([a-z0-9-]+:[A-Za-z0-9_.'\-]+)\s*(=|MATCHES)\s*'((?:[^'\\]|\\.)*)'")
            .expect("a valid expression")
    });
    let mut found = Vec::new();
    for c in re.captures_iter(pattern) {
        let value = c[3].replace("\\'", "'").replace("\\\\", "\\");
        found.push((c[1].to_string(), c[2].to_string(), value));
    }
    // What is left must be brackets, spaces and ORs: anything else (AND,
    // FOLLOWEDBY, qualifiers, other operators) is not a simple pattern.
    let rest = re.replace_all(pattern, " ");
    let simple = rest
        .split(|ch: char| ch == '[' || ch == ']' || ch.is_whitespace())
        .all(|word| word.is_empty() || word == "OR");
    (simple && !found.is_empty()).then_some(found)
}

fn stix_kind(path: &str, operator: &str, value: &str) -> Option<IndicatorKind> {
    let address = || {
        if value.contains('/') {
            IndicatorKind::Cidr
        } else {
            IndicatorKind::Ip
        }
    };
    Some(match (path, operator) {
        ("ipv4-addr:value" | "ipv6-addr:value", "=") => address(),
        ("domain-name:value", "=") => IndicatorKind::Domain,
        ("url:value", "=") => IndicatorKind::Url,
        (p, "=") if p.starts_with("user-account:") => match IndicatorKind::guess(value) {
            Some(k @ (IndicatorKind::AccessKey | IndicatorKind::Account)) => k,
            _ => IndicatorKind::Arn,
        },
        (p, op)
            if p.starts_with("network-traffic:extensions.'http-request-ext'.request_header.")
                && p.to_ascii_lowercase().ends_with("'user-agent'") =>
        {
            if op == "MATCHES" {
                IndicatorKind::UserAgentRegex
            } else {
                IndicatorKind::UserAgent
            }
        }
        _ => return None,
    })
}

fn parse_stix(bytes: &[u8], spec: &SetSpec) -> Result<Parsed, String> {
    let bundle: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let objects = match &bundle {
        serde_json::Value::Object(o)
            if o.get("type").and_then(|t| t.as_str()) == Some("bundle") =>
        {
            o.get("objects")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
        }
        serde_json::Value::Object(o)
            if o.get("type").and_then(|t| t.as_str()) == Some("indicator") =>
        {
            vec![bundle.clone()]
        }
        serde_json::Value::Array(objects) => objects.clone(),
        _ => return Err("not a STIX 2.1 bundle (no \"type\": \"bundle\")".into()),
    };
    let mut parsed = Parsed::default();
    for object in &objects {
        if object.get("type").and_then(|t| t.as_str()) != Some("indicator") {
            continue;
        }
        let text = |key: &str| object.get(key).and_then(|v| v.as_str());
        if object.get("revoked").and_then(|v| v.as_bool()) == Some(true) {
            parsed.skip("a revoked indicator");
            continue;
        }
        if text("pattern_type").is_some_and(|t| t != "stix") {
            parsed.skip(format!(
                "pattern type {:?}",
                text("pattern_type").unwrap_or("")
            ));
            continue;
        }
        let Some(comparisons) = text("pattern").and_then(stix_comparisons) else {
            parsed.skip("a pattern that is not a simple OR of equalities");
            continue;
        };
        let strings = |key: &str| -> Vec<String> {
            object
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut tags = strings("labels");
        tags.extend(strings("indicator_types"));
        for (path, operator, value) in comparisons {
            let Some(kind) = stix_kind(&path, &operator, &value) else {
                parsed.skip(format!("STIX object path {path} {operator}"));
                continue;
            };
            let meta = Meta {
                confidence: object
                    .get("confidence")
                    .and_then(|v| v.as_u64())
                    .and_then(|c| u8::try_from(c.min(100)).ok()),
                first_seen: text("valid_from").and_then(parse_time),
                last_seen: text("valid_until")
                    .or_else(|| text("modified"))
                    .and_then(parse_time),
                tags: tags.clone(),
            };
            parsed.push(spec, &value, kind, meta);
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(format: IntelFormat) -> SetSpec {
        SetSpec {
            source: "test".into(),
            format: Some(format),
            kind: None,
            columns: CsvColumns::default(),
            tags: vec!["feed".into()],
            confidence: None,
        }
    }

    fn values_and_kinds(p: &Parsed) -> Vec<(&str, IndicatorKind)> {
        p.indicators
            .iter()
            .map(|i| (i.value.as_str(), i.kind))
            .collect()
    }

    #[test]
    fn plain_lists_guess_kinds_and_skip_comments() {
        let text = "# bad hosts\n203.0.113.66\n198.51.100.0/24  # a hosting range\nevil.example\n\nsomething odd\n";
        let p = parse("x.txt", text.as_bytes(), &spec(IntelFormat::Plain)).unwrap();
        assert_eq!(
            values_and_kinds(&p),
            [
                ("203.0.113.66", IndicatorKind::Ip),
                ("198.51.100.0/24", IndicatorKind::Cidr),
                ("evil.example", IndicatorKind::Domain)
            ]
        );
        assert_eq!(p.skipped.values().sum::<usize>(), 1);
        assert_eq!(p.indicators[0].tags, ["feed"]);
    }

    #[test]
    fn csv_columns_are_mapped_by_name() {
        let text = "value,type,score,added,labels\n203.0.113.66,ip,80,2026-11-01,\"scanner,tor\"\nBadBot/1.0,user_agent,0.5,1793491200,\n,ip,1,,\nx,weird,1,,\n";
        let mut s = spec(IntelFormat::Csv);
        s.columns.indicator = "value".into();
        s.columns.kind = "type".into();
        s.columns.confidence = "score".into();
        s.columns.first_seen = "added".into();
        s.columns.tags = "labels".into();
        let p = parse("x.csv", text.as_bytes(), &s).unwrap();
        assert_eq!(p.indicators.len(), 2);
        let first = &p.indicators[0];
        assert_eq!(first.confidence, Some(80));
        assert_eq!(first.first_seen, Some(1_793_491_200_000));
        assert_eq!(first.tags, ["scanner", "tor", "feed"]);
        assert_eq!(p.indicators[1].kind, IndicatorKind::UserAgent);
        assert_eq!(p.indicators[1].confidence, Some(50));
        assert_eq!(p.indicators[1].first_seen, Some(1_793_491_200_000));
        assert_eq!(p.skipped.values().sum::<usize>(), 2, "{:?}", p.skipped);
        let missing = parse("x.csv", b"a,b\n1,2\n", &spec(IntelFormat::Csv)).unwrap_err();
        assert!(missing.contains("no \"indicator\" column"), "{missing}");
    }

    #[test]
    fn misp_exports_map_their_attribute_types() {
        let text = "uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,object_uuid,object_name,object_meta_category\n\
            5f1,12,Network activity,ip-dst,203.0.113.66,,1,1793491200,,\"tlp:white,apt\",,,\n\
            5f2,12,Network activity,ip-src|port,198.51.100.9|443,,0,1793491200,,,,,\n\
            5f3,12,Network activity,domain|ip,evil.example|203.0.113.1,,1,1793491200,,,,,\n\
            5f4,12,Payload delivery,md5,d41d8cd98f00b204e9800998ecf8427e,,1,1793491200,,,,,\n";
        let p = parse("feed.csv", text.as_bytes(), &spec(IntelFormat::Misp)).unwrap();
        assert_eq!(
            values_and_kinds(&p),
            [
                ("203.0.113.66", IndicatorKind::Ip),
                ("198.51.100.9", IndicatorKind::Ip),
                ("evil.example", IndicatorKind::Domain)
            ]
        );
        assert_eq!(p.indicators[0].confidence, Some(75));
        assert!(p.indicators[0].tags.contains(&"apt".to_string()));
        assert_eq!(p.skipped.get("MISP type \"md5\""), Some(&1));
        assert_eq!(
            IntelFormat::guess("feed.csv", text.as_bytes()),
            IntelFormat::Misp
        );
    }

    #[test]
    fn stix_bundles_give_their_simple_patterns() {
        let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[
          {"type":"identity","id":"identity--1","name":"x"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--1","pattern_type":"stix",
           "pattern":"[ipv4-addr:value = '203.0.113.66'] OR [ipv4-addr:value = '198.51.100.0/24']",
           "valid_from":"2026-11-01T00:00:00Z","confidence":85,"labels":["c2"],"indicator_types":["malicious-activity"]},
          {"type":"indicator","id":"indicator--2","pattern_type":"stix","pattern":"[domain-name:value = 'evil.example' OR url:value = 'http://evil.example/x']","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--3","pattern_type":"stix","pattern":"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' MATCHES '^sqlmap/']","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--4","pattern_type":"stix","pattern":"[user-account:user_id = 'AKIAEXAMPLEKEY000001']","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--5","pattern_type":"stix","pattern":"[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8']","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--6","pattern_type":"snort","pattern":"alert tcp any any","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--7","pattern_type":"stix","pattern":"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","id":"indicator--8","pattern_type":"stix","revoked":true,"pattern":"[ipv4-addr:value = '9.9.9.9']","valid_from":"2026-11-01T00:00:00Z"}
        ]}"#;
        let p = parse("b.json", bundle.as_bytes(), &spec(IntelFormat::Stix)).unwrap();
        assert_eq!(
            values_and_kinds(&p),
            [
                ("203.0.113.66", IndicatorKind::Ip),
                ("198.51.100.0/24", IndicatorKind::Cidr),
                ("evil.example", IndicatorKind::Domain),
                ("http://evil.example/x", IndicatorKind::Url),
                ("^sqlmap/", IndicatorKind::UserAgentRegex),
                ("AKIAEXAMPLEKEY000001", IndicatorKind::AccessKey),
            ]
        );
        assert_eq!(p.indicators[0].confidence, Some(85));
        assert_eq!(p.indicators[0].tags, ["c2", "malicious-activity", "feed"]);
        assert_eq!(p.skipped.values().sum::<usize>(), 4, "{:?}", p.skipped);
        assert!(parse("b.json", b"[1]", &spec(IntelFormat::Stix))
            .unwrap()
            .indicators
            .is_empty());
        assert!(parse("b.json", b"{\"type\":\"x\"}", &spec(IntelFormat::Stix)).is_err());
    }

    #[test]
    fn times_in_every_written_form() {
        let day = Some(1_793_491_200_000);
        for t in [
            "2026-11-01",
            "20261101",
            "1793491200",
            "1793491200000",
            "2026-11-01T00:00:00Z",
            "2026-11-01 00:00:00",
        ] {
            assert_eq!(parse_time(t), day, "{t}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }
}
