//! SQL functions for log data: JSON fields out of text columns (`json_str`,
//! plus the `json_get*` family of datafusion-functions-json), CIDR matching
//! (`cidr_contains`), addresses (`ip_address`) and ARN parts (`arn_part`).

use arrow::array::{Array, AsArray, StringBuilder, StringViewArray};
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
    ctx.register_udf(ScalarUDF::from(JsonMatch::new()));
    ctx.register_udf(ScalarUDF::from(CidrContains::new()));
    ctx.register_udf(ScalarUDF::from(ArnPart::new()));
    ctx.register_udf(ScalarUDF::from(IpAddress::new()));
    crate::context_functions::register_context(ctx);
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

/// `json_match(json, regex, 'a', 'b')`: does any value at `a.b` match the
/// regular expression (a search, not anchored)? Arrays on the way and at the
/// end are looked into: `resources.ARN` is the ARN of every resource.
/// Strings are matched as their text, numbers and booleans as written,
/// objects as compact JSON. NULL when the path holds no value (absent or
/// null), so that Sigma's "absent field" reads as SQL NULL. (Sigma rules
/// compile their field matches to this.)
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonMatch {
    signature: Signature,
}

impl JsonMatch {
    pub fn new() -> Self {
        JsonMatch {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for JsonMatch {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for JsonMatch {
    fn name(&self) -> &str {
        "json_match"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::BooleanBuilder;
        use datafusion::common::exec_err;
        let rows = args.number_rows;
        let args: Vec<TextArg> = args.args.iter().map(TextArg::new).collect::<Result<_>>()?;
        let [json, pattern, keys @ ..] = args.as_slice() else {
            return exec_err!("json_match takes a JSON text, a regular expression and keys");
        };
        let mut compiled: Option<(String, regex::Regex)> = None;
        let mut out = BooleanBuilder::with_capacity(rows);
        let mut path: Vec<&str> = Vec::with_capacity(keys.len());
        for i in 0..rows {
            let (Some(doc), Some(re)) = (json.get(i), pattern.get(i)) else {
                out.append_null();
                continue;
            };
            let regex = match &mut compiled {
                Some((text, regex)) if text == re => &*regex,
                _ => match regex::Regex::new(re) {
                    Ok(regex) => &compiled.insert((re.to_string(), regex)).1,
                    Err(e) => return exec_err!("json_match: bad regular expression {re:?}: {e}"),
                },
            };
            path.clear();
            let mut complete = true;
            for k in keys {
                match k.get(i) {
                    Some(k) => path.push(k),
                    None => complete = false,
                }
            }
            if !complete {
                out.append_null();
                continue;
            }
            let mut seen = false;
            let mut matched = false;
            let mut jiter = jiter::Jiter::new(doc.as_bytes());
            // A document that is not JSON as far as the path goes holds no value.
            let _ = visit_json(&mut jiter, doc, &path, &mut |text: &str| {
                seen = true;
                matched = matched || regex.is_match(text);
            });
            if seen {
                out.append_value(matched);
            } else {
                out.append_null();
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// Calls `leaf` with the text of every value at `path` from the jiter's
/// position, looking into arrays (see [`JsonMatch`]).
fn visit_json(
    jiter: &mut jiter::Jiter,
    doc: &str,
    path: &[&str],
    leaf: &mut dyn FnMut(&str),
) -> std::result::Result<(), jiter::JiterError> {
    use jiter::Peek;
    let peek = jiter.peek()?;
    match (path.split_first(), peek) {
        (None, Peek::Array) => {
            let mut element = jiter.known_array()?;
            while let Some(p) = element {
                visit_leaf(jiter, doc, p, leaf)?;
                element = jiter.array_step()?;
            }
        }
        (None, p) => visit_leaf(jiter, doc, p, leaf)?,
        (Some((key, rest)), Peek::Object) => {
            let mut next = jiter.known_object()?.map(|k| k == *key);
            while let Some(is_key) = next {
                if is_key {
                    visit_json(jiter, doc, rest, leaf)?;
                } else {
                    jiter.next_skip()?;
                }
                next = jiter.next_key()?.map(|k| k == *key);
            }
        }
        (Some(_), Peek::Array) => {
            let mut element = jiter.known_array()?;
            while element.is_some() {
                visit_json(jiter, doc, path, leaf)?;
                element = jiter.array_step()?;
            }
        }
        (Some(_), p) => jiter.known_skip(p)?,
    }
    Ok(())
}

fn visit_leaf(
    jiter: &mut jiter::Jiter,
    doc: &str,
    peek: jiter::Peek,
    leaf: &mut dyn FnMut(&str),
) -> std::result::Result<(), jiter::JiterError> {
    use jiter::Peek;
    match peek {
        Peek::Null => jiter.known_skip(peek)?,
        Peek::String => leaf(jiter.known_str()?),
        Peek::Object | Peek::Array => {
            let start = jiter.current_index();
            jiter.known_skip(peek)?;
            let text = doc.get(start..jiter.current_index()).unwrap_or("");
            match serde_json::from_str::<Value>(text) {
                Ok(v) => leaf(&v.to_string()),
                Err(_) => leaf(text),
            }
        }
        _ => {
            let start = jiter.current_index();
            jiter.known_skip(peek)?;
            leaf(doc.get(start..jiter.current_index()).unwrap_or(""));
        }
    }
    Ok(())
}

/// A text argument of a function: a constant, read once per batch, or a
/// column, read as string views (other string types are viewed, not copied).
pub(crate) enum TextArg {
    Constant(Option<String>),
    Column(StringViewArray),
}

impl TextArg {
    pub(crate) fn new(value: &ColumnarValue) -> Result<TextArg> {
        use datafusion::scalar::ScalarValue;
        Ok(match value {
            ColumnarValue::Scalar(v) if v.is_null() => TextArg::Constant(None),
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            ) => TextArg::Constant(Some(s.clone())),
            ColumnarValue::Scalar(other) => TextArg::Constant(Some(other.to_string())),
            ColumnarValue::Array(a) => {
                let a = match a.data_type() {
                    DataType::Utf8View => a.clone(),
                    _ => cast(a, &DataType::Utf8View)?,
                };
                TextArg::Column(a.as_string_view().clone())
            }
        })
    }

    /// The text at `row`; `None` for NULL.
    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        match self {
            TextArg::Constant(text) => text.as_deref(),
            TextArg::Column(a) => (!a.is_null(row)).then(|| a.value(row)),
        }
    }
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
        let args: Vec<TextArg> = args.args.iter().map(TextArg::new).collect::<Result<_>>()?;
        let Some((json, keys)) = args.split_first() else {
            return Ok(ColumnarValue::Scalar(
                datafusion::scalar::ScalarValue::Utf8(None),
            ));
        };
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        let mut path: Vec<Option<&str>> = Vec::with_capacity(keys.len());
        for i in 0..rows {
            path.clear();
            path.extend(keys.iter().map(|k| k.get(i)));
            let found = json
                .get(i)
                .and_then(|doc| append_json_value(doc, &path, &mut out));
            if found.is_none() {
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
            signature: Signature::any(2, Volatility::Immutable),
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
    block_contains(parse_cidr(cidr)?, ip)
}

/// An address block (`10.0.0.0/8`, or one address): its address and prefix length.
fn parse_cidr(cidr: &str) -> Option<(std::net::IpAddr, u32)> {
    use std::net::IpAddr;
    Some(match cidr.split_once('/') {
        Some((n, b)) => (
            n.trim().parse::<IpAddr>().ok()?,
            b.trim().parse::<u32>().ok()?,
        ),
        None => {
            let n = cidr.trim().parse::<IpAddr>().ok()?;
            (n, if n.is_ipv4() { 32 } else { 128 })
        }
    })
}

/// Whether `ip` is in the block; `None` when it is not an address.
fn block_contains((net, bits): (std::net::IpAddr, u32), ip: &str) -> Option<bool> {
    use std::net::IpAddr;
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
        let rows = args.number_rows;
        let [cidr, ip] = text_args::<2>(&args)?;
        // A constant block (the usual case) is parsed once.
        let constant = match &cidr {
            TextArg::Constant(text) => Some(text.as_deref().and_then(parse_cidr)),
            TextArg::Column(_) => None,
        };
        let out: arrow::array::BooleanArray = (0..rows)
            .map(|i| {
                let block = match constant {
                    Some(block) => block,
                    None => cidr.get(i).and_then(parse_cidr),
                };
                block_contains(block?, ip.get(i)?)
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
            signature: Signature::any(2, Volatility::Immutable),
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
        let rows = args.number_rows;
        let [arn, part] = text_args::<2>(&args)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        for i in 0..rows {
            out.append_option(
                arn.get(i)
                    .zip(part.get(i))
                    .and_then(|(a, p)| arn_part(a, p)),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `ip_address(text)`: the text when it is an IPv4 or IPv6 address, else
/// NULL. `src_ip` is logged as text and CloudTrail puts service names there
/// (`lambda.amazonaws.com`, `AWS Internal`): formats with typed address
/// fields (OCSF) take only the addresses.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpAddress {
    signature: Signature,
}

impl IpAddress {
    pub fn new() -> Self {
        IpAddress {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for IpAddress {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for IpAddress {
    fn name(&self) -> &str {
        "ip_address"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [text] = text_args::<1>(&args)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 12);
        for i in 0..rows {
            out.append_option(
                text.get(i)
                    .filter(|t| t.parse::<std::net::IpAddr>().is_ok()),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The first `N` arguments as [`TextArg`]s.
fn text_args<const N: usize>(args: &ScalarFunctionArgs) -> Result<[TextArg; N]> {
    let args: Vec<TextArg> = args
        .args
        .iter()
        .take(N)
        .map(TextArg::new)
        .collect::<Result<_>>()?;
    args.try_into().map_err(|_| {
        datafusion::error::DataFusionError::Execution(format!("expected {N} arguments"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::RecordBatch;

    /// `sql` in a session with these functions: its one result batch.
    async fn run_sql(sql: &str) -> RecordBatch {
        let ctx = SessionContext::new();
        register_functions(&ctx);
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        assert_eq!(batches.len(), 1, "{sql}");
        batches.into_iter().next().unwrap()
    }

    /// A result column as text, row by row (`None` for NULL).
    fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let column = cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        let column = column.as_string::<i32>();
        (0..column.len())
            .map(|i| (!column.is_null(i)).then(|| column.value(i).to_string()))
            .collect()
    }

    #[tokio::test]
    async fn json_str_reads_nested_values() {
        let batch = run_sql(
            r#"SELECT json_str('{"a":{"b":["x",{"c":1}]}}', 'a', 'b', '0') AS s,
                      json_str('{"a":{"b":["x",{"c":1}]}}', 'a', 'b', '1') AS o,
                      json_str('{"a":1}', 'missing') AS m,
                      json_str('not json', 'a') AS bad"#,
        )
        .await;
        assert_eq!(texts(&batch, "s"), [Some("x".to_string())]);
        assert_eq!(texts(&batch, "o"), [Some(r#"{"c":1}"#.to_string())]);
        assert_eq!(texts(&batch, "m"), [None]);
        assert_eq!(texts(&batch, "bad"), [None]);
    }

    /// `json_str` on one literal document per case, through SQL.
    async fn json_str_of(cases: &[&str]) -> Vec<Option<String>> {
        let columns: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} AS c{i}"))
            .collect();
        let batch = run_sql(&format!("SELECT {}", columns.join(", "))).await;
        (0..cases.len())
            .flat_map(|i| texts(&batch, &format!("c{i}")))
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
        let batch = run_sql(
            r#"SELECT json_str(doc, key) AS v FROM (VALUES
                 ('{"a":"1","b":"2"}', 'a'), ('{"a":"1","b":"2"}', 'b'),
                 ('{"a":"1"}', NULL)) AS t(doc, key)"#,
        )
        .await;
        assert_eq!(
            texts(&batch, "v"),
            [Some("1".to_string()), Some("2".to_string()), None]
        );
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

    #[tokio::test]
    async fn cidr_contains_and_arn_part_over_columns() {
        let batch = run_sql(
            r#"SELECT cidr_contains('10.0.0.0/8', ip) AS constant_block,
                      cidr_contains(block, ip) AS row_block,
                      cidr_contains(NULL, ip) AS no_block,
                      arn_part(arrow_cast(arn, 'Utf8View'), 'account') AS account
               FROM (VALUES ('10.1.2.3', '10.0.0.0/8', 'arn:aws:iam::111:user/a'),
                            ('192.0.2.1', '192.0.2.0/24', NULL),
                            (NULL, 'not a block', 'arn:aws:s3:::bucket'),
                            ('AWS Internal', '10.0.0.0/8', 'arn:aws:sts::222:assumed-role/r/s'))
                    AS t(ip, block, arn)"#,
        )
        .await;
        let bools = |name: &str| -> Vec<Option<bool>> {
            let c = batch.column_by_name(name).unwrap().as_boolean();
            (0..c.len())
                .map(|i| (!c.is_null(i)).then(|| c.value(i)))
                .collect()
        };
        assert_eq!(
            bools("constant_block"),
            vec![Some(true), Some(false), None, None]
        );
        assert_eq!(bools("row_block"), vec![Some(true), Some(true), None, None]);
        assert_eq!(bools("no_block"), vec![None, None, None, None]);
        assert_eq!(
            texts(&batch, "account"),
            [Some("111".to_string()), None, None, Some("222".to_string())]
        );
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
        let batch = run_sql(r#"SELECT json_get_str('{"a":{"b":[1,"x"]}}', 'a', 'b', 1) AS j, cidr_contains('10.0.0.0/8', '10.1.2.3') AS c, arn_part('arn:aws:iam::1:user/bob', 'resource_name') AS n"#).await;
        let text = arrow::util::pretty::pretty_format_batches(&[batch])
            .unwrap()
            .to_string();
        assert!(
            text.contains("| x ") && text.contains("true") && text.contains("bob"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn ip_address_keeps_addresses_only() {
        let batch = run_sql(
            r#"SELECT ip_address(arrow_cast(v, 'Utf8View')) AS ip
               FROM (VALUES ('203.0.113.9'), ('2001:db8::1'), ('::ffff:192.0.2.1'),
                            ('lambda.amazonaws.com'), ('AWS Internal'), ('999.1.1.1'),
                            ('010.1.1.1'), (''), (NULL)) AS t(v)"#,
        )
        .await;
        assert_eq!(
            texts(&batch, "ip"),
            [
                Some("203.0.113.9".to_string()),
                Some("2001:db8::1".to_string()),
                Some("::ffff:192.0.2.1".to_string()),
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
    }
}
