//! Log families and lake tables, and how a record's family is recognised.

use memchr::memmem;
use std::fmt;
use std::str::FromStr;

/// A family of logs, each with its own parser and table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    CloudTrail,
    ApiGateway,
    Lambda,
    Waf,
}

impl Family {
    pub const ALL: [Family; 4] = [
        Family::CloudTrail,
        Family::ApiGateway,
        Family::Lambda,
        Family::Waf,
    ];

    pub fn table(self) -> Table {
        match self {
            Family::CloudTrail => Table::CloudTrail,
            Family::ApiGateway => Table::ApiGateway,
            Family::Lambda => Table::Lambda,
            Family::Waf => Table::Waf,
        }
    }

    pub fn name(self) -> &'static str {
        self.table().name()
    }

    /// The family a CloudWatch Logs group holds, when its name says so.
    pub fn from_log_group(group: &str) -> Option<Family> {
        if group.starts_with("/aws/lambda/") {
            return Some(Family::Lambda);
        }
        // WAF only logs to groups named so.
        if group.starts_with("aws-waf-logs-") {
            return Some(Family::Waf);
        }
        let lower = group.to_ascii_lowercase();
        if lower.contains("cloudtrail") {
            Some(Family::CloudTrail)
        } else if lower.contains("apigateway")
            || lower.contains("api-gateway")
            || lower.contains("api_gateway")
            || lower.contains("access-log")
            || lower.contains("accesslog")
        {
            // API-Gateway-Execution-Logs_* hold execution traces, not access logs.
            (!lower.starts_with("api-gateway-execution-logs")).then_some(Family::ApiGateway)
        } else {
            None
        }
    }

    /// The family an object's key or a file's path says it holds: WAF
    /// writes to S3 under `AWSLogs/<account>/WAFLogs/`, and a Firehose
    /// stream's objects carry the stream's name, which for WAF must start
    /// with `aws-waf-logs-`. Other families are recognised by their records.
    pub fn from_object_key(key: &str) -> Option<Family> {
        (key.contains("/WAFLogs/") || key.contains("aws-waf-logs-")).then_some(Family::Waf)
    }

    /// Recognises a record by its shape. Cheap: a few substring searches.
    pub fn sniff(record: &[u8]) -> Option<Family> {
        let trimmed = trim_ascii_start(record);
        if trimmed.first() == Some(&b'{') {
            // First: a WAF record logs the client's header names, which an
            // attacker chooses (a header named `eventVersion`).
            if [
                &b"\"webaclId\""[..],
                b"\"terminatingRuleId\"",
                b"\"httpRequest\"",
            ]
            .iter()
            .all(|k| memmem::find(record, k).is_some())
            {
                return Some(Family::Waf);
            }
            if memmem::find(record, b"\"eventVersion\"").is_some()
                || (memmem::find(record, b"\"eventSource\"").is_some()
                    && memmem::find(record, b"\"eventName\"").is_some())
            {
                return Some(Family::CloudTrail);
            }
            if memmem::find(record, b"\"platform.").is_some()
                || memmem::find(record, b"\"extension\"").is_some()
                    && memmem::find(record, b"\"record\"").is_some()
            {
                return Some(Family::Lambda);
            }
            if [
                &b"\"httpMethod\""[..],
                b"\"routeKey\"",
                b"\"resourcePath\"",
                b"\"http_method\"",
                b"\"integrationLatency\"",
                b"\"responseLatency\"",
            ]
            .iter()
            .any(|k| memmem::find(record, k).is_some())
            {
                return Some(Family::ApiGateway);
            }
            if (memmem::find(record, b"\"level\"").is_some()
                || memmem::find(record, b"\"requestId\"").is_some())
                && memmem::find(record, b"\"message\"").is_some()
            {
                return Some(Family::Lambda);
            }
            return None;
        }
        if crate::parse::lambda::looks_like_text(trimmed) {
            return Some(Family::Lambda);
        }
        if crate::parse::apigateway::looks_like_clf(trimmed) {
            return Some(Family::ApiGateway);
        }
        None
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloudtrail" => Ok(Family::CloudTrail),
            "apigateway" | "api-gateway" | "apigw" => Ok(Family::ApiGateway),
            "lambda" => Ok(Family::Lambda),
            "waf" | "wafv2" => Ok(Family::Waf),
            other => Err(format!(
                "unknown format {other:?}: expected cloudtrail, apigateway, lambda or waf"
            )),
        }
    }
}

/// A table of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    CloudTrail,
    ApiGateway,
    Lambda,
    Waf,
    Findings,
    DeadLetter,
}

impl Table {
    /// The tables of the log families, which start with the common columns.
    pub const LOGS: [Table; 4] = [
        Table::CloudTrail,
        Table::ApiGateway,
        Table::Lambda,
        Table::Waf,
    ];
    /// The tables the ingester writes.
    pub const INGESTED: [Table; 5] = [
        Table::CloudTrail,
        Table::ApiGateway,
        Table::Lambda,
        Table::Waf,
        Table::DeadLetter,
    ];
    pub const ALL: [Table; 6] = [
        Table::CloudTrail,
        Table::ApiGateway,
        Table::Lambda,
        Table::Waf,
        Table::Findings,
        Table::DeadLetter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::CloudTrail => "cloudtrail",
            Table::ApiGateway => "apigateway",
            Table::Lambda => "lambda",
            Table::Waf => "waf",
            Table::Findings => "findings",
            Table::DeadLetter => "deadletter",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) fn trim_ascii_start(b: &[u8]) -> &[u8] {
    b.trim_ascii_start()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_groups_name_their_family() {
        assert_eq!(
            Family::from_log_group("/aws/lambda/checkout"),
            Some(Family::Lambda)
        );
        assert_eq!(
            Family::from_log_group("aws-cloudtrail-logs-123-abc"),
            Some(Family::CloudTrail)
        );
        assert_eq!(
            Family::from_log_group("/aws/apigateway/orders-access"),
            Some(Family::ApiGateway)
        );
        assert_eq!(
            Family::from_log_group("API-Gateway-Execution-Logs_abc/prod"),
            None
        );
        assert_eq!(Family::from_log_group("my-app"), None);
    }

    #[test]
    fn records_are_sniffed_by_shape() {
        assert_eq!(
            Family::sniff(br#"{"eventVersion":"1.08","eventName":"X"}"#),
            Some(Family::CloudTrail)
        );
        assert_eq!(
            Family::sniff(br#"{"requestId":"a","ip":"1.2.3.4","httpMethod":"GET","status":"200"}"#),
            Some(Family::ApiGateway)
        );
        assert_eq!(
            Family::sniff(
                br#"{"time":"2024-01-01T00:00:00Z","type":"platform.start","record":{}}"#
            ),
            Some(Family::Lambda)
        );
        assert_eq!(
            Family::sniff(b"START RequestId: 8f5b Version: $LATEST"),
            Some(Family::Lambda)
        );
        assert_eq!(
            Family::sniff(
                br#"203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "GET /login HTTP/1.1" 401 12 abc"#
            ),
            Some(Family::ApiGateway)
        );
        assert_eq!(Family::sniff(b"hello world"), None);
        assert_eq!(Family::sniff(br#"{"x":1}"#), None);
    }
}
