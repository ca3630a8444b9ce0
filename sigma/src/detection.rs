//! A rule's `detection`: named selections (field matches with modifiers,
//! or keywords) and the condition that combines them.

use yaml_rust2::Yaml;

use crate::error::Problem;
use crate::value::Value;

/// The named selections, in the order written, and the condition(s).
#[derive(Debug, Clone)]
pub struct Detection {
    pub selections: Vec<(String, Selection)>,
    /// One condition, or several (a rule matches when any does).
    pub conditions: Vec<String>,
    /// The legacy `timeframe` of a `| count()` condition.
    pub timeframe: Option<String>,
}

/// One selection.
#[derive(Debug, Clone)]
pub enum Selection {
    /// A map (all its field matches) or a list of maps (any of them).
    Fields(Vec<Vec<FieldMatch>>),
    /// Keywords: text searched for anywhere in the record (any of them).
    Keywords(Vec<Value>),
}

/// `field|modifier|...: value or values`.
#[derive(Debug, Clone)]
pub struct FieldMatch {
    pub field: String,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<Value>,
}

impl FieldMatch {
    pub fn has(&self, m: Modifier) -> bool {
        self.modifiers.contains(&m)
    }
}

/// The value modifiers Vigil implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    /// `re` flags.
    IgnoreCase,
    Multiline,
    DotAll,
    Cidr,
    Exists,
    Gt,
    Gte,
    Lt,
    Lte,
    FieldRef,
    Cased,
    Base64,
    Base64Offset,
    WinDash,
    Expand,
}

impl Modifier {
    fn parse(name: &str) -> Result<Modifier, Problem> {
        Ok(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "re" => Modifier::Re,
            "i" => Modifier::IgnoreCase,
            "m" => Modifier::Multiline,
            "s" => Modifier::DotAll,
            "cidr" => Modifier::Cidr,
            "exists" => Modifier::Exists,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "fieldref" => Modifier::FieldRef,
            "cased" => Modifier::Cased,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "windash" => Modifier::WinDash,
            "expand" => Modifier::Expand,
            other => return Err(format!("unknown value modifier {other:?}")),
        })
    }
}

/// Reads the `detection` map.
pub fn parse_detection(yaml: &Yaml) -> Result<Detection, Problem> {
    let Yaml::Hash(map) = yaml else {
        return Err("`detection` must be a map of selections and a condition".into());
    };
    let mut selections = Vec::new();
    let mut conditions = Vec::new();
    let mut timeframe = None;
    for (key, value) in map {
        let Some(name) = key.as_str() else {
            return Err(format!("a detection key must be a name, not {key:?}"));
        };
        match name {
            "condition" => match value {
                Yaml::String(s) => conditions.push(s.clone()),
                Yaml::Array(list) => {
                    for c in list {
                        conditions.push(c.as_str().ok_or("a condition must be text")?.to_string());
                    }
                }
                _ => return Err("`condition` must be text or a list of texts".into()),
            },
            "timeframe" => timeframe = value.as_str().map(str::to_string),
            _ => selections.push((
                name.to_string(),
                parse_selection(value).map_err(|e| format!("selection {name:?}: {e}"))?,
            )),
        }
    }
    if conditions.is_empty() {
        return Err("`detection` has no `condition`".into());
    }
    Ok(Detection {
        selections,
        conditions,
        timeframe,
    })
}

fn parse_selection(yaml: &Yaml) -> Result<Selection, Problem> {
    match yaml {
        Yaml::Hash(_) => Ok(Selection::Fields(vec![parse_map(yaml)?])),
        Yaml::Array(items)
            if items.iter().all(|i| matches!(i, Yaml::Hash(_))) && !items.is_empty() =>
        {
            Ok(Selection::Fields(
                items.iter().map(parse_map).collect::<Result<_, _>>()?,
            ))
        }
        Yaml::Array(items) => {
            if items
                .iter()
                .any(|i| matches!(i, Yaml::Hash(_) | Yaml::Array(_)))
            {
                return Err("a list mixes maps with keywords".into());
            }
            Ok(Selection::Keywords(
                items.iter().map(value).collect::<Result<_, _>>()?,
            ))
        }
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) => {
            Ok(Selection::Keywords(vec![value(yaml)?]))
        }
        _ => Err("a selection must be a map, a list of maps, or keywords".into()),
    }
}

fn parse_map(yaml: &Yaml) -> Result<Vec<FieldMatch>, Problem> {
    let Yaml::Hash(map) = yaml else {
        unreachable!("parse_map is called on maps")
    };
    let mut out = Vec::new();
    for (key, v) in map {
        let key = match key {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            other => return Err(format!("a field name must be text, not {other:?}")),
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().to_string();
        let modifiers = parts.map(Modifier::parse).collect::<Result<Vec<_>, _>>()?;
        let values = match v {
            Yaml::Array(list) => list.iter().map(value).collect::<Result<Vec<_>, _>>()?,
            other => vec![value(other)?],
        };
        if values.is_empty() {
            return Err(format!("{key:?} has an empty list of values"));
        }
        out.push(FieldMatch {
            field,
            modifiers,
            values,
        });
    }
    Ok(out)
}

fn value(yaml: &Yaml) -> Result<Value, Problem> {
    Ok(match yaml {
        Yaml::String(s) => Value::Text(s.clone()),
        Yaml::Integer(i) => Value::Integer(*i),
        Yaml::Real(r) => Value::Real(r.clone()),
        Yaml::Boolean(b) => Value::Boolean(*b),
        Yaml::Null => Value::Null,
        other => {
            return Err(format!(
                "a value must be text, a number, a boolean or null, not {other:?}"
            ))
        }
    })
}
