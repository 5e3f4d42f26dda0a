//! The scheduler's catalog and query planning.
//!
//! One DataFusion `SessionContext` holds the catalog that every client of
//! the cluster shares: tables registered by the `register_table` action or
//! by SQL DDL (`CREATE EXTERNAL TABLE`, `DROP TABLE`). Each query is planned
//! in a session derived from it, with the query's own settings, so one
//! client's settings never leak into another's query while table changes
//! are visible to all. Views (`CREATE VIEW`, `DROP VIEW`) belong to the
//! client session that made them ([`crate::views`]).

use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ballista_core::serde::logical::{logical_plan_from_proto, read_files_provider};
use ballista_core::serde::physical::configure_session_for_spec;
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::catalog::view::ViewTable;
use datafusion::common::TableReference;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{CreateView, DdlStatement, DropView, Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::planner::{StageOptions, StagePlan, dag_text, plan_stages};
use crate::scan_split::balance_scans;
use crate::views::{OverlayCatalogList, SessionViews};

/// A query planned for distributed execution.
#[derive(Debug)]
pub struct PlannedQuery {
    /// The optimised logical plan.
    pub logical: LogicalPlan,
    /// The physical plan before it was cut into stages.
    pub physical: Arc<dyn ExecutionPlan>,
    /// The stages.
    pub stages: StagePlan,
    /// The result schema.
    pub schema: SchemaRef,
}

/// What a statement turned into.
#[derive(Debug)]
pub enum Planned {
    /// A query to run as a job.
    Query(Box<PlannedQuery>),
    /// A catalog change (DDL) that was applied while planning; there is no
    /// job and no result rows.
    CatalogChanged,
}

/// The shared catalog and the planner over it.
#[derive(Clone)]
pub struct Catalog {
    ctx: SessionContext,
    views: Arc<SessionViews>,
    stage_options: StageOptions,
    /// The session state last built for a query without views, kept for
    /// the next query with the same settings ([`Catalog::session`]).
    last_built: Arc<Mutex<Option<BuiltSession>>>,
}

/// A session state built from the shared one with `settings` and
/// `target_partitions`. Building one (a fresh config, every function
/// registry copied) was about 8% of the scheduler's CPU over TPC-H; a copy
/// of a built one is a fraction of that. Reusing it is safe because what a
/// query may change is not in it: tables live in the catalog list, which
/// every copy shares, and a query's UDFs and views go into its own copy.
struct BuiltSession {
    settings: Vec<pb::KeyValue>,
    target_partitions: usize,
    state: SessionState,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("tables", &self.table_names())
            .finish()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self {
            ctx: SessionContext::new_with_config(base_config()),
            views: Arc::default(),
            stage_options: StageOptions::default(),
            last_built: Arc::default(),
        }
    }

    /// How queries are cut into stages: with runtime filters, adaptive
    /// joins (both on by default).
    pub fn with_stage_options(mut self, options: StageOptions) -> Self {
        self.stage_options = options;
        self
    }

    /// A session over the shared catalog, with the views of client session
    /// `session_id` and `settings` applied on top of the defaults;
    /// `target_partitions` is used unless a setting names it.
    pub fn session(
        &self,
        session_id: &str,
        settings: &[pb::KeyValue],
        target_partitions: usize,
    ) -> Result<SessionContext> {
        let views = if session_id.is_empty() {
            Arc::default()
        } else {
            self.views.views(session_id)
        };
        if views.is_empty() {
            let last = self.last_built.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(built) = last.as_ref()
                && built.target_partitions == target_partitions
                && built.settings == settings
            {
                return Ok(SessionContext::new_with_state(built.state.clone()));
            }
        }
        let mut config = base_config().with_target_partitions(target_partitions.max(1));
        // The catalog exists already: a fresh default catalog would replace
        // (and empty) the shared one.
        config
            .options_mut()
            .catalog
            .create_default_catalog_and_schema = false;
        for (i, kv) in settings.iter().enumerate() {
            config.options_mut().set(&kv.key, &kv.value).map_err(|e| {
                BallistaError::invalid(&format!("ExecuteQuery.settings[{i}]"), e.to_string())
            })?;
        }
        let shared = self.ctx.state();
        // Sharing the catalog list makes table DDL in this session visible
        // to all; the overlay adds the session's own views.
        let mut builder = SessionStateBuilder::new_from_existing(shared.clone());
        let has_views = !views.is_empty();
        if has_views {
            let catalog = &config.options().catalog;
            builder = builder.with_catalog_list(Arc::new(OverlayCatalogList::new(
                Arc::clone(shared.catalog_list()),
                &catalog.default_catalog,
                &catalog.default_schema,
                views,
            )));
        }
        let state = builder
            .with_config(config)
            .with_query_planner(Arc::new(crate::udf::UdfQueryPlanner))
            .build();
        if !has_views {
            *self.last_built.lock().unwrap_or_else(|e| e.into_inner()) = Some(BuiltSession {
                settings: settings.to_vec(),
                target_partitions,
                state: state.clone(),
            });
        }
        Ok(SessionContext::new_with_state(state))
    }

    /// The runtime (object stores, caches) every session shares.
    pub fn runtime_env(&self) -> Arc<datafusion::execution::runtime_env::RuntimeEnv> {
        self.ctx.runtime_env()
    }

    /// Forgets the views of client sessions idle for longer than `ttl`.
    pub fn expire_sessions(&self, ttl: std::time::Duration) -> usize {
        self.views.expire(ttl)
    }

    /// Plans `query` for distribution, applying DDL on the way.
    pub async fn plan(
        &self,
        query: &pb::ExecuteQuery,
        target_partitions: usize,
    ) -> Result<Planned> {
        let ctx = self.session(&query.session_id, &query.settings, target_partitions)?;
        crate::udf::register_query_udfs(&ctx, &query.udfs)?;
        // One copy of the session's state for the whole statement (each
        // `ctx.state()` copies every function registry), taken after the
        // query's UDFs are in; it also starts the statement's clock, which
        // `now()` reads.
        let state = ctx.state();
        let logical = match &query.query {
            // A plan that is nothing but SQL text is that statement, which
            // may be a statement rather than a query (`EXPLAIN`, DDL).
            Some(pb::execute_query::Query::Plan(pb::Relation {
                rel_type: Some(pb::relation::RelType::Sql(sql)),
                ..
            })) if !sql.query.trim().is_empty() => state.create_logical_plan(&sql.query).await?,
            Some(pb::execute_query::Query::Plan(rel)) => {
                logical_plan_from_proto(rel, &state).await?
            }
            Some(pb::execute_query::Query::Sql(sql)) => {
                if sql.trim().is_empty() {
                    return Err(BallistaError::missing("ExecuteQuery.sql"));
                }
                state.create_logical_plan(sql).await?
            }
            Some(pb::execute_query::Query::Substrait(_)) => {
                return Err(BallistaError::NotImplemented(
                    "ExecuteQuery.substrait: Substrait plans are not accepted yet; send the \
                     Ballista logical plan or SQL"
                        .to_string(),
                ));
            }
            None => return Err(BallistaError::missing("ExecuteQuery.query")),
        };
        match logical {
            LogicalPlan::Ddl(DdlStatement::CreateView(view)) => {
                self.create_view(&query.session_id, &ctx, view).await?;
                Ok(Planned::CatalogChanged)
            }
            LogicalPlan::Ddl(DdlStatement::DropView(view)) => {
                self.drop_view(&query.session_id, &view)?;
                Ok(Planned::CatalogChanged)
            }
            LogicalPlan::Ddl(_) => {
                ctx.execute_logical_plan(logical).await?;
                Ok(Planned::CatalogChanged)
            }
            LogicalPlan::Statement(_) => Err(BallistaError::NotImplemented(
                "session statements (SET, transactions, prepared statements) have no session \
                 to apply to: pass settings in ExecuteQuery.settings"
                    .to_string(),
            )),
            LogicalPlan::Dml(_) | LogicalPlan::Copy(_) => Err(BallistaError::NotImplemented(
                "INSERT / COPY are not supported: Ballista queries read data; register files \
                 as tables instead"
                    .to_string(),
            )),
            LogicalPlan::Explain(ref e) => {
                let inner = Arc::unwrap_or_clone(Arc::clone(&e.plan));
                let planned = self.plan_logical(&state, inner).await?;
                let batch = explain_batch(&planned)?;
                let source =
                    MemorySourceConfig::try_new_exec(&[vec![batch]], batch_schema(), None)?;
                let physical: Arc<dyn ExecutionPlan> = source;
                let stages = plan_stages(Arc::clone(&physical), self.stage_options)?;
                Ok(Planned::Query(Box::new(PlannedQuery {
                    logical,
                    schema: batch_schema(),
                    physical,
                    stages,
                })))
            }
            plan => Ok(Planned::Query(Box::new(
                self.plan_logical(&state, plan).await?,
            ))),
        }
    }

    /// `CREATE [OR REPLACE] [TEMPORARY] VIEW`: a view of the client
    /// session (with or without TEMPORARY; there are no shared views).
    async fn create_view(
        &self,
        session_id: &str,
        ctx: &SessionContext,
        view: CreateView,
    ) -> Result<()> {
        let name = view_name(session_id, &view.name, ctx)?;
        if !view.or_replace && ctx.table_exist(view.name.clone())? {
            return Err(BallistaError::InvalidArgument(format!(
                "`{name}` already exists (use CREATE OR REPLACE VIEW to replace a view)"
            )));
        }
        // The definition's tables and columns were resolved when the
        // statement was planned: a bad view is an error here already.
        let table: Arc<dyn datafusion::catalog::TableProvider> = Arc::new(ViewTable::new(
            Arc::unwrap_or_clone(view.input),
            view.definition,
        ));
        self.views
            .update(session_id, |views| views.insert(name, table));
        Ok(())
    }

    /// `DROP VIEW [IF EXISTS]` of a view of the client session.
    fn drop_view(&self, session_id: &str, view: &DropView) -> Result<()> {
        let table = view.name.table().to_string();
        let dropped = !session_id.is_empty()
            && self
                .views
                .update(session_id, |views| views.remove(&table))
                .is_some();
        if !dropped && !view.if_exists {
            return Err(BallistaError::NotFound(format!(
                "view `{}` does not exist in this session",
                view.name
            )));
        }
        Ok(())
    }

    async fn plan_logical(&self, state: &SessionState, plan: LogicalPlan) -> Result<PlannedQuery> {
        let logical = state.optimize(&plan)?;
        // `SessionState::create_physical_plan` would optimise the logical
        // plan a second time.
        let physical = state
            .query_planner()
            .create_physical_plan(&logical, state)
            .await?;
        let physical = balance_scans(physical, state.runtime_env()).await?;
        let options = StageOptions {
            reuse_stages: self.stage_options.reuse_stages && !has_volatile_function(&logical),
            ..self.stage_options
        };
        let stages = plan_stages(Arc::clone(&physical), options)?;
        // The client sees the logical schema's names (the physical plan's
        // are the same columns).
        let schema = physical.schema();
        Ok(PlannedQuery {
            logical,
            physical,
            stages,
            schema,
        })
    }

    /// Adds a table backed by files (action `register_table`).
    pub async fn register_table(&self, req: &pb::RegisterTable) -> Result<()> {
        let name = table_name(req.table.as_ref(), "RegisterTable.table")?;
        let source = ballista_core::error::required(&req.source, "RegisterTable.source")?;
        let provider =
            read_files_provider(source, "RegisterTable.source", &self.ctx.state()).await?;
        if self.ctx.table_exist(name.clone())? {
            if !req.replace {
                return Err(BallistaError::InvalidArgument(format!(
                    "table `{name}` already exists (set `replace` to overwrite it)"
                )));
            }
            self.ctx.deregister_table(name.clone())?;
        }
        self.ctx.register_table(name, provider)?;
        Ok(())
    }

    /// Removes a table (action `drop_table`).
    pub fn drop_table(&self, req: &pb::DropTable) -> Result<()> {
        let name = table_name(req.table.as_ref(), "DropTable.table")?;
        if self.ctx.deregister_table(name.clone())?.is_none() && !req.if_exists {
            return Err(BallistaError::NotFound(format!(
                "table `{name}` does not exist"
            )));
        }
        Ok(())
    }

    /// Names of the tables in the default schema, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for catalog in self.ctx.catalog_names() {
            if let Some(c) = self.ctx.catalog(&catalog) {
                for schema in c.schema_names() {
                    if let Some(s) = c.schema(&schema) {
                        names.extend(s.table_names());
                    }
                }
            }
        }
        names.sort();
        names
    }
}

/// Whether `plan` (subqueries included) calls a volatile function such as
/// `random()`: two equal parts of such a plan are meant to give different
/// rows, so each must run ([`StageOptions::reuse_stages`]).
fn has_volatile_function(plan: &LogicalPlan) -> bool {
    let found = |e: &Expr| {
        Ok(if e.is_volatile() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    };
    plan.apply_with_subqueries(|node| node.apply_expressions(found))
        .is_ok_and(|r| r == TreeNodeRecursion::Stop)
}

/// Settings every Ballista session starts from.
fn base_config() -> SessionConfig {
    let mut config = configure_session_for_spec(SessionConfig::new().with_information_schema(true));
    // Extra round-robin repartitions would each become a shuffle; file scans
    // are split into byte ranges instead (`repartition_file_scans`).
    config
        .options_mut()
        .optimizer
        .enable_round_robin_repartition = false;
    // A partitioned hash join shuffles both sides through files; a broadcast
    // (`CollectLeft`) one ships the build side whole to every probe task and
    // leaves the probe side where it is. DataFusion's 1 MB default weighs an
    // in-memory repartition, so distribution warrants a higher bar (Spark's
    // is 10 MB). 32 MiB measured best over TPC-H SF 1 (docs/architecture.md,
    // "Broadcast joins"); the row threshold, used when a side has no byte
    // estimate, stays at DataFusion's. A query setting overrides either.
    config
        .options_mut()
        .optimizer
        .hash_join_single_partition_threshold = BROADCAST_JOIN_THRESHOLD_BYTES;
    config
}

/// The estimated build-side size (bytes) under which the planner broadcasts a
/// hash join instead of shuffling both sides.
pub const BROADCAST_JOIN_THRESHOLD_BYTES: usize = 32 * 1024 * 1024;

fn table_name(t: Option<&pb::TableReference>, path: &str) -> Result<TableReference> {
    let t = t.ok_or_else(|| BallistaError::missing(path))?;
    if t.table.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.table")));
    }
    Ok(match (&t.catalog, &t.schema) {
        (None, None) => TableReference::bare(t.table.clone()),
        (None, Some(s)) => TableReference::partial(s.clone(), t.table.clone()),
        (Some(c), Some(s)) => TableReference::full(c.clone(), s.clone(), t.table.clone()),
        (Some(_), None) => {
            return Err(BallistaError::invalid(
                path,
                "a catalog is given without a schema",
            ));
        }
    })
}

/// The name a session view is kept under: views live in the default
/// schema, and need a session to belong to.
fn view_name(session_id: &str, name: &TableReference, ctx: &SessionContext) -> Result<String> {
    if session_id.is_empty() {
        return Err(BallistaError::InvalidArgument(
            "CREATE VIEW: views belong to a client session, and this query has no \
             ExecuteQuery.session_id (the Ballista clients always send one)"
                .to_string(),
        ));
    }
    let state = ctx.state();
    let catalog = &state.config_options().catalog;
    let in_default = name.catalog().is_none_or(|c| c == catalog.default_catalog)
        && name.schema().is_none_or(|s| s == catalog.default_schema);
    if !in_default {
        return Err(BallistaError::NotImplemented(format!(
            "CREATE VIEW {name}: session views live in the default schema `{}.{}`",
            catalog.default_catalog, catalog.default_schema
        )));
    }
    Ok(name.table().to_string())
}

fn batch_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]))
}

/// `EXPLAIN` output: the logical plan, the physical plan and the stage DAG.
fn explain_batch(q: &PlannedQuery) -> Result<RecordBatch> {
    let physical = datafusion::physical_plan::displayable(q.physical.as_ref())
        .indent(false)
        .to_string();
    let types = StringArray::from(vec!["logical_plan", "physical_plan", "distributed_plan"]);
    let plans = StringArray::from(vec![
        q.logical.display_indent().to_string(),
        physical,
        dag_text(&q.stages),
    ]);
    Ok(RecordBatch::try_new(
        batch_schema(),
        vec![Arc::new(types), Arc::new(plans)],
    )?)
}
