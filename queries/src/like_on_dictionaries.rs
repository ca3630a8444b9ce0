//! Evaluates `LIKE` on a dictionary column per distinct value: drops the cast to text that `starts_with` brings.
//!
//! DataFusion rewrites `starts_with(event_name, 'AddPermission')` into
//! `event_name LIKE 'AddPermission%'`, but only after its signature has cast
//! the column to text: on a dictionary column (see [`crate::dictionary`]) that
//! cast builds a string for every row, twice the time of the `LIKE` itself.
//! [`LikeOnDictionaries`] removes such a cast, so the pattern is matched once
//! per dictionary value, with the same answer.

use arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Cast, Like};
use datafusion::logical_expr::{lit, Expr, ExprSchemable, Filter, LogicalPlan};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// In filters, `CAST(dictionary_column AS text) LIKE 'pattern'` becomes
/// `dictionary_column LIKE 'pattern'`.
#[derive(Debug, Default)]
pub struct LikeOnDictionaries;

impl OptimizerRule for LikeOnDictionaries {
    fn name(&self) -> &str {
        "like_on_dictionaries"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(filter) = plan else {
            return Ok(Transformed::no(plan));
        };
        let schema = filter.input.schema().clone();
        let predicate = filter
            .predicate
            .clone()
            .transform(|e| uncast_like(e, &schema))?;
        if !predicate.transformed {
            return Ok(Transformed::no(LogicalPlan::Filter(filter)));
        }
        let filter = Filter::try_new(predicate.data, filter.input)?;
        Ok(Transformed::yes(LogicalPlan::Filter(filter)))
    }
}

/// `expr` without the cast of a dictionary column to text under a `LIKE`
/// with a literal pattern.
fn uncast_like(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::Like(like) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let Expr::Cast(Cast {
        expr: column,
        field,
    }) = like.expr.as_ref()
    else {
        return Ok(Transformed::no(expr));
    };
    let is_text = matches!(
        field.data_type(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    );
    let of_text = matches!(
        column.get_type(schema)?,
        DataType::Dictionary(_, values) if *values == DataType::Utf8
    );
    let Some(pattern) = literal_text(&like.pattern) else {
        return Ok(Transformed::no(expr));
    };
    if !is_text || !of_text {
        return Ok(Transformed::no(expr));
    }
    Ok(Transformed::yes(Expr::Like(Like {
        expr: column.clone(),
        // The dictionary's values are `Utf8`: so must the pattern be.
        pattern: Box::new(lit(pattern)),
        ..like.clone()
    })))
}

/// The text of a string literal, through casts.
fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        Expr::Cast(Cast { expr, .. }) => literal_text(expr),
        _ => None,
    }
}
