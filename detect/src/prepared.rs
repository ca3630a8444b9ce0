//! Streaming rules planned once per detector and run over every batch: a prepared plan's scans read the batch its execution carries.
//!
//! Planning a rule (SQL parse, analysis, optimisation, physical planning)
//! costs more than running it over a subscription delivery of a few
//! thousand rows, and a warm process (a Lambda container, `vigil tail`)
//! would otherwise plan every streaming rule again for every batch. Each
//! rule table is planned as a [`Slot`]: its scan holds no rows and takes
//! them, when the plan runs, from the [`BatchRows`] in the task context
//! (see [`PreparedPlans::task_context`]). A plan is reused through
//! [`reset_plan_states`], which gives every run fresh operator state.
//!
//! Plans depend on what the session holds besides the rule tables: the
//! `intel` table of the context in force. They are dropped when the
//! context's intelligence changes, and made again at the next batch.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use vigil_ingest::Table;

use crate::error::DetectError;
use crate::guard::RULE_TABLES;
use crate::rule::{Mode, Rule};
use crate::scan_table::{ScanSource, ScanTable};
use crate::tables::{rule_table_schema, session, Tables};

/// The rows of the rule tables one run of the prepared plans reads, carried
/// by its task context.
#[derive(Debug)]
pub struct BatchRows(BTreeMap<Table, Vec<RecordBatch>>);

impl BatchRows {
    /// The rows of `tables`, when every batch has its table's lake schema
    /// (the one the plans were made for); `None` otherwise.
    pub fn of(tables: &Tables) -> Option<BatchRows> {
        let mut rows = BTreeMap::new();
        for table in tables.tables() {
            let expected = rule_table_schema(table);
            let batches = tables.batches_of(table);
            if batches
                .iter()
                .any(|b| b.schema().fields() != expected.fields())
            {
                return None;
            }
            rows.insert(table, batches.to_vec());
        }
        Some(BatchRows(rows))
    }
}

/// A rule table in the planning session, and the one partition of each
/// scan of it: it reads the table's rows from the [`BatchRows`] of the run.
#[derive(Debug, Clone)]
struct Slot {
    table: Table,
    schema: SchemaRef,
}

impl ScanSource for Slot {
    fn partition(&self, _session_id: &str) -> Arc<dyn PartitionStream> {
        Arc::new(self.clone())
    }
}

impl PartitionStream for Slot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches: Vec<Result<RecordBatch, DataFusionError>> =
            match ctx.session_config().get_extension::<BatchRows>() {
                Some(rows) => rows
                    .0
                    .get(&self.table)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .map(Ok)
                    .collect(),
                None => vec![Err(DataFusionError::Internal(
                    "a prepared rule plan ran without the rows of its batch".into(),
                ))],
            };
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}

/// A rule's plan, and the SQL it was made from.
struct PreparedPlan {
    sql: String,
    plan: Arc<dyn ExecutionPlan>,
}

/// The session plans are made in, and the plans made so far, for one
/// version of the context's intelligence.
struct Prepared {
    intel_version: String,
    session: SessionContext,
    plans: HashMap<String, PreparedPlan>,
}

/// The streaming rules' plans, made on first use and shared by every clone
/// of a detector (a warm Lambda container keeps its pipeline's).
#[derive(Default)]
pub struct PreparedPlans {
    prepared: Mutex<Option<Prepared>>,
}

impl std::fmt::Debug for PreparedPlans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plans = self.lock().as_ref().map_or(0, |p| p.plans.len());
        f.debug_struct("PreparedPlans")
            .field("plans", &plans)
            .finish()
    }
}

/// Whether a rule can run from a prepared plan: a streaming rule whose SQL
/// does not name its window (the window differs at every batch).
pub fn preparable(rule: &Rule) -> bool {
    rule.mode == Mode::Streaming && !rule.reads_window()
}

impl PreparedPlans {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Prepared>> {
        // A panic elsewhere while holding the lock leaves a map of finished
        // plans: still sound.
        self.prepared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session of the plans for the context in force, and the version
    /// of its intelligence; made anew (and the plans dropped) when that
    /// changed.
    fn session(&self) -> Result<(SessionContext, String), DetectError> {
        let version = vigil_context::current().intel.version().to_string();
        let mut prepared = self.lock();
        if let Some(p) = prepared.as_ref().filter(|p| p.intel_version == version) {
            return Ok((p.session.clone(), version));
        }
        let session = planning_session()?;
        *prepared = Some(Prepared {
            intel_version: version.clone(),
            session: session.clone(),
            plans: HashMap::new(),
        });
        Ok((session, version))
    }

    /// The plan of `rule` (a [`preparable`] one), made now if it is not yet,
    /// ready to run with a context from [`PreparedPlans::task_context`].
    pub async fn plan(&self, rule: &Rule) -> Result<Arc<dyn ExecutionPlan>, DetectError> {
        let (session, version) = self.session()?;
        let sql = rule.sql(vigil_queries::TimeRange::new(0, 0));
        let made = self.lock().as_ref().and_then(|p| {
            p.plans
                .get(&rule.id)
                .filter(|made| made.sql == sql)
                .map(|made| made.plan.clone())
        });
        let plan = match made {
            Some(plan) => plan,
            None => {
                let plan = crate::evaluate::plan_sql(&session, rule, &sql).await?;
                // Kept only if the context did not change while planning
                // (the plan holds the intel table it was made with).
                if let Some(p) = self.lock().as_mut().filter(|p| p.intel_version == version) {
                    p.plans.insert(
                        rule.id.clone(),
                        PreparedPlan {
                            sql,
                            plan: plan.clone(),
                        },
                    );
                }
                plan
            }
        };
        // Operators keep state from a run (a join's build side, a top-k's
        // heap): each run gets its own.
        reset_plan_states(plan).map_err(|source| DetectError::Query {
            rule: rule.id.clone(),
            source,
        })
    }

    /// A task context for running prepared plans over `rows`.
    pub fn task_context(&self, rows: BatchRows) -> Result<Arc<TaskContext>, DetectError> {
        let shared = self.session()?.0.task_ctx();
        let config = shared
            .session_config()
            .clone()
            .with_extension(Arc::new(rows));
        let task = TaskContext::new(
            shared.task_id(),
            shared.session_id(),
            config,
            shared.scalar_functions().clone(),
            shared.higher_order_functions().clone(),
            shared.aggregate_functions().clone(),
            shared.window_functions().clone(),
            shared.runtime_env(),
        );
        Ok(Arc::new(task))
    }
}

/// The session prepared plans are made in: the rule session, each rule
/// table a [`Slot`]. Dynamic filters are off: a plan that pushed one into
/// its scans could not be run again (see [`reset_plan_states`]), and the
/// batches are too small for them to pay.
fn planning_session() -> Result<SessionContext, DetectError> {
    let ctx = session();
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        let optimizer = &mut state.config_mut().options_mut().optimizer;
        optimizer.enable_dynamic_filter_pushdown = false;
        optimizer.enable_topk_dynamic_filter_pushdown = false;
        optimizer.enable_join_dynamic_filter_pushdown = false;
        optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    }
    for table in RULE_TABLES {
        let schema = rule_table_schema(table);
        let slot = Slot {
            table,
            schema: schema.clone(),
        };
        let constraints = Tables::unique_ids(&schema);
        ctx.register_table(
            table.name(),
            Arc::new(ScanTable::new(schema, constraints, Arc::new(slot))),
        )
        .map_err(DetectError::Lake)?;
    }
    // Streaming rules see no first-seen facts (an empty table), as in a
    // batch's own session.
    vigil_queries::first_seen::register(&ctx, None)?;
    Ok(ctx)
}
