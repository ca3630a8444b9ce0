//! API Gateway access logs (REST, HTTP and WebSocket APIs) into the `apigateway` table.
//!
//! Access-log formats are user-defined templates of `$context` variables, so
//! the JSON parser accepts the key names used by the AWS docs and popular
//! templates (`ip`/`sourceIp`, `httpMethod`/`method`, `status`/`statusCode`,
//! dotted names such as `error.message`, ...): the first key present wins and
//! every other key stays in `raw`. Values may be strings or numbers, and `-`
//! (API Gateway's empty value) is null. Common Log Format lines, including the
//! CLF-like default of the console, are parsed too.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

use super::flat_json;
use super::text::Text;
use super::time::{parse_any_ms, parse_clf_ms, parse_epoch_ms};
use super::{present, raw_text, Common, Outcome, ParseError, RecordContext, TimeSource};
use crate::schema::{ApiGatewayColumns, BatchSize, CommonColumns};

/// The fields an access log may carry, each under any of several key names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Var {
    RequestId,
    ExtendedRequestId,
    Ip,
    RequestTime,
    RequestTimeEpoch,
    HttpMethod,
    ResourcePath,
    Path,
    RouteKey,
    Protocol,
    Status,
    ResponseLength,
    ResponseLatency,
    IntegrationLatency,
    IntegrationStatus,
    IntegrationError,
    UserAgent,
    Caller,
    User,
    UserArn,
    PrincipalId,
    AuthorizerError,
    WafError,
    ErrorMessage,
    ErrorResponseType,
    ApiId,
    Stage,
    DomainName,
    ConnectionId,
    EventType,
    ApiKeyId,
    IntegrationRequestId,
    AccountId,
}

const KEY_COUNT: usize = Var::AccountId as usize + 1;

fn key_of(name: &str) -> Option<Var> {
    use Var::*;
    Some(match name {
        "requestId" | "request_id" | "requestID" | "RequestId" => RequestId,
        "extendedRequestId" | "extended_request_id" => ExtendedRequestId,
        "ip" | "sourceIp" | "sourceIP" | "source_ip" | "clientIp" | "client_ip"
        | "identity.sourceIp" => Ip,
        "requestTime" | "request_time" => RequestTime,
        "requestTimeEpoch" | "request_time_epoch" | "timestamp" => RequestTimeEpoch,
        "httpMethod" | "http_method" | "method" => HttpMethod,
        "resourcePath" | "resource_path" => ResourcePath,
        "path" | "requestPath" | "request_path" => Path,
        "routeKey" | "route_key" => RouteKey,
        "protocol" => Protocol,
        "status" | "statusCode" | "status_code" | "httpStatus" => Status,
        "responseLength" | "response_length" | "bytes" => ResponseLength,
        "responseLatency" | "response_latency" | "latency" => ResponseLatency,
        "integrationLatency" | "integration_latency" | "integration.latency" => IntegrationLatency,
        "integrationStatus" | "integration_status" | "integration.status" => IntegrationStatus,
        "integrationErrorMessage"
        | "integrationError"
        | "integration_error"
        | "integration.error" => IntegrationError,
        "userAgent" | "user_agent" | "identity.userAgent" => UserAgent,
        "caller" | "identity.caller" => Caller,
        "user" | "identity.user" => User,
        "userArn" | "user_arn" | "identity.userArn" => UserArn,
        "principalId"
        | "principal_id"
        | "authorizer.principalId"
        | "authorizerPrincipalId"
        | "sub"
        | "authorizer.claims.sub" => PrincipalId,
        "authorizerError" | "authorizer_error" | "authorizer.error" | "authorizeError"
        | "authorize.error" | "authenticateError" | "authenticate.error" => AuthorizerError,
        "wafError" | "waf.error" | "wafResponseCode" | "waf_error" => WafError,
        "errorMessage" | "error_message" | "error.message" => ErrorMessage,
        "errorResponseType" | "responseType" | "error.responseType" | "error_response_type" => {
            ErrorResponseType
        }
        "apiId" | "api_id" => ApiId,
        "stage" => Stage,
        "domainName" | "domain_name" | "domain" => DomainName,
        "connectionId" | "connection_id" => ConnectionId,
        "eventType" | "event_type" => EventType,
        "apiKeyId" | "apiKey" | "api_key_id" | "identity.apiKeyId" => ApiKeyId,
        "integrationRequestId" | "integration_request_id" | "integration.requestId" => {
            IntegrationRequestId
        }
        "accountId" | "account_id" => AccountId,
        _ => return None,
    })
}

/// One access log's values, by [`Var`].
#[derive(Debug, PartialEq, Eq)]
struct Fields<'a> {
    values: [Option<Cow<'a, str>>; KEY_COUNT],
    known: usize,
}

// Arrays derive `Default` only up to 32 elements.
impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            values: std::array::from_fn(|_| None),
            known: 0,
        }
    }
}

impl<'a> Fields<'a> {
    fn get(&self, key: Var) -> Option<&str> {
        self.values.get(key as usize)?.as_deref()
    }
    fn set(&mut self, key: Var, value: Option<Cow<'a, str>>) {
        if let Some(slot @ None) = self.values.get_mut(key as usize) {
            *slot = value;
        }
    }
    /// A member under a key name the parser knows: counted, and kept
    /// unless an earlier member gave this field already.
    fn known_member(&mut self, key: Var, value: Option<Cow<'a, str>>) {
        self.known += 1;
        self.set(key, value);
    }
    fn number<T: std::str::FromStr>(&self, key: Var) -> Option<T> {
        self.get(key).and_then(|s| s.trim().parse().ok())
    }
}

/// Fills a [`Fields`] in place: it is a few hundred bytes, and moving it out
/// of the visitor and through two `Result`s cost more than the record's own bytes.
struct FieldsVisitor<'f, 'de>(&'f mut Fields<'de>);

impl<'de> Visitor<'de> for FieldsVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON access-log object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fields = self.0;
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            match key_of(&name) {
                Some(key) => {
                    let value: &'de RawValue = map.next_value()?;
                    fields.known_member(key, raw_text(value));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The fields of a JSON access log: read in one pass when the object is
/// flat (the usual shape), else by serde_json.
fn json_fields(text: &str) -> Result<Fields<'_>, serde_json::Error> {
    let mut fields = Fields::default();
    let flat = flat_json::for_each_member(text, |name, value| {
        if let Some(key) = key_of(name) {
            fields.known_member(key, value.text().map(Cow::Borrowed));
        }
    });
    match flat {
        Some(()) => Ok(fields),
        None => json_fields_by_serde(text),
    }
}

/// The fields of any JSON access log, read by serde_json.
fn json_fields_by_serde(text: &str) -> Result<Fields<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut fields = Fields::default();
    de.deserialize_map(FieldsVisitor(&mut fields))
        .and_then(|()| de.end())?;
    Ok(fields)
}

/// True for a Common Log Format line: `ip caller user [time] "request" ...`.
pub fn looks_like_clf(line: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'[', line) else {
        return false;
    };
    let (head, from_time) = line.split_at(open);
    head.iter().filter(|c| **c == b' ').count() >= 2
        && !head.contains(&b'{')
        && memchr::memchr(b'"', from_time).is_some()
        && from_time.len() > 22
}

/// The `apigateway` table's builder.
pub struct ApiGatewayBuilder {
    pub common: CommonColumns,
    pub columns: ApiGatewayColumns,
    rows: usize,
}

impl ApiGatewayBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_size(rows, None)
    }

    /// Builders for `rows` rows, sized like the table's `last` batch.
    pub fn with_size(rows: usize, last: Option<&BatchSize>) -> Self {
        ApiGatewayBuilder {
            common: CommonColumns::with_size(rows, last, 0),
            columns: ApiGatewayColumns::with_size(rows, last, CommonColumns::COUNT),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Parses one access log, JSON or CLF, and appends it as a row.
    pub fn append(&mut self, raw: &str, ctx: &RecordContext<'_>) -> Result<(), ParseError> {
        let trimmed = raw.trim_start();
        if trimmed.starts_with('{') {
            let fields = json_fields(trimmed).map_err(ParseError::json)?;
            let has_http_shape = [Var::HttpMethod, Var::Status, Var::RouteKey, Var::EventType]
                .iter()
                .any(|k| fields.get(*k).is_some());
            if fields.known < 2 || !has_http_shape {
                return Err(ParseError::NotThisFamily);
            }
            self.append_fields(&fields, "json", raw, ctx);
            Ok(())
        } else {
            let fields = parse_clf(trimmed.trim_end()).ok_or(ParseError::NotThisFamily)?;
            self.append_fields(&fields, "clf", raw, ctx);
            Ok(())
        }
    }

    fn append_fields(&mut self, f: &Fields<'_>, format: &str, raw: &str, ctx: &RecordContext<'_>) {
        let event_time = f
            .get(Var::RequestTimeEpoch)
            .and_then(|t| parse_epoch_ms(t).or_else(|| parse_any_ms(t)))
            .or_else(|| f.get(Var::RequestTime).and_then(parse_any_ms))
            .map(|t| (t, TimeSource::Record));
        let status: Option<i32> = f.number(Var::Status);
        let method = f.get(Var::HttpMethod);
        let route = f
            .get(Var::RouteKey)
            .or(f.get(Var::ResourcePath))
            .or(f.get(Var::Path));
        let action = match (method, route) {
            // HTTP API route keys already start with the method ("GET /items").
            (Some(m), Some(r)) if !r.starts_with(m) => {
                let mut action = String::with_capacity(m.len() + 1 + r.len());
                action.push_str(m);
                action.push(' ');
                action.push_str(r);
                Some(Cow::Owned(action))
            }
            (_, Some(r)) => Some(Cow::Borrowed(r)),
            (Some(m), None) => Some(Cow::Borrowed(m)),
            (None, None) => f.get(Var::EventType).map(Cow::Borrowed),
        };
        let outcome = match status {
            Some(s) if s < 400 => Outcome::Success,
            Some(_) => Outcome::Failure,
            None => Outcome::Unknown,
        };
        let actor = [Var::UserArn, Var::User, Var::Caller, Var::PrincipalId]
            .iter()
            .find_map(|k| f.get(*k))
            .map(Cow::Borrowed);
        let common = Common {
            event_time,
            event_id: f.get(Var::RequestId).map(Cow::Borrowed),
            account_id: f.get(Var::AccountId).map(Cow::Borrowed),
            region: None,
            src_ip: f.get(Var::Ip).map(Cow::Borrowed),
            actor,
            action,
            outcome: Some(outcome),
        };
        common.append(&mut self.common, ctx, raw);

        let c = &mut self.columns;
        c.log_format.append_value(format);
        c.api_id.append_option(f.get(Var::ApiId));
        c.stage.append_option(f.get(Var::Stage));
        c.domain_name.append_option(f.get(Var::DomainName));
        c.http_method.append_option(method);
        c.resource_path.append_option(f.get(Var::ResourcePath));
        c.path.append_option(f.get(Var::Path));
        c.route_key.append_option(f.get(Var::RouteKey));
        c.protocol.append_option(f.get(Var::Protocol));
        c.status.append_option(status);
        c.response_length
            .append_option(f.number(Var::ResponseLength));
        c.response_latency_ms
            .append_option(f.number(Var::ResponseLatency));
        c.integration_latency_ms
            .append_option(f.number(Var::IntegrationLatency));
        c.integration_status
            .append_option(f.number(Var::IntegrationStatus));
        c.integration_error
            .append_option(f.get(Var::IntegrationError));
        c.user_agent.append_option(f.get(Var::UserAgent));
        c.caller.append_option(f.get(Var::Caller));
        c.user.append_option(f.get(Var::User));
        c.user_arn.append_option(f.get(Var::UserArn));
        c.principal_id.append_option(f.get(Var::PrincipalId));
        c.authorizer_error
            .append_option(f.get(Var::AuthorizerError));
        c.waf_error.append_option(f.get(Var::WafError));
        c.error_message.append_option(f.get(Var::ErrorMessage));
        c.error_response_type
            .append_option(f.get(Var::ErrorResponseType));
        c.extended_request_id
            .append_option(f.get(Var::ExtendedRequestId));
        c.connection_id.append_option(f.get(Var::ConnectionId));
        c.websocket_event_type.append_option(f.get(Var::EventType));
        c.api_key_id.append_option(f.get(Var::ApiKeyId));
        c.request_id.append_option(f.get(Var::RequestId));
        c.integration_request_id
            .append_option(f.get(Var::IntegrationRequestId));
        self.rows += 1;
    }
}

/// Splits a CLF line into tokens: bare words, `[bracketed]` and `"quoted"`.
fn clf_tokens<'a>(line: &'a str) -> Vec<&'a str> {
    let mut tokens = Vec::with_capacity(12);
    let mut rest = line.trim();
    // Every split is at an ASCII delimiter `find` returned, so on a
    // character boundary.
    let closed = |inner: &'a str, close: char| match inner.split_once(close) {
        Some((token, after)) => (token, after),
        None => (inner, ""),
    };
    while !rest.is_empty() {
        let (token, after) = if let Some(inner) = rest.strip_prefix('[') {
            closed(inner, ']')
        } else if let Some(inner) = rest.strip_prefix('"') {
            closed(inner, '"')
        } else {
            match rest.find([' ', '\t']) {
                Some(end) => rest.split_at(end),
                None => (rest, ""),
            }
        };
        tokens.push(token);
        rest = after.trim_start();
    }
    tokens
}

/// `ip caller user [time] "METHOD path PROTOCOL" status length [requestId [extendedRequestId]]`
///
/// HTTP APIs log `$context.routeKey` in the request, which holds a space
/// (`"GET GET /pets HTTP/1.1"`): a four-part request is read as a route key.
fn parse_clf(line: &str) -> Option<Fields<'_>> {
    fn put<'a>(f: &mut Fields<'a>, key: Var, value: &'a str) {
        if let Some(value) = present(value.trim()) {
            f.set(key, Some(Cow::Borrowed(value)));
        }
    }
    let t = clf_tokens(line);
    let &[ip, caller, user, time, request, status, length, ..] = t.as_slice() else {
        return None;
    };
    parse_clf_ms(time)?;
    let mut f = Fields::default();
    put(&mut f, Var::Ip, ip);
    put(&mut f, Var::Caller, caller);
    put(&mut f, Var::User, user);
    put(&mut f, Var::RequestTime, time);
    let request = request.trim();
    let parts = request.split(' ').filter(|p| !p.is_empty()).count();
    let (method, rest) = request.split_once(' ').unwrap_or((request, ""));
    put(&mut f, Var::HttpMethod, method);
    let (target, protocol) = match rest.trim().rsplit_once(' ') {
        Some((target, protocol)) if protocol.starts_with("HTTP") => (target, protocol),
        _ => (rest, ""),
    };
    put(&mut f, Var::Protocol, protocol);
    if parts == 4 {
        put(&mut f, Var::RouteKey, target);
    } else {
        put(&mut f, Var::ResourcePath, target);
    }
    put(&mut f, Var::Status, status);
    put(&mut f, Var::ResponseLength, length);
    if let Some(id) = t.get(7) {
        put(&mut f, Var::RequestId, id);
    }
    if let Some(id) = t.get(8) {
        put(&mut f, Var::ExtendedRequestId, id);
    }
    f.number::<i32>(Var::Status)?;
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What either reader made of a line: its fields, or that it failed.
    fn read(fields: Result<Fields<'_>, serde_json::Error>) -> Option<Fields<'_>> {
        fields.ok()
    }

    /// Lines that vary what the flat reader declines or must reject: escapes,
    /// nesting, whitespace, numbers at and past the grammar's edges,
    /// placeholders, duplicates, truncation.
    fn variants(line: &str) -> Vec<String> {
        let mut out = vec![line.to_string()];
        let edits: &[(&str, &str)] = &[
            ("\"status\":\"", "\"status\" : \""),
            ("\"status\":\"", "\"status\":\"\\u0034"),
            ("\"ip\":\"", "\"ip\":\"\\\"q\\\" "),
            ("\"ip\":", "\"nested\":{\"a\":[1,{\"b\":null}]},\"ip\":"),
            ("\"ip\":", "\"ip\":null,\"ip\":"),
            ("\"ip\":", "\"list\":[],\"ip\":"),
            ("\"user\":\"-\"", "\"user\":\"\""),
            ("\"user\":\"-\"", "\"user\":-0.5E-3"),
            ("\"user\":\"-\"", "\"user\":01"),
            ("\"user\":\"-\"", "\"user\":1."),
            ("\"user\":\"-\"", "\"user\":true"),
            ("\"user\":\"-\"", "\"user\":tru"),
            ("\"user\":\"-\"", "\"user\":\"a\tb\""),
            ("\"user\":\"-\"", "\"user\":\"Ü\u{1F600}\""),
            (",", " ,\n"),
            (",", ",,"),
            (":", "::"),
        ];
        for (from, to) in edits {
            if line.contains(from) {
                out.push(line.replacen(from, to, 1));
            }
        }
        out.push(format!("{line} trailing"));
        out.push(format!("{line}\r\n"));
        for cut in [1, line.len() / 2, line.len().saturating_sub(1)] {
            if let Some(head) = line.get(..cut) {
                out.push(head.to_string());
            }
        }
        out
    }

    fn sample_lines() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample-logs/apigateway");
        let text = std::fs::read_to_string(format!("{dir}/rest-api-access-prod.ndjson")).unwrap();
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn the_flat_reader_reads_the_sample_access_logs() {
        let lines = sample_lines();
        assert!(lines.len() > 10);
        for line in &lines {
            assert!(
                flat_json::for_each_member(line, |_, _| {}).is_some(),
                "declined: {line}"
            );
        }
    }

    #[test]
    fn flat_and_serde_readers_agree_on_every_variant_of_the_samples() {
        let mut read_flat = 0;
        let mut compared = 0;
        for line in sample_lines() {
            for variant in variants(&line) {
                if flat_json::for_each_member(&variant, |_, _| {}).is_some() {
                    read_flat += 1;
                }
                assert_eq!(
                    read(json_fields(&variant)),
                    read(json_fields_by_serde(&variant)),
                    "{variant}"
                );
                compared += 1;
            }
        }
        // Both paths were exercised: flat lines and lines left to serde_json.
        assert!(
            read_flat > 0 && read_flat < compared,
            "{read_flat} of {compared}"
        );
    }
}
