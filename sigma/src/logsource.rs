//! Which lake table a rule's `logsource` reads, and where each Sigma field
//! lives in it: a typed column, or a path into a JSON text column.

use crate::error::Problem;

/// The lake tables Sigma rules can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CloudTrail,
    ApiGateway,
    Lambda,
}

impl Source {
    /// `product: aws` with `service: cloudtrail | apigateway | lambda`.
    pub fn of(
        product: Option<&str>,
        service: Option<&str>,
        category: Option<&str>,
    ) -> Result<Source, Problem> {
        let lower = |s: Option<&str>| s.map(|s| s.to_ascii_lowercase());
        match (lower(product).as_deref(), lower(service).as_deref()) {
            (Some("aws"), Some("cloudtrail")) => Ok(Source::CloudTrail),
            (Some("aws"), Some("apigateway")) => Ok(Source::ApiGateway),
            (Some("aws"), Some("lambda")) => Ok(Source::Lambda),
            _ => Err(format!(
                "logsource product {product:?} service {service:?} category {category:?} is not a Vigil table (product aws, service cloudtrail, apigateway or lambda)"
            )),
        }
    }

    fn lake_table(self) -> vigil_ingest::Table {
        match self {
            Source::CloudTrail => vigil_ingest::Table::CloudTrail,
            Source::ApiGateway => vigil_ingest::Table::ApiGateway,
            Source::Lambda => vigil_ingest::Table::Lambda,
        }
    }

    /// A column of the table's schema, by its Vigil name.
    fn schema_column(self, name: &str) -> Option<FieldRef> {
        use arrow::datatypes::DataType;
        let schema = vigil_ingest::schema::schema(self.lake_table());
        let field = schema.field_with_name(name).ok()?;
        let kind = match field.data_type() {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => Kind::Text,
            DataType::Boolean => Kind::Boolean,
            t if t.is_numeric() => Kind::Number,
            _ => Kind::Other,
        };
        Some(FieldRef::Column {
            column: field.name().clone(),
            kind,
        })
    }

    pub fn table(self) -> &'static str {
        match self {
            Source::CloudTrail => "cloudtrail",
            Source::ApiGateway => "apigateway",
            Source::Lambda => "lambda",
        }
    }

    /// The Sigma fields kept in typed columns: (field, column, kind).
    pub fn typed_fields(self) -> &'static [(&'static str, &'static str, Kind)] {
        match self {
            Source::CloudTrail => CLOUDTRAIL_FIELDS,
            Source::ApiGateway => APIGATEWAY_FIELDS,
            Source::Lambda => LAMBDA_FIELDS,
        }
    }

    /// The record's objects kept whole as JSON text: (field, column).
    pub fn json_fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Source::CloudTrail => CLOUDTRAIL_JSON,
            Source::ApiGateway | Source::Lambda => &[],
        }
    }

    /// Where `field` is, or why it is nowhere.
    pub fn resolve(self, field: &str) -> Result<FieldRef, Problem> {
        let table = self.table();
        let typed = match self {
            Source::CloudTrail => CLOUDTRAIL_FIELDS,
            Source::ApiGateway => APIGATEWAY_FIELDS,
            Source::Lambda => LAMBDA_FIELDS,
        };
        if let Some((_, column, kind)) = typed.iter().find(|(f, _, _)| *f == field) {
            return Ok(FieldRef::Column {
                column: column.to_string(),
                kind: *kind,
            });
        }
        // Vigil's own column names work too (e.g. `src_ip`, `actor`).
        if let Some((_, column, kind)) = COMMON_COLUMNS
            .iter()
            .chain(typed.iter())
            .find(|(_, c, _)| *c == field)
        {
            return Ok(FieldRef::Column {
                column: column.to_string(),
                kind: *kind,
            });
        }
        if let Some(found) = self.schema_column(field) {
            return Ok(found);
        }
        if self == Source::CloudTrail {
            let path: Vec<String> = field.split('.').map(str::to_string).collect();
            let (head, rest) = match field.split_once('.') {
                Some((head, rest)) => (head, Some(rest)),
                None => (field, None),
            };
            if let Some((_, column)) = CLOUDTRAIL_JSON.iter().find(|(prefix, _)| *prefix == head) {
                return Ok(match rest {
                    None => FieldRef::Column {
                        column: column.to_string(),
                        kind: Kind::Text,
                    },
                    Some(rest) => FieldRef::Json {
                        column,
                        path: rest.split('.').map(str::to_string).collect(),
                    },
                });
            }
            if CLOUDTRAIL_RECORD_KEYS.contains(&head) {
                return Ok(FieldRef::Json {
                    column: "raw",
                    path,
                });
            }
        }
        Err(format!(
            "field {field:?} is not in the {table} table (see docs/RULES.md, Sigma field mapping)"
        ))
    }
}

/// What a typed column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Boolean,
    Number,
    /// Anything else (a timestamp): matched as its text.
    Other,
}

/// Where a field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    Column {
        column: String,
        kind: Kind,
    },
    /// A path into a JSON text column; arrays on the way are looked into.
    Json {
        column: &'static str,
        path: Vec<String>,
    },
}

type Typed = (&'static str, &'static str, Kind);

/// Columns every table has.
const COMMON_COLUMNS: &[Typed] = &[
    ("", "event_id", Kind::Text),
    ("", "account_id", Kind::Text),
    ("", "region", Kind::Text),
    ("", "src_ip", Kind::Text),
    ("", "actor", Kind::Text),
    ("", "action", Kind::Text),
    ("", "outcome", Kind::Text),
    ("", "source_ref", Kind::Text),
    ("", "raw", Kind::Text),
];

/// CloudTrail record fields kept verbatim in typed columns.
const CLOUDTRAIL_FIELDS: &[Typed] = &[
    ("eventVersion", "event_version", Kind::Text),
    ("eventSource", "event_source", Kind::Text),
    ("eventName", "event_name", Kind::Text),
    ("eventType", "event_type", Kind::Text),
    ("eventCategory", "event_category", Kind::Text),
    ("eventID", "event_id", Kind::Text),
    ("apiVersion", "api_version", Kind::Text),
    ("awsRegion", "region", Kind::Text),
    ("sourceIPAddress", "src_ip", Kind::Text),
    ("userAgent", "user_agent", Kind::Text),
    ("errorCode", "error_code", Kind::Text),
    ("errorMessage", "error_message", Kind::Text),
    ("requestID", "request_id", Kind::Text),
    ("readOnly", "read_only", Kind::Boolean),
    ("managementEvent", "management_event", Kind::Boolean),
    ("recipientAccountId", "recipient_account_id", Kind::Text),
    ("sharedEventID", "shared_event_id", Kind::Text),
    ("vpcEndpointId", "vpc_endpoint_id", Kind::Text),
    ("userIdentity.type", "user_identity_type", Kind::Text),
    (
        "userIdentity.principalId",
        "user_identity_principal_id",
        Kind::Text,
    ),
    ("userIdentity.arn", "user_identity_arn", Kind::Text),
    (
        "userIdentity.accountId",
        "user_identity_account_id",
        Kind::Text,
    ),
    (
        "userIdentity.accessKeyId",
        "user_identity_access_key_id",
        Kind::Text,
    ),
    (
        "userIdentity.userName",
        "user_identity_user_name",
        Kind::Text,
    ),
    (
        "userIdentity.invokedBy",
        "user_identity_invoked_by",
        Kind::Text,
    ),
    (
        "userIdentity.identityProvider",
        "user_identity_identity_provider",
        Kind::Text,
    ),
    (
        "userIdentity.sessionContext.sessionIssuer.type",
        "user_identity_session_issuer_type",
        Kind::Text,
    ),
    (
        "userIdentity.sessionContext.sessionIssuer.arn",
        "user_identity_session_issuer_arn",
        Kind::Text,
    ),
    (
        "userIdentity.sessionContext.sessionIssuer.userName",
        "user_identity_session_issuer_user_name",
        Kind::Text,
    ),
    (
        "userIdentity.sessionContext.sourceIdentity",
        "user_identity_source_identity",
        Kind::Text,
    ),
    ("tlsDetails.tlsVersion", "tls_version", Kind::Text),
    ("tlsDetails.cipherSuite", "tls_cipher_suite", Kind::Text),
    (
        "tlsDetails.clientProvidedHostHeader",
        "tls_client_provided_host_header",
        Kind::Text,
    ),
];

/// CloudTrail objects kept whole as JSON text, and their columns.
const CLOUDTRAIL_JSON: &[(&str, &str)] = &[
    ("userIdentity", "user_identity"),
    ("requestParameters", "request_parameters"),
    ("responseElements", "response_elements"),
    ("additionalEventData", "additional_event_data"),
    ("resources", "resources"),
    ("serviceEventDetails", "service_event_details"),
    ("insightDetails", "insight_details"),
];

/// The other top-level keys of a CloudTrail record (read from `raw`).
const CLOUDTRAIL_RECORD_KEYS: &[&str] = &[
    "eventTime",
    "tlsDetails",
    "sessionCredentialFromConsole",
    "edgeDeviceDetails",
    "addendum",
    "vpcEndpointAccountId",
];

/// API Gateway access-log fields (the `$context` names) in typed columns.
const APIGATEWAY_FIELDS: &[Typed] = &[
    ("requestId", "event_id", Kind::Text),
    ("ip", "src_ip", Kind::Text),
    ("sourceIp", "src_ip", Kind::Text),
    ("apiId", "api_id", Kind::Text),
    ("stage", "stage", Kind::Text),
    ("domainName", "domain_name", Kind::Text),
    ("httpMethod", "http_method", Kind::Text),
    ("resourcePath", "resource_path", Kind::Text),
    ("path", "path", Kind::Text),
    ("routeKey", "route_key", Kind::Text),
    ("protocol", "protocol", Kind::Text),
    ("status", "status", Kind::Number),
    ("responseLength", "response_length", Kind::Number),
    ("responseLatency", "response_latency_ms", Kind::Number),
    ("integrationLatency", "integration_latency_ms", Kind::Number),
    ("integrationStatus", "integration_status", Kind::Number),
    ("integrationErrorMessage", "integration_error", Kind::Text),
    ("userAgent", "user_agent", Kind::Text),
    ("caller", "caller", Kind::Text),
    ("user", "user", Kind::Text),
    ("userArn", "user_arn", Kind::Text),
    ("principalId", "principal_id", Kind::Text),
    ("authorizerError", "authorizer_error", Kind::Text),
    ("wafResponseCode", "waf_error", Kind::Text),
    ("errorMessage", "error_message", Kind::Text),
    ("errorResponseType", "error_response_type", Kind::Text),
    ("extendedRequestId", "extended_request_id", Kind::Text),
    ("connectionId", "connection_id", Kind::Text),
    ("eventType", "websocket_event_type", Kind::Text),
    ("apiKeyId", "api_key_id", Kind::Text),
    ("", "log_format", Kind::Text),
];

/// Lambda log fields in typed columns.
const LAMBDA_FIELDS: &[Typed] = &[
    ("functionName", "function_name", Kind::Text),
    ("requestId", "request_id", Kind::Text),
    ("message", "message", Kind::Text),
    ("level", "level", Kind::Text),
    ("type", "record_type", Kind::Text),
    ("", "function_version", Kind::Text),
    ("", "log_format", Kind::Text),
    ("", "duration_ms", Kind::Number),
    ("", "billed_duration_ms", Kind::Number),
    ("", "memory_size_mb", Kind::Number),
    ("", "max_memory_used_mb", Kind::Number),
    ("", "init_duration_ms", Kind::Number),
    ("", "status", Kind::Text),
    ("", "error_type", Kind::Text),
    ("", "xray_trace_id", Kind::Text),
    ("", "runtime_version", Kind::Text),
];
