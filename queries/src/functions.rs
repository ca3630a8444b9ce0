//! SQL functions for log data: JSON fields out of text columns (`json_str`,
//! plus the `json_get*` family of datafusion-functions-json), CIDR matching
//! (`cidr_contains`) and ARN parts (`arn_part`).

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use serde_json::Value;
use std::sync::Arc;

/// Registers Vigil's SQL functions in a session.
pub fn register_functions(ctx: &SessionContext) {
    // From datafusion-functions-json: keys as separate arguments ('a', 'b', 0).
    // (json_get itself returns a union type, awkward in results: not registered.)
    use datafusion_functions_json::udfs;
    for udf in [
        udfs::json_get_str_udf(),
        udfs::json_get_int_udf(),
        udfs::json_get_float_udf(),
        udfs::json_get_bool_udf(),
        udfs::json_get_json_udf(),
        udfs::json_as_text_udf(),
        udfs::json_contains_udf(),
        udfs::json_length_udf(),
        udfs::json_object_keys_udf(),
    ] {
        ctx.register_udf(udf.as_ref().clone());
    }
    ctx.register_udf(ScalarUDF::from(JsonStr::new()));
    ctx.register_udf(ScalarUDF::from(CidrContains::new()));
    ctx.register_udf(ScalarUDF::from(ArnPart::new()));
}

/// `json_str(json, 'a', 'b', '0')`: the value at `a.b[0]` as text (strings
/// as-is, other values as compact JSON: `json_get_str` would give NULL for
/// those), NULL when the path is absent or the text is not JSON as far as
/// the path goes. The text is read only up to the value (with jiter), not
/// parsed whole; a key given twice in an object yields its first value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonStr {
    signature: Signature,
}

impl JsonStr {
    pub fn new() -> Self {
        // Any argument types: text columns are read as they are (string
        // views, without a cast copying every document), keys are usually
        // literals, read once per batch.
        JsonStr {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for JsonStr {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends the value at `path` in `json` to `out` (see [`JsonStr`]);
/// `None` when there is none, and nothing was appended.
fn append_json_value(json: &str, path: &[Option<&str>], out: &mut StringBuilder) -> Option<()> {
    use jiter::{Jiter, Peek};
    let mut jiter = Jiter::new(json.as_bytes());
    for key in path {
        let key = (*key)?;
        match jiter.peek().ok()? {
            Peek::Object => {
                let mut matched = jiter.known_object().ok()?.map(|k| k == key);
                while !matched? {
                    jiter.next_skip().ok()?;
                    matched = jiter.next_key().ok()?.map(|k| k == key);
                }
            }
            Peek::Array => {
                let index: usize = key.parse().ok()?;
                let mut element = jiter.known_array().ok()?;
                for _ in 0..index {
                    jiter.known_skip(element?).ok()?;
                    element = jiter.array_step().ok()?;
                }
                element?;
            }
            _ => return None,
        }
    }
    match jiter.peek().ok()? {
        Peek::Null => None,
        Peek::String => {
            out.append_value(jiter.known_str().ok()?);
            Some(())
        }
        peek => {
            let start = jiter.current_index();
            jiter.known_skip(peek).ok()?;
            // Written compact, whatever the spacing in the text.
            let value: Value =
                serde_json::from_str(json.get(start..jiter.current_index())?).ok()?;
            out.append_value(value.to_string());
            Some(())
        }
    }
}

/// A key argument's text, if it is a constant (`None` when a column).
fn constant_key(key: &ColumnarValue) -> Option<Option<String>> {
    use datafusion::scalar::ScalarValue;
    let ColumnarValue::Scalar(value) = key else {
        return None;
    };
    Some(match value {
        _ if value.is_null() => None,
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

impl ScalarUDFImpl for JsonStr {
    fn name(&self) -> &str {
        "json_str"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let Some((json, keys)) = args.args.split_first() else {
            return Ok(ColumnarValue::Scalar(
                datafusion::scalar::ScalarValue::Utf8(None),
            ));
        };
        let json = json.to_array(rows)?;
        let json = match json.data_type() {
            DataType::Utf8View => json,
            _ => cast(&json, &DataType::Utf8View)?,
        };
        let json = json.as_string_view();
        let constant: Option<Vec<Option<String>>> = keys.iter().map(constant_key).collect();
        let key_columns: Vec<ArrayRef> = match constant {
            Some(_) => Vec::new(),
            None => keys
                .iter()
                .map(|k| cast(&k.to_array(rows)?, &DataType::Utf8))
                .collect::<std::result::Result<_, _>>()?,
        };
        let key_columns: Vec<_> = key_columns.iter().map(|k| k.as_string::<i32>()).collect();
        let mut out = StringBuilder::with_capacity(json.len(), json.len() * 8);
        let mut path: Vec<Option<&str>> = Vec::with_capacity(keys.len());
        if let Some(keys) = &constant {
            path.extend(keys.iter().map(Option::as_deref));
        }
        for i in 0..json.len() {
            if constant.is_none() {
                path.clear();
                path.extend(
                    key_columns
                        .iter()
                        .map(|k| (!k.is_null(i)).then(|| k.value(i))),
                );
            }
            if json.is_null(i) || append_json_value(json.value(i), &path, &mut out).is_none() {
                out.append_null();
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `cidr_contains('10.0.0.0/8', src_ip)`: is the address inside the block
/// (IPv4 or IPv6)? NULL when either is not an address.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CidrContains {
    signature: Signature,
}

impl CidrContains {
    pub fn new() -> Self {
        CidrContains {
            signature: Signature::exact(
                vec![DataType::Utf8, DataType::Utf8],
                Volatility::Immutable,
            ),
        }
    }
}

impl Default for CidrContains {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `ip` is in `cidr`; `None` when either does not parse.
pub fn cidr_contains(cidr: &str, ip: &str) -> Option<bool> {
    use std::net::IpAddr;
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (
            n.trim().parse::<IpAddr>().ok()?,
            b.trim().parse::<u32>().ok()?,
        ),
        None => {
            let n = cidr.trim().parse::<IpAddr>().ok()?;
            (n, if n.is_ipv4() { 32 } else { 128 })
        }
    };
    let ip = ip.trim().parse::<IpAddr>().ok()?;
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Some(u32::from(n) & mask == u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            Some(u128::from(n) & mask == u128::from(a) & mask)
        }
        (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => Some(false),
        _ => None,
    }
}

impl ScalarUDFImpl for CidrContains {
    fn name(&self) -> &str {
        "cidr_contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [cidr, ip] = string_args::<2>(&args)?;
        let out: arrow::array::BooleanArray = (0..cidr.len().max(ip.len()))
            .map(|i| {
                if cidr.is_null(i) || ip.is_null(i) {
                    None
                } else {
                    cidr_contains(cidr.value(i), ip.value(i))
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `arn_part(arn, 'partition'|'service'|'region'|'account'|'resource'|'resource_type'|'resource_name')`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArnPart {
    signature: Signature,
}

impl ArnPart {
    pub fn new() -> Self {
        ArnPart {
            signature: Signature::exact(
                vec![DataType::Utf8, DataType::Utf8],
                Volatility::Immutable,
            ),
        }
    }
}

impl Default for ArnPart {
    fn default() -> Self {
        Self::new()
    }
}

/// A part of an ARN (`arn:partition:service:region:account:resource`).
pub fn arn_part<'a>(arn: &'a str, part: &str) -> Option<&'a str> {
    let mut fields = arn.splitn(6, ':');
    if fields.next()? != "arn" {
        return None;
    }
    let (partition, service, region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    // `user/bob`, `assumed-role/Role/session`, `function:name`, `bucket`.
    let split = resource.find(['/', ':']);
    let v = match part {
        "partition" => partition,
        "service" => service,
        "region" => region,
        "account" => account,
        "resource" => resource,
        "resource_type" => &resource[..split?],
        "resource_name" => split.map_or(resource, |i| &resource[i + 1..]),
        _ => return None,
    };
    (!v.is_empty()).then_some(v)
}

impl ScalarUDFImpl for ArnPart {
    fn name(&self) -> &str {
        "arn_part"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arn, part] = string_args::<2>(&args)?;
        let mut out = StringBuilder::new();
        for i in 0..arn.len().max(part.len()) {
            if arn.is_null(i) || part.is_null(i) {
                out.append_null();
            } else {
                out.append_option(arn_part(arn.value(i), part.value(i)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The arguments as Utf8 arrays of the batch's length.
fn string_args<const N: usize>(
    args: &ScalarFunctionArgs,
) -> Result<[arrow::array::StringArray; N]> {
    let arrays = ColumnarValue::values_to_arrays(&args.args)?;
    let mut out = Vec::with_capacity(N);
    for a in arrays.iter().take(N) {
        out.push(cast(a, &DataType::Utf8)?.as_string::<i32>().clone());
    }
    out.try_into().map_err(|_| {
        datafusion::error::DataFusionError::Execution(format!("expected {N} arguments"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_str_reads_nested_values() {
        let ctx = SessionContext::new();
        register_functions(&ctx);
        let batches = ctx
            .sql(
                r#"SELECT json_str('{"a":{"b":["x",{"c":1}]}}', 'a', 'b', '0') AS s,
                          json_str('{"a":{"b":["x",{"c":1}]}}', 'a', 'b', '1') AS o,
                          json_str('{"a":1}', 'missing') AS m,
                          json_str('not json', 'a') AS bad"#,
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let col = |name: &str| {
            let c = batches[0].column_by_name(name).unwrap();
            let c = cast(c, &DataType::Utf8).unwrap();
            let s = c.as_string::<i32>();
            (!s.is_null(0)).then(|| s.value(0).to_string())
        };
        assert_eq!(col("s").as_deref(), Some("x"));
        assert_eq!(col("o").as_deref(), Some(r#"{"c":1}"#));
        assert_eq!(col("m"), None);
        assert_eq!(col("bad"), None);
    }

    /// `json_str` on one literal document per case, through SQL.
    async fn json_str_of(cases: &[&str]) -> Vec<Option<String>> {
        let ctx = SessionContext::new();
        register_functions(&ctx);
        let columns: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} AS c{i}"))
            .collect();
        let batches = ctx
            .sql(&format!("SELECT {}", columns.join(", ")))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        (0..cases.len())
            .map(|i| {
                let c = cast(batches[0].column(i), &DataType::Utf8).unwrap();
                let s = c.as_string::<i32>();
                (!s.is_null(0)).then(|| s.value(0).to_string())
            })
            .collect()
    }

    #[tokio::test]
    async fn json_str_edge_cases() {
        let got = json_str_of(&[
            // Spacing in the text; other values written compact.
            r#"json_str('{ "a" : { "b" : [ 1 , 2.50 ] } }', 'a')"#,
            // An escaped string comes out unescaped.
            r#"json_str('{"a":"x\"y\u00e9"}', 'a')"#,
            // An array index given as a number.
            r#"json_str('{"a":["x","y"]}', 'a', 1)"#,
            r#"json_str('{"a":["x","y"]}', 'a', 2)"#,
            // A key given twice: its first value.
            r#"json_str('{"a":"first","a":"second"}', 'a')"#,
            // null, a NULL key, a path through a string, broken text.
            r#"json_str('{"a":null}', 'a')"#,
            r#"json_str('{"a":"x"}', NULL)"#,
            r#"json_str('{"a":"x"}', 'a', 'b')"#,
            r#"json_str('{"a":', 'a')"#,
            r#"json_str('{"a":"x"}')"#,
            r#"json_str(arrow_cast('{"a":true}', 'Utf8View'), arrow_cast('a', 'Utf8View'))"#,
        ])
        .await;
        let want = [
            Some(r#"{"b":[1,2.5]}"#),
            Some("x\"y\u{e9}"),
            Some("y"),
            None,
            Some("first"),
            None,
            None,
            None,
            None,
            Some(r#"{"a":"x"}"#),
            Some("true"),
        ];
        let want: Vec<Option<String>> = want.iter().map(|w| w.map(str::to_string)).collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn json_str_with_keys_from_a_column_reads_each_row_s_path() {
        let ctx = SessionContext::new();
        register_functions(&ctx);
        let batches = ctx
            .sql(
                r#"SELECT json_str(doc, key) AS v FROM (VALUES
                     ('{"a":"1","b":"2"}', 'a'), ('{"a":"1","b":"2"}', 'b'),
                     ('{"a":"1"}', NULL)) AS t(doc, key)"#,
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let c = cast(batches[0].column(0), &DataType::Utf8).unwrap();
        let s = c.as_string::<i32>();
        let got: Vec<Option<&str>> = (0..s.len())
            .map(|i| (!s.is_null(i)).then(|| s.value(i)))
            .collect();
        assert_eq!(got, vec![Some("1"), Some("2"), None]);
    }

    /// The value at `path` as a whole-document parse finds it.
    fn whole_document_lookup(json: &str, path: &[&str]) -> Option<String> {
        let doc: Value = serde_json::from_str(json).ok()?;
        let mut v = &doc;
        for key in path {
            v = match v {
                Value::Object(map) => map.get(*key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    #[test]
    fn json_str_agrees_with_a_whole_document_parse_on_real_cloudtrail() {
        let dir = vigil_test_support::corpus("invictus-ir-aws-dataset/CloudTrail");
        let mut records = Vec::new();
        for file in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            let doc: Value = serde_json::from_str(&text).unwrap();
            records.extend(doc["Records"].as_array().unwrap().iter().cloned());
        }
        assert!(records.len() > 1000);
        let paths: [&[&str]; 8] = [
            &["requestParameters", "bucketName"],
            &["requestParameters", "policyDocument"],
            &["requestParameters", "roleName"],
            &[
                "requestParameters",
                "instancesSet",
                "items",
                "0",
                "instanceId",
            ],
            &[
                "userIdentity",
                "sessionContext",
                "sessionIssuer",
                "userName",
            ],
            &["userIdentity", "sessionContext", "attributes"],
            &["responseElements", "credentials", "accessKeyId"],
            &["additionalEventData", "MFAUsed"],
        ];
        let (mut compared, mut found) = (0, 0);
        for record in &records {
            let text = record.to_string();
            for path in paths {
                let keys: Vec<Option<&str>> = path.iter().map(|k| Some(*k)).collect();
                let mut out = StringBuilder::new();
                let got = append_json_value(&text, &keys, &mut out).map(|()| {
                    let a = out.finish();
                    a.value(0).to_string()
                });
                let want = whole_document_lookup(&text, path);
                assert_eq!(got, want, "{path:?} in {text}");
                compared += 1;
                found += usize::from(got.is_some());
            }
        }
        assert!(found > 1000, "{found} of {compared} found");
    }

    #[test]
    fn cidrs_match_v4_and_v6() {
        assert_eq!(cidr_contains("10.0.0.0/8", "10.200.1.2"), Some(true));
        assert_eq!(cidr_contains("10.0.0.0/8", "11.0.0.1"), Some(false));
        assert_eq!(cidr_contains("0.0.0.0/0", "203.0.113.66"), Some(true));
        assert_eq!(cidr_contains("203.0.113.66", "203.0.113.66"), Some(true));
        assert_eq!(cidr_contains("2001:db8::/32", "2001:db8::1"), Some(true));
        assert_eq!(cidr_contains("2001:db8::/32", "10.0.0.1"), Some(false));
        assert_eq!(cidr_contains("10.0.0.0/8", "AWS Internal"), None);
    }

    #[test]
    fn arn_parts() {
        let arn = "arn:aws:sts::111122223333:assumed-role/deployer/session-1";
        assert_eq!(arn_part(arn, "service"), Some("sts"));
        assert_eq!(arn_part(arn, "region"), None);
        assert_eq!(arn_part(arn, "account"), Some("111122223333"));
        assert_eq!(arn_part(arn, "resource_type"), Some("assumed-role"));
        assert_eq!(arn_part(arn, "resource_name"), Some("deployer/session-1"));
        assert_eq!(
            arn_part("arn:aws:lambda:us-east-1:1:function:f", "resource_name"),
            Some("f")
        );
        assert_eq!(arn_part("not an arn", "service"), None);
    }

    #[tokio::test]
    async fn the_functions_work_in_sql() {
        let ctx = SessionContext::new();
        register_functions(&ctx);
        let batches = ctx
            .sql(r#"SELECT json_get_str('{"a":{"b":[1,"x"]}}', 'a', 'b', 1) AS j, cidr_contains('10.0.0.0/8', '10.1.2.3') AS c, arn_part('arn:aws:iam::1:user/bob', 'resource_name') AS n"#)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(
            text.contains("| x ") && text.contains("true") && text.contains("bob"),
            "{text}"
        );
    }
}
