//! Query results out: Arrow batches as JSON values, tables, CSV, JSON, NDJSON or Parquet.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMillisecondType};
use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value};
use std::io::Write;

use crate::error::QueryError;

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Parquet,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "parquet" => Ok(Format::Parquet),
            _ => Err(format!(
                "unknown format {s:?} (table, csv, json, ndjson, parquet)"
            )),
        }
    }
}

/// An Arrow column as JSON values (timestamps as RFC 3339 text).
pub fn to_values(column: &ArrayRef) -> Result<Vec<Value>, arrow::error::ArrowError> {
    let n = column.len();
    let out = match column.data_type() {
        DataType::Null => vec![Value::Null; n],
        DataType::Boolean => {
            let a = column.as_boolean();
            (0..n)
                .map(|i| {
                    if a.is_valid(i) {
                        Value::Bool(a.value(i))
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let c = cast(column, &DataType::Int64)?;
            let a = c.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| {
                    if a.is_valid(i) {
                        Value::from(a.value(i))
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => {
            let c = cast(column, &DataType::Float64)?;
            let a = c.as_primitive::<Float64Type>();
            (0..n)
                .map(|i| {
                    if a.is_valid(i) {
                        serde_json::Number::from_f64(a.value(i))
                            .map(Value::Number)
                            .unwrap_or(Value::Null)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        DataType::Timestamp(_, _) => {
            let c = cast(column, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
            let a = c.as_primitive::<TimestampMillisecondType>();
            (0..n)
                .map(|i| {
                    if a.is_valid(i) {
                        DateTime::from_timestamp_millis(a.value(i))
                            .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
                            .unwrap_or(Value::Null)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::FixedSizeList(_, _) => {
            let c = cast(
                column,
                &DataType::new_list(list_item_type(column.data_type()), true),
            )?;
            let a = c.as_list::<i32>();
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                if a.is_valid(i) {
                    out.push(Value::Array(to_values(&a.value(i))?));
                } else {
                    out.push(Value::Null);
                }
            }
            out
        }
        // Structs (OCSF's objects) as JSON objects, NULL fields left out.
        DataType::Struct(fields) => {
            let a = column.as_struct();
            let children: Vec<Vec<Value>> = a
                .columns()
                .iter()
                .map(to_values)
                .collect::<Result<_, _>>()?;
            (0..n)
                .map(|i| {
                    if !a.is_valid(i) {
                        return Value::Null;
                    }
                    let object: Map<String, Value> = fields
                        .iter()
                        .zip(&children)
                        .filter(|(_, values)| !values[i].is_null())
                        .map(|(field, values)| (field.name().clone(), values[i].clone()))
                        .collect();
                    Value::Object(object)
                })
                .collect()
        }
        // Maps (OCSF's `unmapped`) as JSON objects keyed by the keys' text.
        DataType::Map(_, _) => {
            let a = column.as_map();
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                if !a.is_valid(i) {
                    out.push(Value::Null);
                    continue;
                }
                let entries = a.value(i);
                let keys = to_values(entries.column(0))?;
                let values = to_values(entries.column(1))?;
                let object: Map<String, Value> = keys
                    .into_iter()
                    .zip(values)
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| match k {
                        Value::String(k) => (k, v),
                        other => (other.to_string(), v),
                    })
                    .collect();
                out.push(Value::Object(object));
            }
            out
        }
        _ => {
            let c = cast(column, &DataType::Utf8)?;
            let a = c.as_string::<i32>();
            (0..n)
                .map(|i| {
                    if a.is_valid(i) {
                        Value::String(a.value(i).to_string())
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
    };
    Ok(out)
}

fn list_item_type(dt: &DataType) -> DataType {
    match dt {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::FixedSizeList(f, _) => f.data_type().clone(),
        other => other.clone(),
    }
}

/// The rows of the batches as JSON values, in column order.
pub fn row_values(batches: &[RecordBatch]) -> Result<Vec<Vec<Value>>, QueryError> {
    let mut out = Vec::new();
    for batch in batches {
        let columns: Vec<Vec<Value>> = batch
            .columns()
            .iter()
            .map(to_values)
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            out.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    Ok(out)
}

/// The rows of the batches as JSON objects (for programs; key order is not kept).
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, QueryError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Ok(row_values(batches)?
        .into_iter()
        .map(|values| names.iter().cloned().zip(values).collect())
        .collect())
}

/// One row as a JSON object with its keys in column order.
fn json_object(names: &[String], values: &[Value]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&Value::String(k.clone()).to_string());
        s.push(':');
        s.push_str(&v.to_string());
    }
    s.push('}');
    s
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes the batches (of `schema`, which heads a table or CSV even with no rows) in `format`.
pub fn write(
    schema: arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    match format {
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header(&names);
            for row in row_values(batches)? {
                table.add_row(row.iter().map(cell).collect::<Vec<_>>());
            }
            writeln!(out, "{table}").map_err(QueryError::Io)
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&names)
                .map_err(|e| QueryError::Io(e.into()))?;
            for row in row_values(batches)? {
                w.write_record(row.iter().map(cell))
                    .map_err(|e| QueryError::Io(e.into()))?;
            }
            w.flush().map_err(QueryError::Io)
        }
        Format::Json => {
            let rows = row_values(batches)?;
            writeln!(out, "[").map_err(QueryError::Io)?;
            for (i, row) in rows.iter().enumerate() {
                let sep = if i + 1 < rows.len() { "," } else { "" };
                writeln!(out, "  {}{sep}", json_object(&names, row)).map_err(QueryError::Io)?;
            }
            writeln!(out, "]").map_err(QueryError::Io)
        }
        Format::Ndjson => {
            for row in row_values(batches)? {
                writeln!(out, "{}", json_object(&names, &row)).map_err(QueryError::Io)?;
            }
            Ok(())
        }
        Format::Parquet => {
            let mut buf = Vec::new();
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None)?;
            for b in batches {
                w.write(b)?;
            }
            w.close()?;
            out.write_all(&buf).map_err(QueryError::Io)
        }
    }
}
