//! SQL functions and the `intel` table over the context in force (threat intelligence, GeoIP/ASN, the directory).

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use datafusion::common::{exec_err, Result};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use vigil_context::{Context, Indicator, LookupKind};

use crate::functions::TextArg;

/// What each function looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lookup {
    IntelMatch,
    GeoCountry,
    GeoCity,
    GeoAsn,
    GeoAsOrg,
    GeoDistanceKm,
    UserAgentFamily,
    AccountName,
    AccountEnvironment,
    PrincipalOwner,
    PrincipalTeam,
}

impl Lookup {
    const ALL: [Lookup; 11] = [
        Lookup::IntelMatch,
        Lookup::GeoCountry,
        Lookup::GeoCity,
        Lookup::GeoAsn,
        Lookup::GeoAsOrg,
        Lookup::GeoDistanceKm,
        Lookup::UserAgentFamily,
        Lookup::AccountName,
        Lookup::AccountEnvironment,
        Lookup::PrincipalOwner,
        Lookup::PrincipalTeam,
    ];

    fn name(self) -> &'static str {
        match self {
            Lookup::IntelMatch => "intel_match",
            Lookup::GeoCountry => "geo_country",
            Lookup::GeoCity => "geo_city",
            Lookup::GeoAsn => "geo_asn",
            Lookup::GeoAsOrg => "geo_as_org",
            Lookup::GeoDistanceKm => "geo_distance_km",
            Lookup::UserAgentFamily => "ua_family",
            Lookup::AccountName => "account_name",
            Lookup::AccountEnvironment => "account_environment",
            Lookup::PrincipalOwner => "principal_owner",
            Lookup::PrincipalTeam => "principal_team",
        }
    }

    fn arity(self) -> usize {
        match self {
            Lookup::IntelMatch | Lookup::GeoDistanceKm => 2,
            _ => 1,
        }
    }
}

/// The names of the functions that need a GeoIP database.
pub const GEO_FUNCTIONS: [&str; 5] = [
    "geo_country",
    "geo_city",
    "geo_asn",
    "geo_as_org",
    "geo_distance_km",
];

/// The fields of `intel_match`'s result (and the columns of the `intel` table).
fn indicator_fields() -> Fields {
    let time = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    Fields::from(vec![
        Field::new("indicator", DataType::Utf8, true),
        Field::new("kind", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("confidence", DataType::Int64, true),
        Field::new("tags", DataType::Utf8, true),
        Field::new("first_seen", time.clone(), true),
        Field::new("last_seen", time, true),
        Field::new("version", DataType::Utf8, true),
    ])
}

/// The indicators as columns in [`indicator_fields`] order.
fn indicator_columns<'a>(
    rows: impl ExactSizeIterator<Item = Option<&'a Indicator>>,
    version: &str,
) -> Vec<ArrayRef> {
    let n = rows.len();
    let mut indicator = StringBuilder::with_capacity(n, n * 16);
    let mut kind = StringBuilder::with_capacity(n, n * 4);
    let mut source = StringBuilder::with_capacity(n, n * 8);
    let mut confidence = Int64Builder::with_capacity(n);
    let mut tags = StringBuilder::with_capacity(n, n * 8);
    let mut first_seen = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut last_seen = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut versions = StringBuilder::with_capacity(n, n * version.len());
    for row in rows {
        match row {
            Some(i) => {
                indicator.append_value(&i.value);
                kind.append_value(i.kind.as_str());
                source.append_value(&i.source);
                confidence.append_option(i.confidence.map(i64::from));
                tags.append_value(i.tags.join(","));
                first_seen.append_option(i.first_seen);
                last_seen.append_option(i.last_seen);
                versions.append_value(version);
            }
            // No match: every field null too, so that `intel_match(...)['source']`
            // is NULL, not an empty string.
            None => {
                indicator.append_null();
                kind.append_null();
                source.append_null();
                confidence.append_null();
                tags.append_null();
                first_seen.append_null();
                last_seen.append_null();
                versions.append_null();
            }
        }
    }
    vec![
        Arc::new(indicator.finish()),
        Arc::new(kind.finish()),
        Arc::new(source.finish()),
        Arc::new(confidence.finish()),
        Arc::new(tags.finish()),
        Arc::new(first_seen.finish()),
        Arc::new(last_seen.finish()),
        Arc::new(versions.finish()),
    ]
}

/// One of the context's SQL functions (see [`register_context`]).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ContextFunction {
    lookup: Lookup,
    signature: Signature,
}

impl ContextFunction {
    fn new(lookup: Lookup) -> Self {
        ContextFunction {
            lookup,
            // The context can be reloaded between two queries, never
            // during one.
            signature: Signature::any(lookup.arity(), Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for ContextFunction {
    fn name(&self) -> &str {
        self.lookup.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.lookup {
            Lookup::IntelMatch => DataType::Struct(indicator_fields()),
            Lookup::GeoAsn => DataType::Int64,
            Lookup::GeoDistanceKm => DataType::Float64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let texts: Vec<TextArg> = args.args.iter().map(TextArg::new).collect::<Result<_>>()?;
        // The signature fixed the arguments' number at planning; a first and
        // a second argument where there is none read as nulls.
        let (first, second) = match texts.as_slice() {
            [first, second, ..] => (Some(first), Some(second)),
            [first] => (Some(first), None),
            [] => (None, None),
        };
        let first_at = |row: usize| first.and_then(|a| a.get(row));
        let second_at = |row: usize| second.and_then(|a| a.get(row));
        let context = vigil_context::current();
        let c: &Context = &context;
        let array: ArrayRef = match self.lookup {
            Lookup::IntelMatch => {
                let mut kind: Option<(String, LookupKind)> = None;
                let mut found: Vec<Option<&Indicator>> = Vec::with_capacity(rows);
                for row in 0..rows {
                    let (Some(name), Some(value)) = (first_at(row), second_at(row)) else {
                        found.push(None);
                        continue;
                    };
                    // The kind is a literal in every rule: parsed once per batch.
                    let k = match &kind {
                        Some((n, k)) if n == name => *k,
                        _ => {
                            let Some(k) = LookupKind::parse(name) else {
                                return exec_err!(
                                    "intel_match: unknown kind {name:?} ({})",
                                    LookupKind::NAMES
                                );
                            };
                            kind = Some((name.to_string(), k));
                            k
                        }
                    };
                    found.push(c.intel.lookup(k, value));
                }
                let nulls: arrow::buffer::NullBuffer = found.iter().map(Option::is_some).collect();
                let columns = indicator_columns(found.into_iter(), c.intel.version());
                Arc::new(StructArray::try_new(
                    indicator_fields(),
                    columns,
                    Some(nulls),
                )?)
            }
            Lookup::GeoAsn => {
                let mut out = Int64Builder::with_capacity(rows);
                for row in 0..rows {
                    out.append_option(first_at(row).and_then(|ip| c.geo.asn(ip)).map(i64::from));
                }
                Arc::new(out.finish())
            }
            Lookup::GeoDistanceKm => {
                let mut out = Float64Builder::with_capacity(rows);
                for row in 0..rows {
                    let distance = (|| {
                        let a = c.geo.location(first_at(row)?)?;
                        let b = c.geo.location(second_at(row)?)?;
                        Some(vigil_context::geo::distance_km(a, b))
                    })();
                    out.append_option(distance);
                }
                Arc::new(out.finish())
            }
            text => {
                let mut out = StringBuilder::with_capacity(rows, rows * 8);
                for row in 0..rows {
                    let value = first_at(row).and_then(|v| match text {
                        Lookup::GeoCountry => c.geo.country(v),
                        Lookup::GeoCity => c.geo.city(v),
                        Lookup::GeoAsOrg => c.geo.as_org(v),
                        Lookup::UserAgentFamily => {
                            vigil_context::user_agent::family(v).map(String::from)
                        }
                        Lookup::AccountName => c.directory.account(v)?.name.clone(),
                        Lookup::AccountEnvironment => c.directory.account(v)?.environment.clone(),
                        Lookup::PrincipalOwner => c.directory.owner(v)?.owner.clone(),
                        Lookup::PrincipalTeam => c.directory.owner(v)?.team.clone(),
                        _ => None,
                    });
                    out.append_option(value);
                }
                Arc::new(out.finish())
            }
        };
        Ok(ColumnarValue::Array(array))
    }
}

/// Registers the context's functions (`intel_match`, `geo_country`,
/// `geo_city`, `geo_asn`, `geo_as_org`, `geo_distance_km`, `ua_family`,
/// `account_name`, `account_environment`, `principal_owner`,
/// `principal_team`) and the `intel` table: every indicator of the sets in
/// force.
pub fn register_context(ctx: &SessionContext) {
    for lookup in Lookup::ALL {
        ctx.register_udf(ScalarUDF::from(ContextFunction::new(lookup)));
    }
    if let Some(table) = intel_table() {
        // Registering under a free name cannot fail.
        let _ = ctx.register_table("intel", Arc::new(table));
    }
}

/// The `intel` table of the context in force. Its batch is built once per
/// version of the sets, not per session (streaming rules make a session
/// per batch).
fn intel_table() -> Option<MemTable> {
    static BUILT: std::sync::Mutex<Option<(String, RecordBatch)>> = std::sync::Mutex::new(None);
    let context = vigil_context::current();
    let version = context.intel.version();
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let batch = match built.as_ref() {
        Some((v, batch)) if v == version => batch.clone(),
        _ => {
            let schema = Arc::new(Schema::new(indicator_fields()));
            let indicators = context.intel.indicators();
            let columns = indicator_columns(indicators.iter().map(Some), version);
            let batch = RecordBatch::try_new(schema, columns).ok()?;
            *built = Some((version.to_string(), batch.clone()));
            batch
        }
    };
    MemTable::try_new(batch.schema(), vec![vec![batch]]).ok()
}
