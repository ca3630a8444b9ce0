//! Sample events by id: a rule that aggregates returns `sample_ids`, and the
//! raw records of those few events are read afterwards, so that reading a
//! window never decodes the whole `raw` column.

use datafusion::logical_expr::Expr;
use datafusion::prelude::{col, lit, SessionContext};
use std::collections::{BTreeMap, BTreeSet};
use vigil_ingest::Table;

use crate::error::DetectError;
use crate::evaluate::Candidate;
use crate::finding::MAX_SAMPLES;
use crate::redact::redact;
use crate::rule::Rule;

/// Fills the samples of candidates that name theirs by id, from the tables of
/// `ctx` (restricted by `filter`, e.g. the window's time range on a lake).
pub async fn fill(
    ctx: &SessionContext,
    rules: &[Rule],
    candidates: &mut [Candidate],
    filter: Option<Expr>,
) -> Result<(), DetectError> {
    let tables_of = |rule_id: &str| -> Vec<Table> {
        rules
            .iter()
            .find(|r| r.id == rule_id)
            .map(|r| r.tables.clone())
            .unwrap_or_default()
    };
    let mut wanted: BTreeMap<Table, BTreeSet<String>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.samples.is_empty()) {
        for table in tables_of(&c.rule_id) {
            wanted
                .entry(table)
                .or_default()
                .extend(c.sample_ids.iter().cloned());
        }
    }
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let lake = |source| DetectError::Lake(source);
    for (table, ids) in wanted.into_iter().filter(|(_, ids)| !ids.is_empty()) {
        let mut df = ctx.table(table.name()).await.map_err(lake)?;
        if let Some(f) = &filter {
            df = df.filter(f.clone()).map_err(lake)?;
        }
        let ids: Vec<Expr> = ids.into_iter().map(lit).collect();
        let batches = df
            .filter(col("event_id").in_list(ids, false))
            .and_then(|df| df.select_columns(&["event_id", "raw"]))
            .map_err(lake)?
            .collect()
            .await
            .map_err(lake)?;
        for row in vigil_queries::output::rows(&batches)? {
            if let (Some(id), Some(text)) = (
                row.get("event_id").and_then(|v| v.as_str()),
                row.get("raw").and_then(|v| v.as_str()),
            ) {
                raw.entry(id.to_string())
                    .or_insert_with(|| text.to_string());
            }
        }
    }
    for c in candidates.iter_mut().filter(|c| c.samples.is_empty()) {
        c.samples = c
            .sample_ids
            .iter()
            .filter_map(|id| raw.get(id))
            .map(|r| redact(r))
            .take(MAX_SAMPLES)
            .collect();
    }
    Ok(())
}
