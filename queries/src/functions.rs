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
/// as-is, other values as JSON: `json_get_str` would give NULL for those),
/// NULL when the text is not JSON or the path is absent.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonStr {
    signature: Signature,
}

impl JsonStr {
    pub fn new() -> Self {
        JsonStr {
            signature: Signature::variadic(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

impl Default for JsonStr {
    fn default() -> Self {
        Self::new()
    }
}

fn lookup<'a>(mut v: &'a Value, path: &[Option<&str>]) -> Option<&'a Value> {
    for key in path {
        let key = (*key)?;
        v = match v {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
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
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let arrays: Vec<ArrayRef> = arrays
            .iter()
            .map(|a| cast(a, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let Some((json, keys)) = arrays.split_first() else {
            return Ok(ColumnarValue::Scalar(
                datafusion::scalar::ScalarValue::Utf8(None),
            ));
        };
        let json = json.as_string::<i32>();
        let keys: Vec<_> = keys.iter().map(|k| k.as_string::<i32>()).collect();
        let mut out = StringBuilder::with_capacity(json.len(), json.len() * 8);
        let mut path = Vec::with_capacity(keys.len());
        for i in 0..json.len() {
            if json.is_null(i) {
                out.append_null();
                continue;
            }
            path.clear();
            path.extend(keys.iter().map(|k| (!k.is_null(i)).then(|| k.value(i))));
            match serde_json::from_str::<Value>(json.value(i))
                .ok()
                .as_ref()
                .and_then(|v| lookup(v, &path))
            {
                None | Some(Value::Null) => out.append_null(),
                Some(Value::String(s)) => out.append_value(s),
                Some(other) => out.append_value(other.to_string()),
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
