//! The log formats AWS documents: API Gateway access-log templates rendered
//! with values, and the Lambda developer guide's platform log examples.

mod common;
use common::*;
use vigil_ingest::Table;

fn blocks(file: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(corpus(format!("awsdocs-format-examples/{file}")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Fills a `$context` template the way API Gateway would.
fn render(template: &str) -> String {
    let values = [
        ("$context.identity.sourceIp", "198.51.100.7"),
        ("$context.identity.caller", "-"),
        ("$context.identity.user", "-"),
        ("$context.requestTime", "24/Nov/2026:09:10:11 +0000"),
        ("$context.httpMethod", "POST"),
        ("$context.routeKey", "POST /login"),
        ("$context.resourcePath", "/login"),
        ("$context.protocol", "HTTP/1.1"),
        ("$context.status", "401"),
        ("$context.responseLength", "42"),
        ("$context.requestId", "c0ffee00-0000-4000-8000-000000000001"),
        ("$context.extendedRequestId", "Ab12Cd34Ef56Gh78="),
    ];
    let mut out = template
        .replace(" \\\n", " ")
        .replace("\\\n", "")
        .trim()
        .to_string();
    // Longest names first, so `$context.requestId` does not eat `$context.requestIdX`.
    let mut values = values.to_vec();
    values.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (k, v) in values {
        out = out.replace(k, v);
    }
    out
}

#[test]
fn api_gateway_json_and_clf_templates_from_the_docs_parse() {
    let mut parsed = 0;
    for block in blocks("amazon-api-gateway-developer-guide.code_blocks.ndjson") {
        let template = block["text"].as_str().unwrap();
        let trimmed = template.trim_start();
        // XML and CSV templates are not supported formats (see the closing note).
        if trimmed.starts_with('<') || !trimmed.contains(' ') || trimmed.contains(",$context") {
            continue;
        }
        let line = render(template).replace('\n', " ");
        let (report, batches) = ingest_bytes(line.as_bytes());
        assert_eq!(report.parsed.get(&Table::ApiGateway), Some(&1), "{line}");
        assert_eq!(
            non_null(&batches, Table::ApiGateway, "src_ip"),
            vec!["198.51.100.7"]
        );
        assert_eq!(i64s(&batches, Table::ApiGateway, "status"), vec![Some(401)]);
        assert_eq!(
            non_null(&batches, Table::ApiGateway, "http_method"),
            vec!["POST"]
        );
        assert_eq!(
            non_null(&batches, Table::ApiGateway, "event_id"),
            vec!["c0ffee00-0000-4000-8000-000000000001"]
        );
        assert_eq!(
            non_null(&batches, Table::ApiGateway, "outcome"),
            vec!["failure"]
        );
        assert_eq!(
            i64s(&batches, Table::ApiGateway, "event_time"),
            vec![Some(1_795_511_411_000)]
        );
        let action = non_null(&batches, Table::ApiGateway, "action");
        assert_eq!(action, vec!["POST /login"]);
        parsed += 1;
    }
    assert_eq!(parsed, 4, "two JSON and two CLF templates");
}

#[test]
fn lambda_guide_platform_examples_parse() {
    let mut platform = 0;
    let mut reports = 0;
    for block in blocks("aws-lambda-developer-guide.code_blocks.ndjson") {
        let text = block["text"].as_str().unwrap().trim();
        if block["heading"] == "Example platform log messages" {
            let (report, batches) = ingest_bytes(text.as_bytes());
            // One example has a trailing comma: genuinely invalid JSON.
            let valid = serde_json::Deserializer::from_str(text)
                .into_iter::<serde_json::Value>()
                .all(|v| v.is_ok());
            assert_eq!(report.dead_lettered_total() == 0, valid, "{text}");
            assert!(non_null(&batches, Table::Lambda, "record_type")
                .iter()
                .all(|t| t.starts_with("platform.")));
            platform += report.parsed_total();
        } else if text.starts_with("REPORT RequestId:") && !text.contains('\n') {
            let (report, batches) = ingest_bytes(text.as_bytes());
            assert_eq!(report.parsed.get(&Table::Lambda), Some(&1), "{text}");
            assert!(
                f64s(&batches, Table::Lambda, "duration_ms")[0].is_some(),
                "{text}"
            );
            assert!(
                i64s(&batches, Table::Lambda, "max_memory_used_mb")[0].is_some(),
                "{text}"
            );
            reports += 1;
        }
    }
    assert!(platform >= 4, "{platform}");
    assert_eq!(reports, 2);
}
