//! SQL functions for log data: `json_str(json_text, key, ...)` reads a value out
//! of a JSON text column (CloudTrail `request_parameters`, `user_identity`, ...).

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
    ctx.register_udf(ScalarUDF::from(JsonStr::new()));
}

/// `json_str(json, 'a', 'b', '0')`: the value at `a.b[0]` as text (strings
/// as-is, other values as JSON), NULL when the text is not JSON or the path is absent.
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
}
