//! CloudTrail records (API calls, console sign-ins, service and Insight events)
//! into the `cloudtrail` table.
//!
//! Nested objects (`requestParameters`, `responseElements`, `resources`, ...)
//! are kept as their exact JSON text. Wrapped records are unwrapped: Logstash
//! (`@timestamp`), GCP Cloud Logging (`jsonPayload`), EventBridge (`detail`)
//! and Datadog exports (`network.client.ip`, `http.useragent`).
//!
//! `event_time` falls back, in order: the record's `eventTime`, the wrapper's
//! timestamp (`@timestamp`, `timestamp`, `time`), the envelope's (the
//! CloudWatch Logs event time), and last the time of ingestion; `time_source`
//! says which was used. A record is never dropped for lack of a time.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

use super::text::Text;
use super::time::parse_rfc3339_ms;
use super::{lenient_bool, Common, Outcome, ParseError, RecordContext, TimeSource};
use crate::schema::{BatchSize, CloudTrailColumns, CommonColumns};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: Option<Text<'a>>,
    event_time: Option<Text<'a>>,
    event_source: Option<Text<'a>>,
    event_name: Option<Text<'a>>,
    aws_region: Option<Text<'a>>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<Text<'a>>,
    user_agent: Option<Text<'a>>,
    error_code: Option<Text<'a>>,
    error_message: Option<Text<'a>>,
    #[serde(rename = "requestID")]
    request_id: Option<Text<'a>>,
    #[serde(rename = "eventID")]
    event_id: Option<Text<'a>>,
    event_type: Option<Text<'a>>,
    event_category: Option<Text<'a>>,
    api_version: Option<Text<'a>>,
    recipient_account_id: Option<Text<'a>>,
    #[serde(rename = "sharedEventID")]
    shared_event_id: Option<Text<'a>>,
    vpc_endpoint_id: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient_bool::deserialize")]
    read_only: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool::deserialize")]
    management_event: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool::deserialize")]
    session_credential_from_console: Option<bool>,
    #[serde(borrow)]
    user_identity: Option<&'a RawValue>,
    #[serde(borrow)]
    request_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    response_elements: Option<&'a RawValue>,
    #[serde(borrow)]
    additional_event_data: Option<&'a RawValue>,
    #[serde(borrow)]
    resources: Option<&'a RawValue>,
    #[serde(borrow)]
    service_event_details: Option<&'a RawValue>,
    #[serde(borrow)]
    insight_details: Option<&'a RawValue>,
    #[serde(borrow)]
    tls_details: Option<TlsDetails<'a>>,
    // Wrappers and vendor re-mappings.
    #[serde(rename = "@timestamp")]
    at_timestamp: Option<Text<'a>>,
    timestamp: Option<Text<'a>>,
    time: Option<Text<'a>>,
    #[serde(borrow)]
    json_payload: Option<&'a RawValue>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    #[serde(borrow)]
    network: Option<DatadogNetwork<'a>>,
    #[serde(borrow)]
    http: Option<DatadogHttp<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct TlsDetails<'a> {
    tls_version: Option<Text<'a>>,
    cipher_suite: Option<Text<'a>>,
    client_provided_host_header: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct DatadogNetwork<'a> {
    #[serde(borrow)]
    client: Option<DatadogClient<'a>>,
}

#[derive(Deserialize)]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct DatadogClient<'a> {
    ip: Option<Text<'a>>,
}

#[derive(Deserialize)]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct DatadogHttp<'a> {
    useragent: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    principal_id: Option<Text<'a>>,
    arn: Option<Text<'a>>,
    account_id: Option<Text<'a>>,
    access_key_id: Option<Text<'a>>,
    user_name: Option<Text<'a>>,
    invoked_by: Option<Text<'a>>,
    identity_provider: Option<Text<'a>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<SessionIssuer<'a>>,
    #[serde(borrow)]
    attributes: Option<SessionAttributes<'a>>,
    source_identity: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct SessionIssuer<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    arn: Option<Text<'a>>,
    user_name: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct SessionAttributes<'a> {
    #[serde(default, deserialize_with = "lenient_bool::deserialize")]
    mfa_authenticated: Option<bool>,
    creation_date: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct InsightDetails<'a> {
    event_source: Option<Text<'a>>,
    event_name: Option<Text<'a>>,
}

impl<'a> Record<'a> {
    /// Whether this is a CloudTrail record rather than a wrapper around one.
    fn is_cloudtrail(&self) -> bool {
        self.event_version.is_some() || self.event_name.is_some() || self.event_source.is_some()
    }

    /// The time a wrapper gives (`@timestamp`, `timestamp`, `time`).
    fn wrapper_time(&self) -> Option<i64> {
        [&self.at_timestamp, &self.timestamp, &self.time]
            .into_iter()
            .flatten()
            .find_map(|t| parse_rfc3339_ms(t))
    }

    /// The event's name (an Insight event carries it in its details).
    fn event_name<'r>(&'r self, insight: &'r InsightDetails<'_>) -> Option<&'r str> {
        self.event_name.as_deref().or(insight.event_name.as_deref())
    }

    fn event_source<'r>(&'r self, insight: &'r InsightDetails<'_>) -> Option<&'r str> {
        self.event_source
            .as_deref()
            .or(insight.event_source.as_deref())
    }

    /// The user agent, or a Datadog export's.
    fn user_agent(&self) -> Option<&str> {
        self.user_agent
            .as_deref()
            .or_else(|| self.http.as_ref().and_then(|h| h.useragent.as_deref()))
    }
}

/// The `cloudtrail` table's builder.
pub struct CloudTrailBuilder {
    pub common: CommonColumns,
    pub columns: CloudTrailColumns,
    rows: usize,
}

impl CloudTrailBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_size(rows, None)
    }

    /// Builders for `rows` rows, sized like the table's `last` batch.
    pub fn with_size(rows: usize, last: Option<&BatchSize>) -> Self {
        CloudTrailBuilder {
            common: CommonColumns::with_size(rows, last, 0),
            columns: CloudTrailColumns::with_size(rows, last, CommonColumns::COUNT),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Parses one CloudTrail record and appends it as a row.
    pub fn append(&mut self, raw: &str, ctx: &RecordContext<'_>) -> Result<(), ParseError> {
        let record: Record<'_> = serde_json::from_str(raw).map_err(ParseError::json)?;
        self.append_record(record, None, raw, ctx)
    }

    fn append_record(
        &mut self,
        record: Record<'_>,
        wrapper_time: Option<i64>,
        raw: &str,
        ctx: &RecordContext<'_>,
    ) -> Result<(), ParseError> {
        if !record.is_cloudtrail() {
            return self.append_wrapped(record, raw, ctx);
        }
        let identity: UserIdentity<'_> = match record.user_identity {
            Some(v) => serde_json::from_str(v.get())
                .map_err(|e| ParseError::invalid("invalid_field", format!("userIdentity: {e}")))?,
            None => UserIdentity::default(),
        };
        let insight: InsightDetails<'_> = match record.insight_details {
            Some(v) => serde_json::from_str(v.get()).unwrap_or_default(),
            None => InsightDetails::default(),
        };
        common(&record, &identity, &insight, wrapper_time).append(&mut self.common, ctx, raw);
        append_columns(&mut self.columns, &record, &identity, &insight);
        self.rows += 1;
        Ok(())
    }

    /// A wrapper around a record (GCP's `jsonPayload`, EventBridge's
    /// `detail`): the record inside, with the wrapper's time.
    fn append_wrapped(
        &mut self,
        wrapper: Record<'_>,
        raw: &str,
        ctx: &RecordContext<'_>,
    ) -> Result<(), ParseError> {
        let outer_time = wrapper.wrapper_time();
        if let Some(inner) = wrapper.json_payload.or(wrapper.detail) {
            let inner: Record<'_> = serde_json::from_str(inner.get()).map_err(ParseError::json)?;
            if inner.event_version.is_some() || inner.event_name.is_some() {
                return self.append_record(inner, outer_time, raw, ctx);
            }
        }
        Err(ParseError::NotThisFamily)
    }
}

/// The common columns of a CloudTrail record.
fn common<'r>(
    record: &'r Record<'_>,
    identity: &'r UserIdentity<'_>,
    insight: &'r InsightDetails<'_>,
    wrapper_time: Option<i64>,
) -> Common<'r> {
    let event_time = record
        .event_time
        .as_deref()
        .and_then(parse_rfc3339_ms)
        .map(|t| (t, TimeSource::Record))
        .or_else(|| wrapper_time.map(|t| (t, TimeSource::Wrapper)))
        .or_else(|| record.wrapper_time().map(|t| (t, TimeSource::Wrapper)));
    let (event_name, event_source) = (record.event_name(insight), record.event_source(insight));
    let action = event_name.map(|name| match event_source {
        Some(src) => {
            let service = src.split('.').next().unwrap_or(src);
            let mut action = String::with_capacity(service.len() + 1 + name.len());
            action.push_str(service);
            action.push(':');
            action.push_str(name);
            Cow::Owned(action)
        }
        None => Cow::Borrowed(name),
    });
    let outcome = if record.error_code.is_some() {
        Outcome::Failure
    } else if record.event_type.as_deref() == Some("AwsCloudTrailInsight") {
        Outcome::Unknown
    } else if event_name == Some("ConsoleLogin")
        && record
            .response_elements
            .is_some_and(|r| r.get().contains("\"Failure\""))
    {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let actor = identity
        .arn
        .as_deref()
        .or(identity.principal_id.as_deref())
        .or(identity.user_name.as_deref())
        .or(identity.invoked_by.as_deref())
        .or(identity.kind.as_deref())
        .map(Cow::Borrowed);
    let src_ip = record.source_ip_address.clone().or_else(|| {
        record
            .network
            .as_ref()
            .and_then(|n| n.client.as_ref())
            .and_then(|c| c.ip.clone())
    });
    Common {
        event_time,
        event_id: record.event_id.clone().map(Cow::from),
        account_id: record
            .recipient_account_id
            .clone()
            .or_else(|| identity.account_id.clone())
            .map(Cow::from),
        region: record.aws_region.clone().map(Cow::from),
        src_ip: src_ip.map(Cow::from),
        actor,
        action,
        outcome: Some(outcome),
    }
}

/// The `cloudtrail` table's own columns of a record.
fn append_columns(
    c: &mut CloudTrailColumns,
    record: &Record<'_>,
    identity: &UserIdentity<'_>,
    insight: &InsightDetails<'_>,
) {
    let session = identity.session_context.as_ref();
    let issuer = session.and_then(|s| s.session_issuer.as_ref());
    let attributes = session.and_then(|s| s.attributes.as_ref());
    fn json(v: Option<&RawValue>) -> Option<&str> {
        v.map(RawValue::get).filter(|s| *s != "null")
    }
    c.event_version
        .append_option(record.event_version.as_deref());
    c.event_source.append_option(record.event_source(insight));
    c.event_name.append_option(record.event_name(insight));
    c.event_type.append_option(record.event_type.as_deref());
    c.event_category
        .append_option(record.event_category.as_deref());
    c.api_version.append_option(record.api_version.as_deref());
    c.user_agent.append_option(record.user_agent());
    c.error_code.append_option(record.error_code.as_deref());
    c.error_message
        .append_option(record.error_message.as_deref());
    c.request_id.append_option(record.request_id.as_deref());
    c.read_only.append_option(record.read_only);
    c.management_event.append_option(record.management_event);
    c.recipient_account_id
        .append_option(record.recipient_account_id.as_deref());
    c.shared_event_id
        .append_option(record.shared_event_id.as_deref());
    c.vpc_endpoint_id
        .append_option(record.vpc_endpoint_id.as_deref());
    c.session_credential_from_console
        .append_option(record.session_credential_from_console);
    c.user_identity_type.append_option(identity.kind.as_deref());
    c.user_identity_principal_id
        .append_option(identity.principal_id.as_deref());
    c.user_identity_arn.append_option(identity.arn.as_deref());
    c.user_identity_account_id
        .append_option(identity.account_id.as_deref());
    c.user_identity_access_key_id
        .append_option(identity.access_key_id.as_deref());
    c.user_identity_user_name
        .append_option(identity.user_name.as_deref());
    c.user_identity_invoked_by
        .append_option(identity.invoked_by.as_deref());
    c.user_identity_identity_provider
        .append_option(identity.identity_provider.as_deref());
    c.user_identity_session_issuer_type
        .append_option(issuer.and_then(|i| i.kind.as_deref()));
    c.user_identity_session_issuer_arn
        .append_option(issuer.and_then(|i| i.arn.as_deref()));
    c.user_identity_session_issuer_user_name
        .append_option(issuer.and_then(|i| i.user_name.as_deref()));
    c.user_identity_mfa_authenticated
        .append_option(attributes.and_then(|a| a.mfa_authenticated));
    c.user_identity_session_created.append_option(
        attributes
            .and_then(|a| a.creation_date.as_deref())
            .and_then(parse_rfc3339_ms),
    );
    c.user_identity_source_identity
        .append_option(session.and_then(|s| s.source_identity.as_deref()));
    c.user_identity.append_option(json(record.user_identity));
    c.request_parameters
        .append_option(json(record.request_parameters));
    c.response_elements
        .append_option(json(record.response_elements));
    c.additional_event_data
        .append_option(json(record.additional_event_data));
    c.resources.append_option(json(record.resources));
    c.service_event_details
        .append_option(json(record.service_event_details));
    c.insight_details
        .append_option(json(record.insight_details));
    let tls = record.tls_details.as_ref();
    c.tls_version
        .append_option(tls.and_then(|t| t.tls_version.as_deref()));
    c.tls_cipher_suite
        .append_option(tls.and_then(|t| t.cipher_suite.as_deref()));
    c.tls_client_provided_host_header
        .append_option(tls.and_then(|t| t.client_provided_host_header.as_deref()));
}
