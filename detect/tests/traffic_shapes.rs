//! The API Gateway baseline rules over traffic too large to write out in a
//! rule file: a busy morning's steady rise stays quiet, a flood does not.

use vigil_detect::rule::RuleTest;
use vigil_detect::testing::{detect_in_memory, ingest_records};
use vigil_detect::{Finding, RuleSet};
use vigil_ingest::Family;

const HOUR_START_MS: i64 = 1_795_510_800_000;
const BUCKET_MS: i64 = 300_000;

/// `per_bucket[i]` requests to `GET /search` spread evenly over the i-th
/// five-minute bucket, from a rotating set of clients.
fn search_traffic(per_bucket: &[usize]) -> Vec<String> {
    let mut records = Vec::new();
    for (bucket, &count) in per_bucket.iter().enumerate() {
        for i in 0..count {
            let ms =
                HOUR_START_MS + bucket as i64 * BUCKET_MS + i as i64 * BUCKET_MS / count as i64;
            let n = records.len();
            records.push(format!(
                r#"{{"requestId":"rq-{n:06}","ip":"198.51.100.{}","requestTimeEpoch":{ms},"httpMethod":"GET","resourcePath":"/search","path":"/prod/search","status":"200","protocol":"HTTP/1.1","responseLength":"120","responseLatency":"40","userAgent":"okhttp/4.12.0","apiId":"a1b2c3d4e5","stage":"prod"}}"#,
                n % 200
            ));
        }
    }
    records
}

async fn route_spike_findings(per_bucket: &[usize]) -> Vec<Finding> {
    let builtin = RuleSet::builtin().expect("built-in rules load");
    let rule = builtin
        .rules
        .into_iter()
        .find(|r| r.id == "apigw_route_traffic_spike")
        .expect("the route spike rule exists");
    let test = RuleTest {
        name: "traffic shape".into(),
        format: Some(Family::ApiGateway),
        records: search_traffic(per_bucket),
        expect_count: 0,
        expect: Vec::new(),
        intel: Vec::new(),
        geoip: false,
    };
    let tables = ingest_records(&test).expect("records parse");
    detect_in_memory(RuleSet { rules: vec![rule] }, &tables)
        .await
        .expect("the rule runs")
}

/// A day's busiest rise, steeper than most: +4 % every five minutes.
#[tokio::test]
async fn a_steady_morning_rise_stays_quiet() {
    let rising: Vec<usize> = (0..16)
        .map(|b| (200.0 * 1.04f64.powi(b)) as usize)
        .collect();
    let findings = route_spike_findings(&rising).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

/// An hour of perfectly even traffic (a standard deviation of zero), then half
/// as much again: many standard deviations, and still no flood.
#[tokio::test]
async fn a_step_of_half_again_over_even_traffic_stays_quiet() {
    let mut traffic = vec![300; 12];
    traffic.push(450);
    let findings = route_spike_findings(&traffic).await;
    assert!(findings.is_empty(), "{findings:#?}");
}

/// The same even hour, then a flood two and a half times the route's rate.
#[tokio::test]
async fn a_flood_over_even_traffic_fires() {
    let mut traffic = vec![300; 12];
    traffic.push(750);
    let findings = route_spike_findings(&traffic).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].event_count, 750);
}
