//! The web ACL in front of the generated API's `prod` stage: the WAF record of
//! each request it let through (same request id, client and time as the
//! access log), and the records of the requests it blocked. It runs the SQL
//! injection, core and known-bad-inputs rule groups and a rate-based rule on
//! `/login` (no bot control: its COUNT-mode labels would mark every HTTP
//! library client).

use serde::Deserialize;
use serde_json::json;

use crate::identity::ACCOUNT;

/// The web ACL's ARN.
pub const WEB_ACL: &str =
    "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/acme-api/5c2b8e7f-4a10-4e0f-9a1d-3f6d1c2a7b8e";
/// The API and stage it protects; other stages and APIs go unlogged.
pub const PROTECTED_API: &str = "a1b2c3d4e5";
pub const PROTECTED_STAGE: &str = "prod";

/// What the web ACL decided about a request.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    /// No rule matched: the default action.
    Allowed,
    /// A managed rule group's rule blocked it.
    BlockedByGroup(ManagedRule),
    /// A rate-based rule blocked it.
    RateLimited { rule: &'static str },
}

/// A rule of a managed rule group, with the label it adds.
#[derive(Debug, Clone, Copy)]
pub struct ManagedRule {
    pub group: &'static str,
    pub rule: &'static str,
    pub label: &'static str,
    pub condition: &'static str,
}

pub const SQLI: ManagedRule = ManagedRule {
    group: "AWS#AWSManagedRulesSQLiRuleSet",
    rule: "SQLi_QUERYARGUMENTS",
    label: "awswaf:managed:aws:sql-database:SQLi_QueryArguments",
    condition: "SQL_INJECTION",
};
pub const XSS: ManagedRule = ManagedRule {
    group: "AWS#AWSManagedRulesCommonRuleSet",
    rule: "CrossSiteScripting_QUERYARGUMENTS",
    label: "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments",
    condition: "XSS",
};
pub const LOG4J: ManagedRule = ManagedRule {
    group: "AWS#AWSManagedRulesKnownBadInputsRuleSet",
    rule: "Log4JRCE_HEADER",
    label: "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Header",
    condition: "REGEX",
};

/// One request as the web ACL saw it.
#[derive(Debug, Clone)]
pub struct Inspected<'a> {
    pub ms: i64,
    pub request_id: &'a str,
    pub ip: &'a str,
    pub method: &'a str,
    /// The path and query string as requested (`/search?q=x`).
    pub target: &'a str,
    pub agent: &'a str,
}

/// The fields of a generated access log the web ACL's record repeats.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessLog<'a> {
    request_id: &'a str,
    ip: &'a str,
    http_method: &'a str,
    path: &'a str,
    user_agent: &'a str,
    api_id: &'a str,
    stage: &'a str,
    request_time_epoch: i64,
}

/// The WAF record of a generated access log, when the web ACL covers its stage.
pub fn record_of_access_log(line: &str) -> Option<(i64, String)> {
    let log: AccessLog<'_> = serde_json::from_str(line).ok()?;
    if log.api_id != PROTECTED_API || log.stage != PROTECTED_STAGE {
        return None;
    }
    let target = log.path.strip_prefix("/prod").unwrap_or(log.path);
    let request = Inspected {
        ms: log.request_time_epoch,
        request_id: log.request_id,
        ip: log.ip,
        method: log.http_method,
        target,
        agent: log.user_agent,
    };
    Some((request.ms, record(&request, Verdict::Allowed)))
}

/// A stable stand-in for the TLS fingerprints of a client, by user agent.
fn fingerprints(agent: &str) -> (String, String) {
    let hash = agent.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    (
        format!("{hash:016x}{:016x}", hash.rotate_left(17)),
        format!(
            "t13d1516h2_{:012x}_{:012x}",
            hash >> 16,
            hash & 0xffff_ffff_ffff
        ),
    )
}

/// The WAF log record of a request.
pub fn record(r: &Inspected<'_>, verdict: Verdict) -> String {
    let (uri, args) = r.target.split_once('?').unwrap_or((r.target, ""));
    // The web ACL's rule groups, each evaluated on every request.
    let groups = [SQLI, XSS, LOG4J].map(|m| {
        json!({"ruleGroupId": m.group, "terminatingRule": null, "nonTerminatingMatchingRules": [], "excludedRules": null})
    });
    let (ja3, ja4) = fingerprints(r.agent);
    let mut record = json!({
        "timestamp": r.ms,
        "formatVersion": 1,
        "webaclId": WEB_ACL,
        "terminatingRuleId": "Default_Action",
        "terminatingRuleType": "REGULAR",
        "action": "ALLOW",
        "terminatingRuleMatchDetails": [],
        "httpSourceName": "APIGW",
        "httpSourceId": format!("{ACCOUNT}:{PROTECTED_API}:{PROTECTED_STAGE}"),
        "ruleGroupList": groups,
        "rateBasedRuleList": [],
        "nonTerminatingMatchingRules": [],
        "requestHeadersInserted": null,
        "responseCodeSent": null,
        "httpRequest": {
            "clientIp": r.ip,
            "country": "US",
            "headers": [
                {"name": "Host", "value": "api.acme.example"},
                {"name": "User-Agent", "value": r.agent},
            ],
            "uri": uri,
            "args": args,
            "httpVersion": "HTTP/1.1",
            "httpMethod": r.method,
            "requestId": r.request_id,
        },
        "labels": [],
        "ja3Fingerprint": ja3,
        "ja4Fingerprint": ja4,
    });
    match verdict {
        Verdict::Allowed => {}
        Verdict::BlockedByGroup(m) => {
            record["action"] = json!("BLOCK");
            record["terminatingRuleId"] = json!(m.group.replace('#', "-"));
            record["terminatingRuleType"] = json!("MANAGED_RULE_GROUP");
            if let Some(groups) = record["ruleGroupList"].as_array_mut() {
                for g in groups.iter_mut().filter(|g| g["ruleGroupId"] == m.group) {
                    g["terminatingRule"] = json!({"ruleId": m.rule, "action": "BLOCK", "ruleMatchDetails": [
                        {"conditionType": m.condition, "location": "QUERY_STRING", "matchedData": [args]}]});
                }
            }
            record["labels"] = json!([{ "name": m.label }]);
        }
        Verdict::RateLimited { rule } => {
            record["action"] = json!("BLOCK");
            record["terminatingRuleId"] = json!(rule);
            record["terminatingRuleType"] = json!("RATE_BASED");
            record["rateBasedRuleList"] = json!([{"rateBasedRuleId": "8c1b5e0a-4d2f-4b7e-9f3a-2e6d7c8b9a01",
                "rateBasedRuleName": rule, "limitKey": "IP", "maxRateAllowed": 100, "evaluationWindowSec": "300"}]);
        }
    }
    record.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_protected_stage_is_logged() {
        let prod = r#"{"requestId":"r1","ip":"192.0.2.1","httpMethod":"GET","path":"/prod/search?q=x","userAgent":"okhttp/4.12.0","apiId":"a1b2c3d4e5","stage":"prod","requestTimeEpoch":5}"#;
        let (ms, record) = record_of_access_log(prod).unwrap();
        assert_eq!(ms, 5);
        let v: serde_json::Value = serde_json::from_str(&record).unwrap();
        assert_eq!(v["httpRequest"]["requestId"], "r1");
        assert_eq!(v["httpRequest"]["uri"], "/search");
        assert_eq!(v["httpRequest"]["args"], "q=x");
        assert_eq!(v["action"], "ALLOW");
        let test_stage = prod.replace("\"stage\":\"prod\"", "\"stage\":\"test\"");
        assert!(record_of_access_log(&test_stage).is_none());
    }
}
