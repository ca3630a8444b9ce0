//! AWS WAF (v2) web ACL traffic logs into the `waf` table.
//!
//! One record per request the web ACL inspected, as WAF delivers it to
//! CloudWatch Logs, S3 and Firehose. The nested lists (rule groups,
//! rate-based rules, non-terminating matches, headers) are kept as their
//! JSON text, and what rules filter on is lifted into typed columns: the
//! terminating rule and its group, the groups and rules that matched, the
//! labels, the rate-limit key, the client's user agent and host.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

use super::text::Text;
use super::time::parse_epoch_ms;
use super::{raw_text, Common, Outcome, ParseError, RecordContext, TimeSource};
use crate::schema::{BatchSize, CommonColumns, StringListBuilder, WafColumns};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    format_version: Option<&'a RawValue>,
    webacl_id: Option<Text<'a>>,
    terminating_rule_id: Option<Text<'a>>,
    terminating_rule_type: Option<Text<'a>>,
    action: Option<Text<'a>>,
    #[serde(borrow)]
    terminating_rule_match_details: Option<&'a RawValue>,
    http_source_name: Option<Text<'a>>,
    http_source_id: Option<Text<'a>>,
    #[serde(borrow)]
    rule_group_list: Option<&'a RawValue>,
    #[serde(borrow)]
    rate_based_rule_list: Option<&'a RawValue>,
    #[serde(borrow)]
    non_terminating_matching_rules: Option<&'a RawValue>,
    #[serde(borrow)]
    request_headers_inserted: Option<&'a RawValue>,
    #[serde(borrow)]
    response_code_sent: Option<&'a RawValue>,
    #[serde(borrow)]
    http_request: Option<HttpRequest<'a>>,
    #[serde(borrow)]
    labels: Option<Vec<Option<Label<'a>>>>,
    #[serde(borrow)]
    captcha_response: Option<TokenResponse<'a>>,
    #[serde(borrow)]
    challenge_response: Option<TokenResponse<'a>>,
    ja3_fingerprint: Option<Text<'a>>,
    ja4_fingerprint: Option<Text<'a>>,
    #[serde(borrow)]
    oversize_fields: Option<Vec<Option<Text<'a>>>>,
    #[serde(borrow)]
    request_body_size: Option<&'a RawValue>,
    #[serde(rename = "requestBodySizeInspectedByWAF", borrow)]
    request_body_size_inspected: Option<&'a RawValue>,
    cf_distribution_tenant_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpRequest<'a> {
    client_ip: Option<Text<'a>>,
    country: Option<Text<'a>>,
    #[serde(borrow)]
    client_asn: Option<&'a RawValue>,
    #[serde(borrow)]
    headers: Option<&'a RawValue>,
    uri: Option<Text<'a>>,
    args: Option<Text<'a>>,
    http_version: Option<Text<'a>>,
    http_method: Option<Text<'a>>,
    request_id: Option<Text<'a>>,
    fragment: Option<Text<'a>>,
    scheme: Option<Text<'a>>,
    host: Option<Text<'a>>,
}

#[derive(Deserialize)]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct Header<'a> {
    name: Option<Text<'a>>,
    value: Option<Text<'a>>,
}

#[derive(Deserialize)]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct Label<'a> {
    name: Option<Text<'a>>,
}

/// `captchaResponse` / `challengeResponse`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse<'a> {
    #[serde(borrow)]
    response_code: Option<&'a RawValue>,
    #[serde(borrow)]
    solve_timestamp: Option<&'a RawValue>,
    failure_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleGroup<'a> {
    rule_group_id: Option<Text<'a>>,
    #[serde(borrow)]
    terminating_rule: Option<MatchedRule<'a>>,
    #[serde(borrow)]
    non_terminating_matching_rules: Option<Vec<MatchedRule<'a>>>,
}

/// A rule that matched, at the top level or in a rule group.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MatchedRule<'a> {
    rule_id: Option<Text<'a>>,
    #[serde(borrow)]
    rule_match_details: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct RateBasedRule<'a> {
    rate_based_rule_name: Option<Text<'a>>,
    limit_key: Option<Text<'a>>,
}

/// A nested list, typed; `null` or absent is empty, and a value of another
/// shape fails the record with the field's name.
fn list<'a, T: Deserialize<'a>>(
    value: Option<&'a RawValue>,
    field: &str,
) -> Result<Vec<T>, ParseError> {
    match value.map(RawValue::get) {
        None | Some("null") => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| ParseError::invalid("invalid_field", format!("{field}: {e}"))),
    }
}

/// JSON text of a nested value, unless it is `null` or an empty list.
fn json(value: Option<&RawValue>) -> Option<&str> {
    value
        .map(RawValue::get)
        .filter(|s| *s != "null" && *s != "[]")
}

fn number<T: std::str::FromStr>(value: Option<&RawValue>) -> Option<T> {
    value.and_then(raw_text).and_then(|t| t.trim().parse().ok())
}

/// A time in seconds or milliseconds since the epoch, as ms.
fn epoch_ms(value: Option<&RawValue>) -> Option<i64> {
    value.and_then(raw_text).and_then(|t| parse_epoch_ms(&t))
}

/// The parts of a web ACL ARN,
/// `arn:aws:wafv2:<region>:<account>:<scope>/webacl/<name>/<id>`.
struct WebAclArn<'a> {
    region: Option<&'a str>,
    account_id: Option<&'a str>,
    name: Option<&'a str>,
}

impl<'a> WebAclArn<'a> {
    fn parse(arn: &'a str) -> Self {
        let mut parts = arn.splitn(6, ':');
        let (region, account_id, resource) = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("arn"), Some(_), Some(_), region, account, resource) => {
                (region, account, resource)
            }
            _ => (None, None, None),
        };
        let name = resource.and_then(|r| {
            let mut segments = r.split('/');
            segments.find(|s| *s == "webacl")?;
            segments.next()
        });
        let some = |s: Option<&'a str>| s.filter(|s| !s.is_empty());
        WebAclArn {
            region: some(region),
            account_id: some(account_id),
            name: some(name),
        }
    }
}

/// The API id and stage of an API Gateway source, whose `httpSourceId` is
/// `<account>:<api id>:<stage>`.
fn api_stage<'a>(
    source_name: Option<&str>,
    source_id: Option<&'a str>,
) -> (Option<&'a str>, Option<&'a str>) {
    let mut parts = source_id.unwrap_or_default().splitn(3, ':');
    match (source_name, parts.next(), parts.next(), parts.next()) {
        (Some("APIGW"), Some(_), Some(api), Some(stage)) => (Some(api), Some(stage)),
        _ => (None, None),
    }
}

/// The rule of a rule group that decided a request.
struct TerminatingGroupRule<'a> {
    group_id: Option<Cow<'a, str>>,
    rule_id: Option<Cow<'a, str>>,
    match_details: Option<&'a RawValue>,
}

/// What the rule groups say matched.
#[derive(Default)]
struct GroupMatches<'a> {
    terminating: Option<TerminatingGroupRule<'a>>,
    /// The groups with any match.
    groups: Vec<Cow<'a, str>>,
    non_terminating_rules: Vec<Cow<'a, str>>,
}

impl<'a> GroupMatches<'a> {
    fn of(groups: Vec<RuleGroup<'a>>) -> Self {
        let mut out = GroupMatches::default();
        for group in groups {
            let others = group.non_terminating_matching_rules.unwrap_or_default();
            let matched = group.terminating_rule.is_some() || !others.is_empty();
            let id: Option<Cow<'a, str>> = group.rule_group_id.map(Cow::from);
            if matched {
                if let Some(id) = &id {
                    out.groups.push(id.clone());
                }
            }
            out.non_terminating_rules
                .extend(others.into_iter().filter_map(|r| r.rule_id.map(Cow::from)));
            if let Some(rule) = group.terminating_rule {
                if out.terminating.is_none() {
                    out.terminating = Some(TerminatingGroupRule {
                        group_id: id,
                        rule_id: rule.rule_id.map(Cow::from),
                        match_details: rule.rule_match_details,
                    });
                }
            }
        }
        out
    }
}

fn append_list<'s>(builder: &mut StringListBuilder, values: impl IntoIterator<Item = &'s str>) {
    for value in values {
        builder.values().append_value(value);
    }
    builder.append(true);
}

/// The `waf` table's builder.
pub struct WafBuilder {
    pub common: CommonColumns,
    pub columns: WafColumns,
    rows: usize,
}

impl WafBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_size(rows, None)
    }

    /// Builders for `rows` rows, sized like the table's `last` batch.
    pub fn with_size(rows: usize, last: Option<&BatchSize>) -> Self {
        WafBuilder {
            common: CommonColumns::with_size(rows, last, 0),
            columns: WafColumns::with_size(rows, last, CommonColumns::COUNT),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Parses one WAF log record and appends it as a row.
    pub fn append(&mut self, raw: &str, ctx: &RecordContext<'_>) -> Result<(), ParseError> {
        let decoded = Decoded::parse(raw)?;
        decoded.common().append(&mut self.common, ctx, raw);
        let c = &mut self.columns;
        decoded.append_rules(c);
        decoded.append_request(c);
        decoded.append_responses(c);
        self.rows += 1;
        Ok(())
    }
}

/// A WAF record with its nested lists decoded: everything that can fail, done
/// before a column is touched.
struct Decoded<'a> {
    record: Record<'a>,
    request: HttpRequest<'a>,
    headers: Vec<Header<'a>>,
    groups: GroupMatches<'a>,
    top_matches: Vec<MatchedRule<'a>>,
    rate_rules: Vec<RateBasedRule<'a>>,
}

impl<'a> Decoded<'a> {
    fn parse(raw: &'a str) -> Result<Self, ParseError> {
        if !raw.trim_start().starts_with('{') {
            return Err(ParseError::NotThisFamily);
        }
        let mut record: Record<'a> = serde_json::from_str(raw).map_err(ParseError::json)?;
        if record.webacl_id.is_none() && record.terminating_rule_id.is_none() {
            return Err(ParseError::NotThisFamily);
        }
        let Some(request) = record.http_request.take() else {
            return Err(ParseError::invalid(
                "missing_field",
                "a WAF record without httpRequest",
            ));
        };
        Ok(Decoded {
            headers: list(request.headers, "httpRequest.headers")?,
            groups: GroupMatches::of(list(record.rule_group_list, "ruleGroupList")?),
            top_matches: list(
                record.non_terminating_matching_rules,
                "nonTerminatingMatchingRules",
            )?,
            rate_rules: list(record.rate_based_rule_list, "rateBasedRuleList")?,
            record,
            request,
        })
    }

    /// The value of a request header (names are case-insensitive).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| {
                h.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|h| h.value.as_deref())
    }

    fn web_acl(&self) -> WebAclArn<'_> {
        WebAclArn::parse(self.record.webacl_id.as_deref().unwrap_or_default())
    }

    fn common(&self) -> Common<'_> {
        let arn = self.web_acl();
        let action = self.record.action.as_deref();
        let outcome = match action.map(str::to_ascii_uppercase).as_deref() {
            Some("ALLOW") => Outcome::Allowed,
            Some("BLOCK") => Outcome::Blocked,
            Some("CAPTCHA" | "CHALLENGE") => Outcome::Challenged,
            _ => Outcome::Unknown,
        };
        Common {
            event_time: epoch_ms(self.record.timestamp).map(|t| (t, TimeSource::Record)),
            event_id: self.request.request_id.as_deref().map(Cow::Borrowed),
            account_id: arn.account_id.map(Cow::Borrowed),
            region: arn.region.map(Cow::Borrowed),
            src_ip: self.request.client_ip.as_deref().map(Cow::Borrowed),
            actor: None,
            action: action.map(Cow::Borrowed),
            outcome: Some(outcome),
        }
    }

    /// The web ACL, the rule that decided, and the rules that matched.
    fn append_rules(&self, c: &mut WafColumns) {
        let record = &self.record;
        c.format_version
            .append_option(number(record.format_version));
        c.web_acl_id.append_option(record.webacl_id.as_deref());
        c.web_acl_name.append_option(self.web_acl().name);
        c.terminating_rule_id
            .append_option(record.terminating_rule_id.as_deref());
        c.terminating_rule_type
            .append_option(record.terminating_rule_type.as_deref());
        let decider = self.groups.terminating.as_ref();
        c.terminating_rule_group_id
            .append_option(decider.and_then(|d| d.group_id.as_deref()));
        c.terminating_group_rule_id
            .append_option(decider.and_then(|d| d.rule_id.as_deref()));
        c.terminating_rule_match_details.append_option(
            json(record.terminating_rule_match_details)
                .or_else(|| json(decider.and_then(|d| d.match_details))),
        );
        append_list(
            &mut c.matched_rule_groups,
            self.groups.groups.iter().map(|g| &**g),
        );
        append_list(
            &mut c.non_terminating_rule_ids,
            self.top_matches
                .iter()
                .filter_map(|r| r.rule_id.as_deref())
                .chain(self.groups.non_terminating_rules.iter().map(|r| &**r)),
        );
        c.non_terminating_matching_rules
            .append_option(json(record.non_terminating_matching_rules));
        c.rule_group_list
            .append_option(json(record.rule_group_list));
        let first_rate = self.rate_rules.first();
        c.rate_based_rule_name
            .append_option(first_rate.and_then(|r| r.rate_based_rule_name.as_deref()));
        c.rate_limit_key
            .append_option(first_rate.and_then(|r| r.limit_key.as_deref()));
        c.rate_based_rule_list
            .append_option(json(record.rate_based_rule_list));
        append_list(
            &mut c.labels,
            record
                .labels
                .iter()
                .flatten()
                .flatten()
                .filter_map(|l| l.name.as_deref()),
        );
    }

    /// Where the request went and what it was.
    fn append_request(&self, c: &mut WafColumns) {
        let (record, request) = (&self.record, &self.request);
        let source_name = record.http_source_name.as_deref();
        let source_id = record.http_source_id.as_deref();
        c.http_source_name.append_option(source_name);
        c.http_source_id.append_option(source_id);
        let (api_id, stage) = api_stage(source_name, source_id);
        c.api_id.append_option(api_id);
        c.stage.append_option(stage);
        // WAF logs `-` when it cannot place the client.
        c.country
            .append_option(request.country.as_deref().filter(|c| *c != "-"));
        c.client_asn.append_option(number(request.client_asn));
        c.uri.append_option(request.uri.as_deref());
        c.args
            .append_option(request.args.as_deref().filter(|a| !a.is_empty()));
        c.http_method.append_option(request.http_method.as_deref());
        c.http_version
            .append_option(request.http_version.as_deref());
        c.scheme.append_option(request.scheme.as_deref());
        c.fragment
            .append_option(request.fragment.as_deref().filter(|f| !f.is_empty()));
        c.host
            .append_option(request.host.as_deref().or_else(|| self.header("host")));
        c.request_id.append_option(request.request_id.as_deref());
        c.user_agent.append_option(self.header("user-agent"));
        c.headers.append_option(json(request.headers));
        c.ja3_fingerprint
            .append_option(record.ja3_fingerprint.as_deref());
        c.ja4_fingerprint
            .append_option(record.ja4_fingerprint.as_deref());
        append_list(
            &mut c.oversize_fields,
            record
                .oversize_fields
                .iter()
                .flatten()
                .flatten()
                .map(|f| &**f),
        );
        c.request_body_size
            .append_option(number(record.request_body_size));
        c.request_body_size_inspected
            .append_option(number(record.request_body_size_inspected));
        c.cf_distribution_tenant_id
            .append_option(record.cf_distribution_tenant_id.as_deref());
    }

    /// What the client was asked or sent back: CAPTCHA, challenge, custom responses.
    fn append_responses(&self, c: &mut WafColumns) {
        let record = &self.record;
        let captcha = record.captcha_response.as_ref();
        c.captcha_response_code
            .append_option(captcha.and_then(|r| number(r.response_code)));
        c.captcha_failure_reason
            .append_option(captcha.and_then(|r| r.failure_reason.as_deref()));
        c.captcha_solve_time
            .append_option(captcha.and_then(|r| epoch_ms(r.solve_timestamp)));
        let challenge = record.challenge_response.as_ref();
        c.challenge_response_code
            .append_option(challenge.and_then(|r| number(r.response_code)));
        c.challenge_failure_reason
            .append_option(challenge.and_then(|r| r.failure_reason.as_deref()));
        c.challenge_solve_time
            .append_option(challenge.and_then(|r| epoch_ms(r.solve_timestamp)));
        c.request_headers_inserted
            .append_option(json(record.request_headers_inserted));
        c.response_code_sent
            .append_option(number(record.response_code_sent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_acl_arn_names_its_region_account_and_acl() {
        let arn = WebAclArn::parse(
            "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/orders-api/0f1e2d3c-aaaa",
        );
        assert_eq!(arn.region, Some("eu-west-1"));
        assert_eq!(arn.account_id, Some("111122223333"));
        assert_eq!(arn.name, Some("orders-api"));
        let odd = WebAclArn::parse("not an arn");
        assert!(odd.region.is_none() && odd.account_id.is_none() && odd.name.is_none());
    }

    #[test]
    fn an_api_gateway_source_names_its_api_and_stage() {
        assert_eq!(
            api_stage(Some("APIGW"), Some("111122223333:a1b2c3:prod")),
            (Some("a1b2c3"), Some("prod"))
        );
        assert_eq!(
            api_stage(Some("ALB"), Some("111122223333:a1b2c3:prod")),
            (None, None)
        );
        assert_eq!(api_stage(Some("APIGW"), Some("garbled")), (None, None));
    }
}
