//! The lake's table schemas, defined once: every column with its type and meaning.
//!
//! Each table starts with the [`CommonColumns`] shared by every log family, then
//! its typed family columns. The column structs double as the Arrow builders the
//! parsers append to, so a schema and its builder can never drift apart.
//! `docs/SCHEMA.md` is generated from these definitions (see `schema_markdown`).

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Float64Builder, Int32Builder,
    Int64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, OnceLock};

use crate::family::Table;

/// The time zone of every timestamp column.
pub const UTC: &str = "UTC";

/// An Arrow builder that can stand for one column of a table.
pub trait ColumnBuilder: ArrayBuilder {
    /// A builder for `rows` rows and, for variable-width columns, `bytes`
    /// bytes of values (a guess of 16 per row when `None`).
    fn with_capacity(rows: usize, bytes: Option<usize>) -> Self;
    fn data_type() -> DataType;
}

macro_rules! impl_column_builder {
    ($B:ty, $dt:expr, |$n:ident, $b:pat_param| $new:expr) => {
        impl ColumnBuilder for $B {
            fn with_capacity($n: usize, $b: Option<usize>) -> Self {
                $new
            }
            fn data_type() -> DataType {
                $dt
            }
        }
    };
}

impl_column_builder!(StringBuilder, DataType::Utf8, |n, bytes| {
    StringBuilder::with_capacity(n, bytes.unwrap_or(n * 16))
});
impl_column_builder!(BinaryBuilder, DataType::Binary, |n, bytes| {
    BinaryBuilder::with_capacity(n, bytes.unwrap_or(n * 16))
});
impl_column_builder!(BooleanBuilder, DataType::Boolean, |n, _| {
    BooleanBuilder::with_capacity(n)
});
impl_column_builder!(Int32Builder, DataType::Int32, |n, _| {
    Int32Builder::with_capacity(n)
});
impl_column_builder!(Int64Builder, DataType::Int64, |n, _| {
    Int64Builder::with_capacity(n)
});
impl_column_builder!(Float64Builder, DataType::Float64, |n, _| {
    Float64Builder::with_capacity(n)
});
impl_column_builder!(
    TimestampMillisecondBuilder,
    DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into())),
    |n, _| TimestampMillisecondBuilder::with_capacity(n).with_timezone(UTC)
);

/// A list of strings (WAF labels, rule ids): queried with `array_has`.
pub type StringListBuilder = ListBuilder<StringBuilder>;

impl ColumnBuilder for StringListBuilder {
    fn with_capacity(rows: usize, bytes: Option<usize>) -> Self {
        ListBuilder::with_capacity(
            StringBuilder::with_capacity(rows, bytes.unwrap_or(rows * 16)),
            rows,
        )
    }
    fn data_type() -> DataType {
        DataType::new_list(DataType::Utf8, true)
    }
}

/// How big a table's last batch was: its rows and each column's value bytes.
/// The next batch's builders start at that size, so they are not grown (and
/// their buffers copied) a dozen times per batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSize {
    pub rows: usize,
    /// Value bytes per column, in schema order (0 for fixed-width columns).
    pub column_bytes: Vec<usize>,
}

impl BatchSize {
    /// Measures a finished batch's columns.
    pub fn of(rows: usize, arrays: &[ArrayRef]) -> Self {
        use arrow::array::AsArray;
        let column_bytes = arrays
            .iter()
            .map(|a| match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().values().len(),
                DataType::Binary => a.as_binary::<i32>().values().len(),
                _ => 0,
            })
            .collect();
        BatchSize { rows, column_bytes }
    }

    /// How many of `rows` rows a batch can hold before its widest column
    /// reaches `batch_bytes` (a batch is flushed at that many bytes of raw
    /// records, so builders sized for more rows would never fill: one
    /// outsized record would otherwise size every column of the next batch
    /// for thousands of records like it).
    pub fn rows_within(&self, rows: usize, batch_bytes: usize) -> usize {
        let widest = self.column_bytes.iter().copied().max().unwrap_or(0);
        let per_row = widest / self.rows.max(1);
        if per_row == 0 {
            return rows;
        }
        rows.min(batch_bytes / per_row + 1)
    }

    /// The capacity to give column `index` of a batch of `rows` rows: this
    /// size scaled to `rows`, with an eighth more for variation.
    /// Never more than [`MOST_PRESIZED_COLUMN_BYTES`].
    pub fn column_capacity(&self, index: usize, rows: usize) -> Option<usize> {
        let bytes = *self.column_bytes.get(index)?;
        let scaled = bytes as u128 * rows as u128 / self.rows.max(1) as u128;
        let scaled = scaled.min(MOST_PRESIZED_COLUMN_BYTES as u128) as usize;
        Some(scaled.saturating_add(scaled / 8) + 64)
    }
}

/// The most a column's builder is given up front. A batch holds about 8 MB
/// of raw records, but one outsized record (a dead letter keeps up to the
/// document limit, 64 MiB) in a batch of one row, scaled to the next
/// batch's thousand rows, asked for tens of gigabytes and aborted the
/// process; past this, builders grow as they fill.
pub const MOST_PRESIZED_COLUMN_BYTES: usize = 16 << 20;

/// Declares a set of columns: a struct of builders, its Arrow fields and docs.
macro_rules! columns {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $Name:ident {
            $( #[doc = $doc:literal] $field:ident : $B:ty ),* $(,)?
        }
    ) => {
        $(#[doc = $sdoc])*
        pub struct $Name {
            $( #[doc = $doc] pub $field: $B, )*
        }

        impl $Name {
            pub fn with_capacity(rows: usize) -> Self {
                Self::with_size(rows, None, 0)
            }

            /// Builders for `rows` rows sized like `last` (a batch whose
            /// columns from `first_column` on are these), else by a guess.
            pub fn with_size(rows: usize, last: Option<&BatchSize>, first_column: usize) -> Self {
                let mut index = first_column;
                let mut next = || {
                    index += 1;
                    last.and_then(|l| l.column_capacity(index - 1, rows))
                };
                Self { $( $field: <$B as ColumnBuilder>::with_capacity(rows, next()), )* }
            }

            /// How many columns this set has.
            pub const COUNT: usize = [$(stringify!($field)),*].len();

            /// The Arrow fields, in order, each carrying its doc as metadata.
            pub fn fields() -> Vec<Field> {
                vec![ $( column_field::<$B>(stringify!($field), $doc), )* ]
            }

            /// `(name, type, doc)` of each column, in order.
            pub fn docs() -> Vec<(&'static str, DataType, &'static str)> {
                vec![ $( (stringify!($field), <$B as ColumnBuilder>::data_type(), $doc.trim()), )* ]
            }

            /// Moves the built columns out, leaving the builders empty.
            pub fn finish_into(&mut self, out: &mut Vec<ArrayRef>) {
                $( out.push(ArrayBuilder::finish(&mut self.$field)); )*
            }
        }
    };
}

fn column_field<B: ColumnBuilder>(name: &str, doc: &str) -> Field {
    Field::new(name, B::data_type(), true).with_metadata(
        [("doc".to_string(), doc.trim().to_string())]
            .into_iter()
            .collect(),
    )
}

columns! {
    /// Columns every log family's table starts with, so that one query can follow
    /// an IP or a principal across CloudTrail, API Gateway, Lambda and WAF.
    pub struct CommonColumns {
        /// When the event happened (UTC, ms). See `time_source` for where it came from.
        event_time: TimestampMillisecondBuilder,
        /// Where `event_time` came from: `record`, `wrapper` (e.g. `@timestamp`), `envelope` (the log event's timestamp) or `ingest` (none found: the time of ingestion).
        time_source: StringBuilder,
        /// The record's own id: CloudTrail `eventID`, API Gateway `requestId`, WAF `httpRequest.requestId`, the CloudWatch Logs event id for Lambda.
        event_id: StringBuilder,
        /// The AWS account the event belongs to.
        account_id: StringBuilder,
        /// The AWS region of the event.
        region: StringBuilder,
        /// The client address as logged (kept as text: CloudTrail also logs service names such as `AWS Internal`).
        src_ip: StringBuilder,
        /// Who acted: an IAM ARN or principal, the API caller or user, or the Lambda function (null for WAF, which does not know the caller).
        actor: StringBuilder,
        /// What was done: `service:EventName` for CloudTrail, `METHOD route` for API Gateway, the record type for Lambda, the terminating action for WAF (`ALLOW`, `BLOCK`, `CAPTCHA`, `CHALLENGE`).
        action: StringBuilder,
        /// `success`, `failure` or `unknown`; for WAF, the fate of the request: `allowed`, `blocked` or `challenged` (CAPTCHA or Challenge).
        outcome: StringBuilder,
        /// Where the record came from: log group/stream, S3 key, or file path.
        source_ref: StringBuilder,
        /// The original record, unmodified, so nothing is lost.
        raw: StringBuilder,
    }
}

columns! {
    /// CloudTrail's typed columns (after the common ones).
    pub struct CloudTrailColumns {
        /// `eventVersion`.
        event_version: StringBuilder,
        /// `eventSource`, e.g. `iam.amazonaws.com`.
        event_source: StringBuilder,
        /// `eventName`, e.g. `AttachUserPolicy` (for Insight events, the name the insight is about).
        event_name: StringBuilder,
        /// `eventType`: `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, `AwsCloudTrailInsight`, ...
        event_type: StringBuilder,
        /// `eventCategory`: `Management`, `Data`, `Insight`, ...
        event_category: StringBuilder,
        /// `apiVersion`.
        api_version: StringBuilder,
        /// `userAgent`.
        user_agent: StringBuilder,
        /// `errorCode`, e.g. `AccessDenied` (null on success).
        error_code: StringBuilder,
        /// `errorMessage`.
        error_message: StringBuilder,
        /// `requestID`.
        request_id: StringBuilder,
        /// `readOnly`.
        read_only: BooleanBuilder,
        /// `managementEvent`.
        management_event: BooleanBuilder,
        /// `recipientAccountId`.
        recipient_account_id: StringBuilder,
        /// `sharedEventID`.
        shared_event_id: StringBuilder,
        /// `vpcEndpointId`.
        vpc_endpoint_id: StringBuilder,
        /// `sessionCredentialFromConsole`.
        session_credential_from_console: BooleanBuilder,
        /// `userIdentity.type`: `IAMUser`, `AssumedRole`, `Root`, `AWSService`, `FederatedUser`, `Unknown`, ... (null when absent).
        user_identity_type: StringBuilder,
        /// `userIdentity.principalId`.
        user_identity_principal_id: StringBuilder,
        /// `userIdentity.arn`.
        user_identity_arn: StringBuilder,
        /// `userIdentity.accountId`.
        user_identity_account_id: StringBuilder,
        /// `userIdentity.accessKeyId`.
        user_identity_access_key_id: StringBuilder,
        /// `userIdentity.userName`.
        user_identity_user_name: StringBuilder,
        /// `userIdentity.invokedBy`.
        user_identity_invoked_by: StringBuilder,
        /// `userIdentity.identityProvider` (SAML / web identity).
        user_identity_identity_provider: StringBuilder,
        /// `userIdentity.sessionContext.sessionIssuer.type`.
        user_identity_session_issuer_type: StringBuilder,
        /// `userIdentity.sessionContext.sessionIssuer.arn`.
        user_identity_session_issuer_arn: StringBuilder,
        /// `userIdentity.sessionContext.sessionIssuer.userName`.
        user_identity_session_issuer_user_name: StringBuilder,
        /// `userIdentity.sessionContext.attributes.mfaAuthenticated`.
        user_identity_mfa_authenticated: BooleanBuilder,
        /// `userIdentity.sessionContext.attributes.creationDate`.
        user_identity_session_created: TimestampMillisecondBuilder,
        /// `userIdentity.sessionContext.sourceIdentity`.
        user_identity_source_identity: StringBuilder,
        /// The whole `userIdentity` object as JSON text.
        user_identity: StringBuilder,
        /// `requestParameters` as JSON text, unmodified.
        request_parameters: StringBuilder,
        /// `responseElements` as JSON text, unmodified.
        response_elements: StringBuilder,
        /// `additionalEventData` as JSON text.
        additional_event_data: StringBuilder,
        /// `resources` as JSON text.
        resources: StringBuilder,
        /// `serviceEventDetails` as JSON text (service events).
        service_event_details: StringBuilder,
        /// `insightDetails` as JSON text (Insight events).
        insight_details: StringBuilder,
        /// `tlsDetails.tlsVersion`.
        tls_version: StringBuilder,
        /// `tlsDetails.cipherSuite`.
        tls_cipher_suite: StringBuilder,
        /// `tlsDetails.clientProvidedHostHeader`.
        tls_client_provided_host_header: StringBuilder,
    }
}

columns! {
    /// API Gateway access-log columns (REST, HTTP and WebSocket APIs).
    pub struct ApiGatewayColumns {
        /// The log's format: `json` or `clf`.
        log_format: StringBuilder,
        /// `$context.apiId`.
        api_id: StringBuilder,
        /// `$context.stage`.
        stage: StringBuilder,
        /// `$context.domainName`.
        domain_name: StringBuilder,
        /// `$context.httpMethod`.
        http_method: StringBuilder,
        /// `$context.resourcePath` (REST).
        resource_path: StringBuilder,
        /// `$context.path` (the concrete path requested).
        path: StringBuilder,
        /// `$context.routeKey` (HTTP / WebSocket).
        route_key: StringBuilder,
        /// `$context.protocol`.
        protocol: StringBuilder,
        /// `$context.status`: the response status code.
        status: Int32Builder,
        /// `$context.responseLength` in bytes.
        response_length: Int64Builder,
        /// `$context.responseLatency` / `$context.integrationLatency` ... total latency in ms.
        response_latency_ms: Float64Builder,
        /// `$context.integrationLatency` (or `integration.latency`) in ms.
        integration_latency_ms: Float64Builder,
        /// `$context.integrationStatus` (or `integration.status`).
        integration_status: Int32Builder,
        /// `$context.integrationErrorMessage` / `integration.error`.
        integration_error: StringBuilder,
        /// `$context.identity.userAgent`.
        user_agent: StringBuilder,
        /// `$context.identity.caller`.
        caller: StringBuilder,
        /// `$context.identity.user`.
        user: StringBuilder,
        /// `$context.identity.userArn`.
        user_arn: StringBuilder,
        /// `$context.authorizer.principalId` / claims subject, when logged.
        principal_id: StringBuilder,
        /// `$context.authorizer.error` / `authorize.error` / `authenticate.error`.
        authorizer_error: StringBuilder,
        /// `$context.waf.error` / `wafResponseCode`.
        waf_error: StringBuilder,
        /// `$context.error.message`.
        error_message: StringBuilder,
        /// `$context.error.responseType`, e.g. `UNAUTHORIZED`, `ACCESS_DENIED`, `THROTTLED`.
        error_response_type: StringBuilder,
        /// `$context.extendedRequestId`.
        extended_request_id: StringBuilder,
        /// `$context.connectionId` (WebSocket).
        connection_id: StringBuilder,
        /// `$context.eventType` (WebSocket: `CONNECT`, `MESSAGE`, `DISCONNECT`).
        websocket_event_type: StringBuilder,
        /// `$context.identity.apiKeyId` / `apiKey`.
        api_key_id: StringBuilder,
        /// `$context.requestId` (the same as `event_id`): what a WAF record's `request_id` joins on.
        request_id: StringBuilder,
        /// `$context.integration.requestId`: for a Lambda integration, the invocation's request id (joins `lambda.request_id`).
        integration_request_id: StringBuilder,
    }
}

columns! {
    /// Lambda log columns: platform records (START/END/REPORT, JSON `platform.*`) and application logs.
    pub struct LambdaColumns {
        /// The function, from the log group `/aws/lambda/<name>` (or the record).
        function_name: StringBuilder,
        /// The function version (`START ... Version:`).
        function_version: StringBuilder,
        /// `text` or `json`: the function's log format.
        log_format: StringBuilder,
        /// `start`, `end`, `report`, `init_start`, `timeout`, `runtime_error`, `app`, or the JSON `type` (`platform.report`, ...).
        record_type: StringBuilder,
        /// The invocation's request id.
        request_id: StringBuilder,
        /// The log level (`INFO`, `ERROR`, ...) for application logs.
        level: StringBuilder,
        /// The log message (application logs, errors, timeouts), multi-line stack traces kept whole.
        message: StringBuilder,
        /// REPORT `Duration` / `metrics.durationMs`.
        duration_ms: Float64Builder,
        /// REPORT `Billed Duration` / `metrics.billedDurationMs`.
        billed_duration_ms: Int64Builder,
        /// REPORT `Memory Size` / `metrics.memorySizeMB`.
        memory_size_mb: Int64Builder,
        /// REPORT `Max Memory Used` / `metrics.maxMemoryUsedMB`.
        max_memory_used_mb: Int64Builder,
        /// REPORT `Init Duration` / `metrics.initDurationMs` (cold starts only).
        init_duration_ms: Float64Builder,
        /// Invocation status: `success`, `timeout`, `error`, `failure` (REPORT `Status:` or JSON `status`).
        status: StringBuilder,
        /// The error type (`Runtime.ExitError`, `Sandbox.Timedout`, an exception class, ...).
        error_type: StringBuilder,
        /// The X-Ray trace id, when logged.
        xray_trace_id: StringBuilder,
        /// `INIT_START` / `platform.initStart` runtime version.
        runtime_version: StringBuilder,
    }
}

columns! {
    /// AWS WAF (v2) web ACL traffic logs: the firewall in front of an API stage, load balancer or distribution.
    pub struct WafColumns {
        /// `formatVersion`.
        format_version: Int32Builder,
        /// `webaclId`: the web ACL's ARN.
        web_acl_id: StringBuilder,
        /// The web ACL's name, from its ARN.
        web_acl_name: StringBuilder,
        /// `terminatingRuleId`: the rule that decided (`Default_Action` when none matched).
        terminating_rule_id: StringBuilder,
        /// `terminatingRuleType`: `REGULAR`, `RATE_BASED`, `GROUP` or `MANAGED_RULE_GROUP`.
        terminating_rule_type: StringBuilder,
        /// The rule group holding the terminating rule (`ruleGroupList[].ruleGroupId`, e.g. `AWS#AWSManagedRulesSQLiRuleSet`).
        terminating_rule_group_id: StringBuilder,
        /// The terminating rule inside that group (`ruleGroupList[].terminatingRule.ruleId`, e.g. `SQLi_QUERYARGUMENTS`).
        terminating_group_rule_id: StringBuilder,
        /// What the terminating rule matched (`terminatingRuleMatchDetails`, or the group rule's `ruleMatchDetails`), JSON text: condition type, location, matched data.
        terminating_rule_match_details: StringBuilder,
        /// The rule groups in which any rule matched, terminating or not.
        matched_rule_groups: StringListBuilder,
        /// Rules that matched without terminating (COUNT, or CAPTCHA/Challenge with a valid token), top level and in rule groups.
        non_terminating_rule_ids: StringListBuilder,
        /// `nonTerminatingMatchingRules`, JSON text.
        non_terminating_matching_rules: StringBuilder,
        /// `ruleGroupList`, JSON text: every rule group evaluated, with its terminating and non-terminating matches, excluded rules and match details.
        rule_group_list: StringBuilder,
        /// The first rate-based rule that applied (`rateBasedRuleList[].rateBasedRuleName`).
        rate_based_rule_name: StringBuilder,
        /// Its aggregation key (`limitKey`: `IP`, `FORWARDED_IP`, `CUSTOMKEYS`, ...).
        rate_limit_key: StringBuilder,
        /// `rateBasedRuleList`, JSON text (limits, windows, custom key values).
        rate_based_rule_list: StringBuilder,
        /// `httpSourceName`: `APIGW`, `ALB`, `CF`, `APPSYNC`, `COGNITOIDP`, ...
        http_source_name: StringBuilder,
        /// `httpSourceId`: for API Gateway `account:apiId:stage`, for a load balancer its ARN, for CloudFront the distribution id.
        http_source_id: StringBuilder,
        /// The API Gateway API id, from `httpSourceId` (joins `apigateway.api_id`).
        api_id: StringBuilder,
        /// The API Gateway stage, from `httpSourceId` (joins `apigateway.stage`).
        stage: StringBuilder,
        /// `httpRequest.country`: ISO country code of the client (null when unknown).
        country: StringBuilder,
        /// `httpRequest.clientAsn` (logged when an ASN match statement is in use).
        client_asn: Int64Builder,
        /// `httpRequest.uri`.
        uri: StringBuilder,
        /// `httpRequest.args`: the query string.
        args: StringBuilder,
        /// `httpRequest.httpMethod`.
        http_method: StringBuilder,
        /// `httpRequest.httpVersion`.
        http_version: StringBuilder,
        /// `httpRequest.scheme`.
        scheme: StringBuilder,
        /// `httpRequest.fragment`.
        fragment: StringBuilder,
        /// `httpRequest.host`, else the `Host` header.
        host: StringBuilder,
        /// `httpRequest.requestId`: for API Gateway, its `$context.requestId` (joins `apigateway.request_id`).
        request_id: StringBuilder,
        /// The `User-Agent` header.
        user_agent: StringBuilder,
        /// `httpRequest.headers`, JSON text (`[{"name":..,"value":..}]`), whole: credentials in it are redacted in findings.
        headers: StringBuilder,
        /// `labels[].name`: labels the rules added (`awswaf:managed:aws:bot-control:...`, `awswaf:managed:aws:anonymous-ip-list:...`).
        labels: StringListBuilder,
        /// `ja3Fingerprint`: the TLS client hello's JA3 hash.
        ja3_fingerprint: StringBuilder,
        /// `ja4Fingerprint`.
        ja4_fingerprint: StringBuilder,
        /// `captchaResponse.responseCode` (405 when a CAPTCHA was required and not solved).
        captcha_response_code: Int32Builder,
        /// `captchaResponse.failureReason`: `TOKEN_MISSING`, `TOKEN_EXPIRED`, `TOKEN_INVALID`, `TOKEN_DOMAIN_MISMATCH`.
        captcha_failure_reason: StringBuilder,
        /// `captchaResponse.solveTimestamp`: when the client last solved a CAPTCHA.
        captcha_solve_time: TimestampMillisecondBuilder,
        /// `challengeResponse.responseCode` (202 when a challenge was served).
        challenge_response_code: Int32Builder,
        /// `challengeResponse.failureReason`.
        challenge_failure_reason: StringBuilder,
        /// `challengeResponse.solveTimestamp`.
        challenge_solve_time: TimestampMillisecondBuilder,
        /// `requestHeadersInserted`, JSON text: headers a custom ALLOW/COUNT action added.
        request_headers_inserted: StringBuilder,
        /// `responseCodeSent`: the status code of a custom response.
        response_code_sent: Int32Builder,
        /// `oversizeFields`: parts of the request too large for WAF to inspect whole (`REQUEST_BODY`, `REQUEST_JSON_BODY`, `REQUEST_HEADERS`, `REQUEST_COOKIES`).
        oversize_fields: StringListBuilder,
        /// `requestBodySize` in bytes.
        request_body_size: Int64Builder,
        /// `requestBodySizeInspectedByWAF` in bytes.
        request_body_size_inspected: Int64Builder,
        /// `cfDistributionTenantId` (CloudFront distribution tenants).
        cf_distribution_tenant_id: StringBuilder,
    }
}

columns! {
    /// The dead-letter table: every record that could not be parsed, with why.
    pub struct DeadLetterColumns {
        /// When the record was dead-lettered (UTC, ms).
        event_time: TimestampMillisecondBuilder,
        /// Where the record came from: log group/stream, S3 key, or file path.
        source_ref: StringBuilder,
        /// The record's position in its source (0-based line, element or log event index), when known.
        record_index: Int64Builder,
        /// The family the record was taken for, when known.
        family: StringBuilder,
        /// A short machine-readable reason: `invalid_json`, `invalid_utf8`, `record_too_large`, `unrecognized_format`, `bad_envelope`, `decompression`, `truncated_input`, `missing_field`, ...
        reason: StringBuilder,
        /// A human-readable explanation of the failure.
        error: StringBuilder,
        /// The record as text (invalid UTF-8 replaced by U+FFFD); may be cut at the record size limit.
        raw: StringBuilder,
        /// The record's exact bytes (cut at the record size limit).
        raw_bytes: BinaryBuilder,
        /// The record's full length in bytes, when known (more than `raw_bytes` holds if it was cut).
        raw_length: Int64Builder,
    }
}

columns! {
    /// The findings table: what the detection rules found, written by `vigil-detect`.
    /// A finding updated later (more events, a later `last_seen`) is written again
    /// with the same `finding_id`: the row with the latest `detected_at` is current.
    pub struct FindingsColumns {
        /// When the finding's first event happened (first seen, UTC, ms); the partition time.
        event_time: TimestampMillisecondBuilder,
        /// When its last event happened (last seen).
        last_seen: TimestampMillisecondBuilder,
        /// Deterministic id: a hash of the rule, the dedup key and the dedup period the finding began in.
        finding_id: StringBuilder,
        /// The rule that fired.
        rule_id: StringBuilder,
        /// The rule's title with the finding's values filled in.
        title: StringBuilder,
        /// `info`, `low`, `medium`, `high` or `critical`.
        severity: StringBuilder,
        /// `new` (first alert) or `updated` (same rule and dedup key within the dedup period: no new alert).
        status: StringBuilder,
        /// Distinct events behind the finding (the largest count of one window for threshold rules).
        event_count: Int64Builder,
        /// The values of the rule's dedup columns, joined by `|`.
        dedup_key: StringBuilder,
        /// Entity: the principal (IAM ARN or user name, API caller).
        actor: StringBuilder,
        /// Entity: the source IP address.
        src_ip: StringBuilder,
        /// Entity: the AWS account.
        account_id: StringBuilder,
        /// Entity: the region.
        region: StringBuilder,
        /// Entity: the resource acted on (bucket, role, trail, route, function).
        resource: StringBuilder,
        /// MITRE ATT&CK and other tags, comma-separated.
        tags: StringBuilder,
        /// Start of the window the rule ran over (UTC, ms).
        window_start: TimestampMillisecondBuilder,
        /// End (exclusive) of the window the rule ran over.
        window_end: TimestampMillisecondBuilder,
        /// Every column the rule's query returned, as a JSON object.
        fields: StringBuilder,
        /// Up to three sample events (raw records, secrets redacted), as a JSON array of strings.
        samples: StringBuilder,
        /// When the detection ran (UTC, ms).
        detected_at: TimestampMillisecondBuilder,
        /// What the context said about the finding, as a JSON object: `src_ip` (GeoIP `country`, `city`, `asn`, `as_org`), `account` (`name`, `environment`), `owner` (`owner`, `team`); `{}` when nothing is known.
        context: StringBuilder,
    }
}

fn build_schema(common: bool, family: Vec<Field>) -> SchemaRef {
    let mut fields = if common {
        CommonColumns::fields()
    } else {
        Vec::new()
    };
    fields.extend(family);
    Arc::new(Schema::new(fields))
}

/// The Arrow schema of a lake table.
pub fn schema(table: Table) -> SchemaRef {
    static SCHEMAS: OnceLock<[SchemaRef; 6]> = OnceLock::new();
    let s = SCHEMAS.get_or_init(|| {
        [
            build_schema(true, CloudTrailColumns::fields()),
            build_schema(true, ApiGatewayColumns::fields()),
            build_schema(true, LambdaColumns::fields()),
            build_schema(true, WafColumns::fields()),
            build_schema(false, DeadLetterColumns::fields()),
            build_schema(false, FindingsColumns::fields()),
        ]
    });
    match table {
        Table::CloudTrail => s[0].clone(),
        Table::ApiGateway => s[1].clone(),
        Table::Lambda => s[2].clone(),
        Table::Waf => s[3].clone(),
        Table::DeadLetter => s[4].clone(),
        Table::Findings => s[5].clone(),
    }
}

/// The partition columns every table is laid out by (Hive style).
pub const PARTITION_COLUMNS: [&str; 2] = ["date", "hour"];

fn type_name(dt: &DataType) -> &'static str {
    match dt {
        DataType::Utf8 => "string",
        DataType::Binary => "binary",
        DataType::Boolean => "boolean",
        DataType::Int32 => "int32",
        DataType::Int64 => "int64",
        DataType::Float64 => "float64",
        DataType::Timestamp(_, _) => "timestamp(ms, UTC)",
        DataType::List(_) => "list<string>",
        _ => "other",
    }
}

/// Example values for the schema reference: `(table, column) → value`.
pub type Examples = std::collections::BTreeMap<(Table, String), String>;

/// The schema reference as Markdown (the body of `docs/SCHEMA.md`), with an
/// example value per column where `examples` has one.
pub fn schema_markdown(examples: &Examples) -> String {
    let mut out = String::from(
        "# Lake schemas\n\n<!-- Generated from ingest/src/schema.rs and sample-logs/ by \
         `VIGIL_UPDATE_DOCS=1 cargo test -p vigil-ingest --test schema_doc`; do not edit. -->\n\n\
         Every table lives at `<lake>/<table>/date=YYYY-MM-DD/hour=HH/<batch-id>.parquet` \
         (Hive partition columns `date` and `hour`, from `event_time`, UTC). The examples \
         are one row of each table, ingested from `sample-logs/`.\n",
    );
    let section =
        |out: &mut String, title: &str, table: Table, cols: Vec<(&str, DataType, &str)>| {
            out.push_str(&format!(
                "\n## {title}\n\n| column | type | meaning | example |\n|---|---|---|---|\n"
            ));
            for (name, dt, doc) in cols {
                let example = examples
                    .get(&(table, name.to_string()))
                    .map(|v| {
                        let v: String = v.chars().take(80).collect();
                        format!(
                            "`{}`",
                            v.replace('|', "\\|").replace('`', "'").replace('\n', " ")
                        )
                    })
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| `{name}` | {} | {} | {example} |\n",
                    type_name(&dt),
                    doc.replace('|', "\\|")
                ));
            }
        };
    section(
        &mut out,
        "Common columns (first in `cloudtrail`, `apigateway`, `lambda`, `waf`; example from `cloudtrail`)",
        Table::CloudTrail,
        CommonColumns::docs(),
    );
    section(
        &mut out,
        "`cloudtrail`",
        Table::CloudTrail,
        CloudTrailColumns::docs(),
    );
    section(
        &mut out,
        "`apigateway`",
        Table::ApiGateway,
        ApiGatewayColumns::docs(),
    );
    section(&mut out, "`lambda`", Table::Lambda, LambdaColumns::docs());
    section(&mut out, "`waf`", Table::Waf, WafColumns::docs());
    section(
        &mut out,
        "`deadletter`",
        Table::DeadLetter,
        DeadLetterColumns::docs(),
    );
    section(
        &mut out,
        "`findings`",
        Table::Findings,
        FindingsColumns::docs(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outsized_row_does_not_size_the_next_batch_a_thousand_times_over() {
        // A batch of one 60 MB dead letter, then builders for 1,024 rows.
        let size = BatchSize {
            rows: 1,
            column_bytes: vec![60 << 20],
        };
        let capacity = size.column_capacity(0, 1024).unwrap();
        assert!(
            capacity <= MOST_PRESIZED_COLUMN_BYTES * 9 / 8 + 64,
            "{capacity}"
        );
    }

    #[test]
    fn builders_are_sized_for_the_rows_a_batch_can_hold() {
        // A batch of one 1 MB record: a batch flushed at 8 MB holds about 9
        // such rows, not the 4,096 a builder would otherwise be given.
        let size = BatchSize {
            rows: 1,
            column_bytes: vec![1 << 20, 100, 0],
        };
        assert_eq!(size.rows_within(4096, 8 << 20), 9);
        let capacity = size.column_capacity(0, size.rows_within(4096, 8 << 20));
        assert!(capacity.unwrap() <= (9 << 20) * 9 / 8 + 64);
        // Small records: the rows asked for.
        let small = BatchSize {
            rows: 1000,
            column_bytes: vec![500_000, 0],
        };
        assert_eq!(small.rows_within(4096, 8 << 20), 4096);
        // Fixed-width columns only: the rows asked for.
        let fixed = BatchSize {
            rows: 10,
            column_bytes: vec![0, 0],
        };
        assert_eq!(fixed.rows_within(4096, 1), 4096);
    }

    #[test]
    fn a_batch_size_scales_to_the_rows_asked_for() {
        let text: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["abc", "de"]));
        let number: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![1, 2]));
        let size = BatchSize::of(2, &[text, number]);
        assert_eq!(size.column_bytes, vec![5, 0]);
        // Twice the rows: twice the bytes, an eighth more, and a little slack.
        assert_eq!(size.column_capacity(0, 4), Some(10 + 1 + 64));
        assert_eq!(size.column_capacity(1, 4), Some(64));
        assert_eq!(size.column_capacity(2, 4), None);
    }

    #[test]
    fn every_table_starts_with_the_common_columns() {
        let common: Vec<String> = CommonColumns::fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for table in Table::LOGS {
            let schema = schema(table);
            let names: Vec<&String> = schema
                .fields()
                .iter()
                .map(|f| f.name())
                .take(common.len())
                .collect();
            assert_eq!(names, common.iter().collect::<Vec<_>>(), "{table}");
            assert_eq!(
                schema.field_with_name("event_time").unwrap().data_type(),
                &DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
            );
        }
    }

    #[test]
    fn column_names_are_unique_and_documented() {
        for table in Table::INGESTED {
            let schema = schema(table);
            let mut seen = std::collections::HashSet::new();
            for f in schema.fields() {
                assert!(
                    seen.insert(f.name().clone()),
                    "duplicate column {} in {table}",
                    f.name()
                );
                assert!(!f.metadata()["doc"].is_empty(), "{} undocumented", f.name());
                assert!(!PARTITION_COLUMNS.contains(&f.name().as_str()));
            }
        }
    }
}
