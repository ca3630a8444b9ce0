//! A threat-intelligence feed (plain list, CSV, MISP export, STIX bundle):
//! every format reads it or refuses it with a reason, and the set built from
//! what it read accounts for every indicator (indexed or refused) and
//! answers a lookup of each.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_context::intel::formats::{parse, CsvColumns, IntelFormat, SetSpec};
use vigil_context::intel::{IndicatorKind, IntelSet, LookupKind};

const FORMATS: [Option<IntelFormat>; 5] = [
    None,
    Some(IntelFormat::Plain),
    Some(IntelFormat::Csv),
    Some(IntelFormat::Stix),
    Some(IntelFormat::Misp),
];

fuzz_target!(|data: &[u8]| {
    for format in FORMATS {
        let spec = SetSpec {
            source: "fuzz".into(),
            format,
            kind: None,
            columns: CsvColumns::default(),
            tags: Vec::new(),
            confidence: None,
        };
        let Ok(parsed) = parse("feed.csv", data, &spec) else {
            continue;
        };
        let read = parsed.indicators.len();
        let values: Vec<(IndicatorKind, String)> = parsed
            .indicators
            .iter()
            .map(|i| (i.kind, i.value.clone()))
            .collect();
        let (set, rejected) = IntelSet::build(parsed.indicators, String::new());
        // The regular expressions together may add one message of their own.
        assert!(
            set.len() + rejected.len() == read || set.len() + rejected.len() == read + 1,
            "{read} read, {} indexed, {} refused",
            set.len(),
            rejected.len()
        );
        for (kind, value) in &values {
            let Some(lookup) = LookupKind::parse(kind.as_str()) else {
                continue;
            };
            let found = set.lookup(lookup, value);
            if *kind == IndicatorKind::Ip && value.trim().parse::<std::net::IpAddr>().is_ok() {
                assert!(found.is_some(), "the address {value:?} it indexed is not found");
            }
        }
    }
});
