//! The lake's log tables as OCSF 1.1.0 event classes: one SQL mapping per
//! (table, class), defined once here and used by the hunting views
//! (`ocsf_api_activity`, ...) and by `vigil export ocsf`.
//!
//! A mapping is a `SELECT` over one lake table that yields one OCSF event a
//! row, nested objects as Arrow structs (so Parquet gets OCSF's nesting and
//! JSON writers its objects). Rows that lack what the class requires (an API
//! call without an operation, a request without a status) are left out of
//! the mapping and counted by the export as not mappable, never dropped
//! silently. docs/OCSF.md documents every field; `scripts/ocsf-validate.py`
//! checks exported events against the OCSF schema in the tests.

mod cloudtrail;
pub mod export;
mod http;
mod lambda;

use datafusion::prelude::SessionContext;
use vigil_ingest::Table;

use crate::QueryError;

/// The OCSF version every mapping follows (the one Amazon Security Lake writes).
pub const VERSION: &str = "1.1.0";

/// An OCSF event class the lake's records map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventClass {
    /// 3001: IAM users, roles and groups created, deleted, given or taken
    /// policies, passwords and MFA devices changed (CloudTrail).
    AccountChange,
    /// 3002: console sign-ins and STS credentials (CloudTrail).
    Authentication,
    /// 4002: requests to an API (API Gateway access logs, WAF).
    HttpActivity,
    /// 6002: a function's invocations starting and stopping, and its log lines (Lambda).
    ApplicationLifecycle,
    /// 6003: every other AWS API call (CloudTrail).
    ApiActivity,
}

impl EventClass {
    pub const ALL: [EventClass; 5] = [
        EventClass::AccountChange,
        EventClass::Authentication,
        EventClass::HttpActivity,
        EventClass::ApplicationLifecycle,
        EventClass::ApiActivity,
    ];

    /// `class_uid`.
    pub fn uid(self) -> i32 {
        match self {
            EventClass::AccountChange => 3001,
            EventClass::Authentication => 3002,
            EventClass::HttpActivity => 4002,
            EventClass::ApplicationLifecycle => 6002,
            EventClass::ApiActivity => 6003,
        }
    }

    /// `class_name`.
    pub fn name(self) -> &'static str {
        match self {
            EventClass::AccountChange => "Account Change",
            EventClass::Authentication => "Authentication",
            EventClass::HttpActivity => "HTTP Activity",
            EventClass::ApplicationLifecycle => "Application Lifecycle",
            EventClass::ApiActivity => "API Activity",
        }
    }

    /// `category_uid` and `category_name`.
    pub fn category(self) -> (i32, &'static str) {
        match self {
            EventClass::AccountChange | EventClass::Authentication => {
                (3, "Identity & Access Management")
            }
            EventClass::HttpActivity => (4, "Network Activity"),
            EventClass::ApplicationLifecycle | EventClass::ApiActivity => {
                (6, "Application Activity")
            }
        }
    }

    /// The hunting view holding the class's events from every table.
    pub fn view(self) -> &'static str {
        match self {
            EventClass::AccountChange => "ocsf_account_change",
            EventClass::Authentication => "ocsf_authentication",
            EventClass::HttpActivity => "ocsf_http_activity",
            EventClass::ApplicationLifecycle => "ocsf_application_lifecycle",
            EventClass::ApiActivity => "ocsf_api_activity",
        }
    }

    /// `activity_id` values and their `activity_name`s (OCSF 1.1.0).
    fn activities(self) -> &'static [(i32, &'static str)] {
        match self {
            EventClass::AccountChange => &[
                (1, "Create"),
                (2, "Enable"),
                (3, "Password Change"),
                (4, "Password Reset"),
                (5, "Disable"),
                (6, "Delete"),
                (7, "Attach Policy"),
                (8, "Detach Policy"),
                (9, "Lock"),
                (10, "MFA Factor Enable"),
                (11, "MFA Factor Disable"),
            ],
            EventClass::Authentication => &[
                (1, "Logon"),
                (2, "Logoff"),
                (3, "Authentication Ticket"),
                (4, "Service Ticket Request"),
                (5, "Service Ticket Renew"),
            ],
            EventClass::HttpActivity => &[
                (1, "Connect"),
                (2, "Delete"),
                (3, "Get"),
                (4, "Head"),
                (5, "Options"),
                (6, "Post"),
                (7, "Put"),
                (8, "Trace"),
            ],
            EventClass::ApplicationLifecycle => {
                &[(1, "Install"), (2, "Remove"), (3, "Start"), (4, "Stop")]
            }
            EventClass::ApiActivity => &[(1, "Create"), (2, "Read"), (3, "Update"), (4, "Delete")],
        }
    }
}

/// The records of one lake table that become events of one class: a source
/// of `vigil export ocsf` (Security Lake takes one class per custom source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub table: Table,
    pub class: EventClass,
    /// The Security Lake custom source name (at most 20 characters, as
    /// Security Lake requires): the folder under `ext/` the export writes.
    pub source: &'static str,
}

/// Every mapping, in the order the export writes them.
pub const MAPPINGS: [Mapping; 6] = [
    Mapping {
        table: Table::CloudTrail,
        class: EventClass::ApiActivity,
        source: "vigil-ct-api",
    },
    Mapping {
        table: Table::CloudTrail,
        class: EventClass::Authentication,
        source: "vigil-ct-auth",
    },
    Mapping {
        table: Table::CloudTrail,
        class: EventClass::AccountChange,
        source: "vigil-ct-account",
    },
    Mapping {
        table: Table::ApiGateway,
        class: EventClass::HttpActivity,
        source: "vigil-apigw-http",
    },
    Mapping {
        table: Table::Waf,
        class: EventClass::HttpActivity,
        source: "vigil-waf-http",
    },
    Mapping {
        table: Table::Lambda,
        class: EventClass::ApplicationLifecycle,
        source: "vigil-lambda-app",
    },
];

impl Mapping {
    /// The `SELECT` that maps the table's rows to the class (rows lacking
    /// what the class requires are left out).
    pub fn sql(&self) -> String {
        let body = match (self.table, self.class) {
            (Table::CloudTrail, class) => cloudtrail::select(class),
            (Table::ApiGateway, _) => http::select_apigateway(),
            (Table::Waf, _) => http::select_waf(),
            (Table::Lambda, _) => lambda::select(),
            (Table::Findings | Table::DeadLetter, _) => {
                unreachable!("no OCSF mapping reads {}", self.table.name())
            }
        };
        envelope(self.class, &body)
    }

    /// The rows of the table this mapping is responsible for: the rows it
    /// selects plus those it leaves out for lack of a required value. The
    /// export counts the difference as not mappable.
    pub fn scope(&self) -> String {
        match self.table {
            Table::CloudTrail => cloudtrail::scope(self.class),
            _ => "TRUE".to_string(),
        }
    }
}

/// The class's columns every event has, around a mapping's own `SELECT`
/// (which yields `activity_id` and the rest): the class and category ids
/// and names, `activity_name`, `type_uid` and `type_name`.
fn envelope(class: EventClass, body: &str) -> String {
    let (category_uid, category_name) = class.category();
    let mut names = String::from("CASE activity_id");
    for (id, name) in class.activities() {
        names.push_str(&format!(" WHEN {id} THEN '{name}'"));
    }
    names.push_str(" WHEN 0 THEN 'Unknown' ELSE 'Other' END");
    format!(
        "SELECT {uid} AS class_uid, '{class_name}' AS class_name, \
         {category_uid} AS category_uid, '{category_name}' AS category_name, \
         {names} AS activity_name, \
         {uid} * 100 + activity_id AS type_uid, \
         '{class_name}: ' || {names} AS type_name, \
         mapped.* FROM ({body}) AS mapped",
        uid = class.uid(),
        class_name = class.name(),
    )
}

/// `cloud`: AWS, the event's region and account.
pub(crate) const CLOUD: &str = "named_struct('provider', 'AWS', 'region', region, \
    'account', CASE WHEN account_id IS NOT NULL THEN named_struct('uid', account_id, 'type', 'AWS Account', 'type_id', 10) END) AS cloud";

/// `metadata`: OCSF's version, the profiles the event uses and the product
/// that logged it, with the record's own id.
pub(crate) fn metadata(
    profiles: &[&str],
    product: &str,
    product_version: &str,
    rest: &str,
) -> String {
    let profiles: Vec<String> = profiles.iter().map(|p| format!("'{p}'")).collect();
    format!(
        "named_struct('version', '{VERSION}', 'profiles', make_array({profiles}), \
         'product', named_struct('name', '{product}', 'vendor_name', 'AWS', 'version', {product_version}), \
         {rest}) AS metadata",
        profiles = profiles.join(", ")
    )
}

/// `unmapped`: the source's fields that have no OCSF home, as a map from the
/// source's own field names to text (Security Lake's `unmapped` is a
/// string map too); a field the record lacks is a NULL value.
pub(crate) fn unmapped(fields: &[(&str, &str)]) -> String {
    let keys: Vec<String> = fields.iter().map(|(k, _)| format!("'{k}'")).collect();
    let values: Vec<String> = fields
        .iter()
        .map(|(_, column)| format!("CAST({column} AS VARCHAR)"))
        .collect();
    format!(
        "map(make_array({}), make_array({})) AS unmapped",
        keys.join(", "),
        values.join(", ")
    )
}

/// Registers the OCSF views when `sql` names one of them and the session
/// has not got them yet. Planning them takes longer than many short hunts
/// run, so a session gets them only when a query needs them.
pub async fn register_views_for(ctx: &SessionContext, sql: &str) -> Result<(), QueryError> {
    let names_one = sql.to_ascii_lowercase().contains("ocsf_");
    let registered = ctx
        .table_exist(EventClass::ApiActivity.view())
        .map_err(QueryError::Query)?;
    if names_one && !registered {
        register_views(ctx).await?;
    }
    Ok(())
}

/// Registers a view per event class (`ocsf_api_activity`, ...) over the
/// session's lake tables: every mapping of the class, one after the other.
pub async fn register_views(ctx: &SessionContext) -> Result<(), QueryError> {
    for class in EventClass::ALL {
        let selects: Vec<String> = MAPPINGS
            .iter()
            .filter(|m| m.class == class)
            .map(Mapping::sql)
            .collect();
        let view = ctx
            .sql(&selects.join(" UNION ALL "))
            .await
            .map_err(QueryError::Query)?;
        ctx.register_table(class.view(), view.into_view())
            .map_err(QueryError::Query)?;
    }
    Ok(())
}
