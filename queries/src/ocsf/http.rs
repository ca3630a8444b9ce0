//! API Gateway access logs and WAF records as OCSF HTTP Activity: the
//! request, the response, the client and the API. Both mappings yield the
//! same columns of the same types (the `ocsf_http_activity` view is their
//! union): what one source lacks is a typed NULL.

use super::{metadata, unmapped, CLOUD};

/// HTTP Activity's `activity_id` from the request method (PATCH and
/// WebSocket messages have none in OCSF 1.1: Other).
const ACTIVITY: &str = "CASE upper(http_method) WHEN 'CONNECT' THEN 1 WHEN 'DELETE' THEN 2 WHEN 'GET' THEN 3 \
    WHEN 'HEAD' THEN 4 WHEN 'OPTIONS' THEN 5 WHEN 'POST' THEN 6 WHEN 'PUT' THEN 7 WHEN 'TRACE' THEN 8 ELSE 99 END";

/// `http_request.http_method`, which OCSF 1.1 limits to eight methods.
const METHOD: &str = "CAST(CASE WHEN upper(http_method) IN ('CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'TRACE') \
    THEN upper(http_method) END AS VARCHAR)";

/// `value` when it is a host name as OCSF's `hostname_t` defines it (a
/// `Host` header is attacker-controlled text), else NULL.
fn hostname(value: &str) -> String {
    format!(
        "CAST(CASE WHEN regexp_like({value}, '^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9])$') \
         THEN {value} END AS VARCHAR)"
    )
}

/// The columns both mappings yield, in order.
struct HttpColumns<'a> {
    status_id: &'a str,
    status: &'a str,
    status_code: &'a str,
    status_detail: &'a str,
    metadata: String,
    country: &'a str,
    dst_hostname: String,
    dst_service: &'a str,
    dst_uid: &'a str,
    url_hostname: String,
    path: &'a str,
    query_string: &'a str,
    scheme: &'a str,
    protocol: &'a str,
    response_code: &'a str,
    response_length: &'a str,
    latency_ms: &'a str,
    actor: &'a str,
    action_id: &'a str,
    action: &'a str,
    disposition_id: &'a str,
    disposition: &'a str,
    firewall_rule: &'a str,
    unmapped: String,
    from: &'a str,
}

impl HttpColumns<'_> {
    fn select(&self) -> String {
        format!(
            "SELECT * FROM (SELECT {ACTIVITY} AS activity_id, \
               CAST(event_time AS BIGINT) AS time, \
               1 AS severity_id, 'Informational' AS severity, \
               {status_id} AS status_id, CAST({status} AS VARCHAR) AS status, \
               CAST({status_code} AS VARCHAR) AS status_code, CAST({status_detail} AS VARCHAR) AS status_detail, \
               {metadata}, {CLOUD}, \
               named_struct('ip', ip_address(src_ip), \
                 'location', CASE WHEN {country} IS NOT NULL THEN named_struct('country', CAST({country} AS VARCHAR)) END) AS src_endpoint, \
               named_struct('hostname', {dst_hostname}, 'svc_name', CAST({dst_service} AS VARCHAR), 'uid', CAST({dst_uid} AS VARCHAR)) AS dst_endpoint, \
               named_struct('http_method', {METHOD}, \
                 'url', CASE WHEN {path} IS NOT NULL THEN named_struct('hostname', {url_hostname}, 'path', CAST({path} AS VARCHAR), \
                   'query_string', CAST({query_string} AS VARCHAR), 'scheme', CAST({scheme} AS VARCHAR)) END, \
                 'user_agent', CAST(user_agent AS VARCHAR), 'version', CAST({protocol} AS VARCHAR), 'uid', CAST(request_id AS VARCHAR)) AS http_request, \
               CASE WHEN {response_code} IS NOT NULL THEN named_struct('code', CAST({response_code} AS INT), \
                 'length', CAST({response_length} AS BIGINT), 'latency', CAST({latency_ms} AS BIGINT)) END AS http_response, \
               CAST({latency_ms} AS BIGINT) AS duration, \
               {actor} AS actor, \
               CAST({action_id} AS INT) AS action_id, CAST({action} AS VARCHAR) AS action, \
               CAST({disposition_id} AS INT) AS disposition_id, CAST({disposition} AS VARCHAR) AS disposition, \
               {firewall_rule} AS firewall_rule, \
               {unmapped}, raw AS raw_data \
             FROM {from}) AS http \
             WHERE http_response IS NOT NULL AND src_endpoint['ip'] IS NOT NULL",
            status_id = self.status_id,
            status = self.status,
            status_code = self.status_code,
            status_detail = self.status_detail,
            metadata = self.metadata,
            country = self.country,
            dst_hostname = self.dst_hostname,
            dst_service = self.dst_service,
            dst_uid = self.dst_uid,
            path = self.path,
            url_hostname = self.url_hostname,
            query_string = self.query_string,
            scheme = self.scheme,
            protocol = self.protocol,
            response_code = self.response_code,
            response_length = self.response_length,
            latency_ms = self.latency_ms,
            actor = self.actor,
            action_id = self.action_id,
            action = self.action,
            disposition_id = self.disposition_id,
            disposition = self.disposition,
            firewall_rule = self.firewall_rule,
            unmapped = self.unmapped,
            from = self.from,
        )
    }
}

/// API Gateway's fields with no OCSF home, by their `$context` names.
const APIGATEWAY_UNMAPPED: [(&str, &str); 18] = [
    ("apiId", "api_id"),
    ("stage", "stage"),
    ("resourcePath", "resource_path"),
    ("routeKey", "route_key"),
    ("integrationLatency", "integration_latency_ms"),
    ("integrationStatus", "integration_status"),
    ("integrationErrorMessage", "integration_error"),
    ("integration.requestId", "integration_request_id"),
    ("error.message", "error_message"),
    ("error.responseType", "error_response_type"),
    ("extendedRequestId", "extended_request_id"),
    ("identity.apiKeyId", "api_key_id"),
    ("identity.caller", "caller"),
    ("authorizer.principalId", "principal_id"),
    ("authorizer.error", "authorizer_error"),
    ("waf.error", "waf_error"),
    ("connectionId", "connection_id"),
    ("eventType", "websocket_event_type"),
];

/// API Gateway access logs: the client, the API (its domain, id and
/// stage), the request and the response with its latency, and the caller
/// an authorizer or IAM identified (`actor`, hence the `host` profile).
pub(super) fn select_apigateway() -> String {
    HttpColumns {
        status_id: "CASE WHEN status IS NULL THEN 0 WHEN status < 400 THEN 1 ELSE 2 END",
        status: "CASE WHEN status IS NULL THEN 'Unknown' WHEN status < 400 THEN 'Success' ELSE 'Failure' END",
        status_code: "status",
        status_detail: "error_message",
        metadata: metadata(
            &["cloud", "host"],
            "Amazon API Gateway",
            "CAST(NULL AS VARCHAR)",
            "'uid', event_id, 'log_name', CAST(log_format AS VARCHAR), 'correlation_uid', CAST(integration_request_id AS VARCHAR)",
        ),
        country: "CAST(NULL AS VARCHAR)",
        dst_hostname: hostname("domain_name"),
        dst_service: "'Amazon API Gateway'",
        dst_uid: "CASE WHEN api_id IS NOT NULL THEN concat(api_id, '/', stage) END",
        url_hostname: hostname("domain_name"),
        path: "coalesce(path, resource_path)",
        query_string: "NULL",
        scheme: "NULL",
        protocol: "protocol",
        response_code: "status",
        response_length: "response_length",
        latency_ms: "response_latency_ms",
        actor: "CASE WHEN coalesce(user_arn, principal_id, user, caller) IS NOT NULL THEN named_struct('user', \
            named_struct('uid', CAST(coalesce(user_arn, principal_id, caller) AS VARCHAR), 'name', CAST(user AS VARCHAR))) END",
        action_id: "NULL",
        action: "NULL",
        disposition_id: "NULL",
        disposition: "NULL",
        firewall_rule: FIREWALL_RULE_NONE,
        unmapped: unmapped(&APIGATEWAY_UNMAPPED),
        from: "apigateway",
    }
    .select()
}

/// A `firewall_rule` of the WAF mapping's type, NULL.
const FIREWALL_RULE_NONE: &str = "CASE WHEN false THEN named_struct('uid', CAST(NULL AS VARCHAR), 'name', CAST(NULL AS VARCHAR), \
    'type', CAST(NULL AS VARCHAR), 'category', CAST(NULL AS VARCHAR), 'match_details', make_array(CAST(NULL AS VARCHAR))) END";

/// WAF's fields with no OCSF home, by their WAF names (lists joined by
/// commas, objects as JSON text).
const WAF_UNMAPPED: [(&str, &str); 24] = [
    ("webaclId", "web_acl_id"),
    ("webaclName", "web_acl_name"),
    ("httpSourceName", "http_source_name"),
    ("httpSourceId", "http_source_id"),
    ("ruleGroupList", "rule_group_list"),
    (
        "matchedRuleGroups",
        "array_to_string(matched_rule_groups, ',')",
    ),
    (
        "nonTerminatingMatchingRules",
        "non_terminating_matching_rules",
    ),
    (
        "nonTerminatingRuleIds",
        "array_to_string(non_terminating_rule_ids, ',')",
    ),
    ("rateBasedRuleList", "rate_based_rule_list"),
    ("labels", "array_to_string(labels, ',')"),
    ("httpRequest.clientAsn", "client_asn"),
    ("httpRequest.headers", "headers"),
    ("httpRequest.fragment", "fragment"),
    ("ja3Fingerprint", "ja3_fingerprint"),
    ("ja4Fingerprint", "ja4_fingerprint"),
    ("captchaResponse.responseCode", "captcha_response_code"),
    ("captchaResponse.failureReason", "captcha_failure_reason"),
    ("challengeResponse.responseCode", "challenge_response_code"),
    (
        "challengeResponse.failureReason",
        "challenge_failure_reason",
    ),
    ("requestHeadersInserted", "request_headers_inserted"),
    ("oversizeFields", "array_to_string(oversize_fields, ',')"),
    ("requestBodySize", "request_body_size"),
    (
        "requestBodySizeInspectedByWAF",
        "request_body_size_inspected",
    ),
    ("cfDistributionTenantId", "cf_distribution_tenant_id"),
];

/// WAF records: the request as the firewall saw it, its verdict
/// (`security_control` profile: action, disposition, the terminating rule)
/// and the response. A blocked or challenged request's response is the
/// firewall's; an allowed one's is the API's, from the API Gateway record
/// with the same request id: an allowed request whose API Gateway record is
/// not in the lake has no response to map.
pub(super) fn select_waf() -> String {
    HttpColumns {
        status_id: "CASE outcome WHEN 'allowed' THEN 1 WHEN 'blocked' THEN 2 WHEN 'challenged' THEN 99 ELSE 0 END",
        status: "CASE outcome WHEN 'allowed' THEN 'Success' WHEN 'blocked' THEN 'Failure' WHEN 'challenged' THEN 'Challenged' ELSE 'Unknown' END",
        status_code: "action",
        status_detail: "coalesce(captcha_failure_reason, challenge_failure_reason)",
        metadata: metadata(
            &["cloud", "security_control"],
            "AWS WAF",
            "CAST(format_version AS VARCHAR)",
            "'uid', event_id, 'log_name', CAST(NULL AS VARCHAR), 'correlation_uid', CAST(request_id AS VARCHAR)",
        ),
        country: "country",
        dst_hostname: hostname("host"),
        dst_service: "http_source_name",
        dst_uid: "http_source_id",
        url_hostname: hostname("host"),
        path: "uri",
        query_string: "args",
        scheme: "scheme",
        protocol: "http_version",
        response_code: "CASE action WHEN 'BLOCK' THEN coalesce(response_code_sent, 403) \
            WHEN 'CAPTCHA' THEN coalesce(captcha_response_code, 405) \
            WHEN 'CHALLENGE' THEN coalesce(challenge_response_code, 202) \
            ELSE coalesce(response_code_sent, api_status) END",
        response_length: "CASE WHEN action IN ('ALLOW', 'COUNT') THEN api_response_length END",
        latency_ms: "CASE WHEN action IN ('ALLOW', 'COUNT') THEN api_latency_ms END",
        actor: "CASE WHEN false THEN named_struct('user', named_struct('uid', CAST(NULL AS VARCHAR), 'name', CAST(NULL AS VARCHAR))) END",
        action_id: "CASE outcome WHEN 'allowed' THEN 1 WHEN 'blocked' THEN 2 ELSE 99 END",
        action: "CASE outcome WHEN 'allowed' THEN 'Allowed' WHEN 'blocked' THEN 'Denied' ELSE 'Other' END",
        disposition_id: "CASE action WHEN 'ALLOW' THEN 1 WHEN 'BLOCK' THEN 2 WHEN 'COUNT' THEN 20 \
            WHEN 'CAPTCHA' THEN 22 WHEN 'CHALLENGE' THEN 23 ELSE 99 END",
        disposition: "CASE action WHEN 'ALLOW' THEN 'Allowed' WHEN 'BLOCK' THEN 'Blocked' WHEN 'COUNT' THEN 'Count' \
            WHEN 'CAPTCHA' THEN 'Captcha' WHEN 'CHALLENGE' THEN 'Challenge' ELSE 'Other' END",
        firewall_rule: "CASE WHEN terminating_rule_id IS NOT NULL THEN named_struct( \
            'uid', CAST(terminating_rule_id AS VARCHAR), \
            'name', CAST(coalesce(terminating_group_rule_id, terminating_rule_id) AS VARCHAR), \
            'type', CAST(terminating_rule_type AS VARCHAR), \
            'category', CAST(terminating_rule_group_id AS VARCHAR), \
            'match_details', CASE WHEN terminating_rule_match_details IS NOT NULL \
                THEN make_array(CAST(terminating_rule_match_details AS VARCHAR)) END) END",
        unmapped: unmapped(&WAF_UNMAPPED),
        from: "waf LEFT JOIN (SELECT request_id AS api_request_id, max(status) AS api_status, \
            max(response_length) AS api_response_length, max(response_latency_ms) AS api_latency_ms \
            FROM apigateway WHERE request_id IS NOT NULL GROUP BY request_id) AS api ON waf.request_id = api.api_request_id",
    }
    .select()
}
