//! GeoIP look-ups against MaxMind's own Python reader (`maxminddb` from
//! PyPI) over a real database (`maxminddb-geolite2`'s GeoLite2 City) and the
//! samples' made-up City+ASN database: the same answers for thousands of
//! addresses, through the SQL functions rules and hunts call.

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use vigil_test_support::in_checkout;

const PYTHON_ENV: &str = "VIGIL_TEST_PYTHON";

/// The addresses asked: the samples' ranges, well-known resolvers, and a
/// spread of pseudo-random IPv4 and IPv6 addresses (a fixed LCG: the same
/// every run).
fn addresses() -> Vec<String> {
    let mut out: Vec<String> = [
        "203.0.113.66",
        "192.0.2.20",
        "198.51.100.10",
        "100.64.1.1",
        "8.8.8.8",
        "1.1.1.1",
        "81.2.69.142",
        "2001:4860:4860::8888",
        "10.0.0.1",
        "127.0.0.1",
        "::1",
        "not an address",
        "AWS Internal",
        "",
    ]
    .map(String::from)
    .to_vec();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state
    };
    for _ in 0..4000 {
        let n = (next() >> 32) as u32;
        out.push(std::net::Ipv4Addr::from(n).to_string());
    }
    for _ in 0..500 {
        // Global unicast 2000::/3.
        let n =
            ((next() as u128) << 64 | next() as u128) & !(0b111u128 << 125) | (0b001u128 << 125);
        out.push(std::net::Ipv6Addr::from(n).to_string());
    }
    out
}

const ORACLE: &str = r#"
import json, math, sys, maxminddb
paths, addresses = sys.argv[1:-1], json.load(open(sys.argv[-1]))
readers = [maxminddb.open_database(p) for p in paths]
def first(ip, *keys_list):
    for keys in keys_list:
        for r in readers:
            try:
                record = r.get(ip)
            except ValueError:
                continue
            for k in keys:
                record = record.get(k) if isinstance(record, dict) else None
            if record is not None:
                return record
    return None
out = []
for ip in addresses:
    out.append({
        "country": first(ip, ("country", "iso_code"), ("registered_country", "iso_code")),
        "city": first(ip, ("city", "names", "en")),
        "asn": first(ip, ("autonomous_system_number",)),
        "as_org": first(ip, ("autonomous_system_organization",)),
        "lat": first(ip, ("location", "latitude")),
        "lon": first(ip, ("location", "longitude")),
    })
json.dump(out, sys.stdout)
"#;

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    vigil_context::geo::distance_km(a, b)
}

#[tokio::test]
#[ignore = "needs maxminddb and maxminddb-geolite2 in a venv (VIGIL_TEST_PYTHON): run scripts/test.sh"]
async fn geo_functions_answer_as_maxminds_reader_does() {
    let python = std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| panic!("{PYTHON_ENV} is set by scripts/test.sh"));
    let located = Command::new(&python)
        .args([
            "-c",
            "from _maxminddb_geolite2 import geolite2_database; print(geolite2_database())",
        ])
        .output()
        .unwrap();
    assert!(
        located.status.success(),
        "{}",
        String::from_utf8_lossy(&located.stderr)
    );
    let geolite = String::from_utf8(located.stdout)
        .unwrap()
        .trim()
        .to_string();
    let sample = in_checkout("sample-context/geoip-sample.mmdb")
        .display()
        .to_string();
    let paths = [geolite.clone(), sample.clone()];

    let ips = addresses();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("ips.json");
    std::fs::write(&list, serde_json::to_string(&ips).unwrap()).unwrap();
    let oracle = Command::new(&python)
        .arg("-c")
        .arg(ORACLE)
        .args(&paths)
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        oracle.status.success(),
        "{}",
        String::from_utf8_lossy(&oracle.stderr)
    );
    let expected: Vec<Value> = serde_json::from_slice(&oracle.stdout).unwrap();

    let files = paths
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    vigil_context::install(Arc::new(vigil_context::Context {
        geo: vigil_context::GeoDatabases::open(files).unwrap(),
        ..Default::default()
    }));
    let ctx = SessionContext::new();
    vigil_queries::register_functions(&ctx);
    let schema = Arc::new(Schema::new(vec![Field::new("ip", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from(ips.clone()))],
    )
    .unwrap();
    ctx.register_table(
        "ips",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()),
    )
    .unwrap();
    let batches = ctx
        .sql(
            "SELECT geo_country(ip), geo_city(ip), geo_asn(ip), geo_as_org(ip), \
             geo_distance_km(ip, '203.0.113.66') FROM ips",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let attacker = expected[0]["lat"]
        .as_f64()
        .zip(expected[0]["lon"].as_f64())
        .unwrap();
    let mut row = 0;
    let (mut countries, mut cities, mut asns) = (0, 0, 0);
    for b in &batches {
        let text = |c: usize| b.column(c).as_string::<i32>().clone();
        let (country, city, as_org) = (text(0), text(1), text(3));
        let asn = b
            .column(2)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .clone();
        let distance = b
            .column(4)
            .as_primitive::<arrow::datatypes::Float64Type>()
            .clone();
        for i in 0..b.num_rows() {
            let want = &expected[row];
            let ip = &ips[row];
            let got = |a: &StringArray| (!a.is_null(i)).then(|| a.value(i).to_string());
            assert_eq!(
                got(&country),
                want["country"].as_str().map(String::from),
                "{ip} country"
            );
            assert_eq!(
                got(&city),
                want["city"].as_str().map(String::from),
                "{ip} city"
            );
            assert_eq!(
                got(&as_org),
                want["as_org"].as_str().map(String::from),
                "{ip} as_org"
            );
            assert_eq!(
                (!asn.is_null(i)).then(|| asn.value(i)),
                want["asn"].as_i64(),
                "{ip} asn"
            );
            let here = want["lat"].as_f64().zip(want["lon"].as_f64());
            match here {
                Some(p) => {
                    let d = distance.value(i);
                    assert!(
                        (d - haversine(p, attacker)).abs() < 1e-6,
                        "{ip} distance {d}"
                    );
                }
                None => assert!(distance.is_null(i), "{ip} has no location"),
            }
            countries += usize::from(want["country"].is_string());
            cities += usize::from(want["city"].is_string());
            asns += usize::from(want["asn"].is_number());
            row += 1;
        }
    }
    assert_eq!(row, ips.len());
    // The comparison covered real answers, not only nulls.
    assert!(
        countries > 2000 && cities > 500 && asns >= 4,
        "{countries} {cities} {asns}"
    );
    // Known addresses of the 2018 GeoLite2 City and the samples' database.
    assert_eq!(expected[4]["country"], "US", "8.8.8.8");
    assert_eq!(expected[0]["country"], "NL");
    assert_eq!(expected[0]["asn"], 64500);
    assert_eq!(
        expected[8]["country"],
        Value::Null,
        "a private address is nowhere"
    );
}
