//! Where Sigma fields land in each table.

use vigil_sigma::logsource::{FieldRef, Kind, Source};

fn column(source: Source, field: &str) -> (String, Kind) {
    match source.resolve(field).unwrap() {
        FieldRef::Column { column, kind } => (column, kind),
        other => panic!("{field}: {other:?}"),
    }
}

#[test]
fn cloudtrail_names_typed_columns_and_json_paths() {
    assert_eq!(
        column(Source::CloudTrail, "eventName"),
        ("event_name".into(), Kind::Text)
    );
    assert_eq!(
        column(Source::CloudTrail, "readOnly"),
        ("read_only".into(), Kind::Boolean)
    );
    // Vigil's own names, from the table's schema.
    assert_eq!(
        column(Source::CloudTrail, "user_identity_mfa_authenticated"),
        ("user_identity_mfa_authenticated".into(), Kind::Boolean)
    );
    assert_eq!(column(Source::CloudTrail, "event_time").1, Kind::Other);
    assert_eq!(
        Source::CloudTrail
            .resolve("requestParameters.bucketName")
            .unwrap(),
        FieldRef::Json {
            column: "request_parameters",
            path: vec!["bucketName".into()]
        }
    );
    assert_eq!(
        Source::CloudTrail.resolve("eventTime").unwrap(),
        FieldRef::Json {
            column: "raw",
            path: vec!["eventTime".into()]
        }
    );
    assert!(Source::CloudTrail.resolve("CommandLine").is_err());
}

#[test]
fn api_gateway_and_lambda_use_context_names_and_columns() {
    assert_eq!(
        column(Source::ApiGateway, "status"),
        ("status".into(), Kind::Number)
    );
    assert_eq!(
        column(Source::ApiGateway, "ip"),
        ("src_ip".into(), Kind::Text)
    );
    assert_eq!(
        column(Source::ApiGateway, "resource_path").0,
        "resource_path"
    );
    assert_eq!(column(Source::Lambda, "functionName").0, "function_name");
    assert_eq!(
        column(Source::Lambda, "duration_ms"),
        ("duration_ms".into(), Kind::Number)
    );
    assert!(Source::ApiGateway.resolve("requestParameters.x").is_err());
}
