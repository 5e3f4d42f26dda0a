//! Runtime filters across stages: once the stage that computes a hash
//! join's build side has run, its join keys narrow the scans on the join's
//! probe side before those scans run.
//!
//! DataFusion plans these filters itself (dynamic filter pushdown): a hash
//! join makes a `DynamicFilterPhysicalExpr` and pushes it down its probe
//! side into the scans, through projections, repartitions and aggregations
//! on the join keys, then fills it in when its hash table is built.
//! Executors do the same inside a stage (the executor's `narrow.rs`). But
//! the scans of a probe side are often in earlier stages than the join,
//! which have run before any build side exists. For those, the scheduler
//! fills the filters in:
//!
//! 1. at planning ([`find`]): a join whose whole build side is the output
//!    of one earlier stage (read through a stage input), and whose filter
//!    went into scans of other stages, makes the stages of those scans wait
//!    for that build stage;
//! 2. once the build stage has run, the scheduler reads its output (at
//!    most [`MAX_BUILD_ROWS`] rows, checked against the partition
//!    statistics before reading, [`small_enough`]) batch by batch, keeping
//!    the distinct values of each build key ([`BuildKeys`]), and stops as
//!    soon as every key has more than [`MAX_VALUES`];
//! 3. the waiting stages are encoded with a `FilterExec` over each such
//!    scan ([`apply`]): `key IN (values)`, over the probe key as the scan
//!    sees it (the filter's copy in the scan knows it), so probe rows that
//!    cannot find a match are dropped before they are aggregated or
//!    shuffled. It is an ordinary `InList`: executors need nothing new.
//!
//! DataFusion only gives a join a filter when dropping probe rows without a
//! match can't change its result (its probe side is not preserved). A
//! filter that can't be filled (a large build side, a failed read) stays
//! `true`, which is always correct: the stages that waited run unfiltered.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::compute::is_not_null;
use arrow::datatypes::{Field, Schema, SchemaRef};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::common::NullEquality;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::EmitTo;
use datafusion::physical_expr::Partitioning;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{DynamicFilterPhysicalExpr, InListExpr, lit};
use datafusion::physical_expr::utils::{conjunction_opt, reassign_expr_columns};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::repartition::RepartitionExec;

use crate::planner::{QueryStage, StageInput, is_exchange};

/// Build sides with more rows than this are not read (their partition
/// statistics say so before any read). Below it, what a read costs is
/// bounded by the keys: a side of many distinct keys is given up after
/// about [`MAX_VALUES`] rows, and only a side of few keys over many rows is
/// read whole (TPC-H Q17 at SF 10: 60 k lineitem rows of 2 k part keys,
/// which filter a 60 M-row scan).
pub const MAX_BUILD_ROWS: u64 = 1_000_000;

/// At most this many distinct values of one key go into a filter; a key
/// with more gets no filter. The values travel in every task's plan as one
/// Arrow array (`PhysicalInList.values_ipc_stream`) and each task builds a
/// hash set of them, which is cheap; but the probe stages wait for the
/// build side and test every row against the set. With up to a million
/// values, TPC-H at SF 10 ran 3% slower overall: the filters that pay (Q17,
/// Q18, Q20) have at most a few thousand values, while Q4's 570 k order keys
/// and Q16's 300 k supplier keys cost more than they saved (Q4 1.0 → 1.5 s,
/// Q16 0.36 → 0.73 s, where it replaced a broadcast).
pub const MAX_VALUES: usize = 10_000;

/// A join's runtime filter, as planned, and once filled in.
#[derive(Debug)]
pub struct RuntimeFilter {
    /// The expression id of the join's `DynamicFilterPhysicalExpr`, the
    /// same in the copies DataFusion pushed into scans.
    id: u64,
    /// The join's build-side keys, over the build stage's output schema.
    build_keys: Vec<Arc<dyn PhysicalExpr>>,
    build_schema: SchemaRef,
    /// The stage whose whole output is the join's build side.
    pub build_stage: u32,
    /// The stages with a scan the filter was pushed into.
    pub probe_stages: Vec<u32>,
    /// Once filled in: the distinct values of each key (`None` for a key
    /// with too many).
    values: OnceLock<Vec<Option<ArrayRef>>>,
}

/// Filters are the same when they are the same join's, for the same stages.
impl PartialEq for RuntimeFilter {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.build_stage == other.build_stage
            && self.probe_stages == other.probe_stages
    }
}

impl Eq for RuntimeFilter {}

/// Finds the runtime filters of a staged plan: each filter's probe stages
/// wait for its build stage. The `reused` stages, each read in place of an
/// equal one, are never probe stages: their readers would all take the
/// rows one join's filter lets through.
pub fn find(stages: &[QueryStage], reused: &[u32]) -> Vec<RuntimeFilter> {
    let mut filters = Vec::new();
    for stage in stages.iter() {
        let _ = stage.plan.apply(|node| {
            if let Some(join) = node.downcast_ref::<HashJoinExec>()
                && let Some(filter) = join_filter(join)
            {
                filters.push((stage.id, filter));
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    // (stage, the build stage it waits for)
    let mut waits: Vec<(u32, u32)> = Vec::new();
    for (join_stage, filter) in &mut filters {
        for stage in stages.iter() {
            // In the join's own stage the executor fills the filter in
            // itself, as DataFusion does (the executor's narrow.rs).
            if stage.id != *join_stage
                && !reused.contains(&stage.id)
                && scans_with(&stage.plan, filter.id)
            {
                filter.probe_stages.push(stage.id);
            }
        }
        // A probe stage must not be one the build stage needs, through its
        // inputs or the waits already planned: waiting would never end.
        filter
            .probe_stages
            .retain(|&probe| !depends_on(stages, &waits, filter.build_stage, probe));
        waits.extend(filter.probe_stages.iter().map(|&p| (p, filter.build_stage)));
    }
    filters
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| !f.probe_stages.is_empty())
        .collect()
}

/// Gives the build side of a partitioned hash join a stage of its own when
/// the join's filter went into scans of other stages, so that [`find`] can
/// plan the filter: the scheduler can only read a build side that is the
/// whole output of one stage.
///
/// Such a build side is otherwise computed inside the join's own stage,
/// over shuffle reads: an aggregation with a `HAVING`, a filter, another
/// join. TPC-H Q18 at SF 10 is one: its `IN` subquery (order keys whose
/// lines sum to over 300: a few hundred of 15 M) is a partitioned join's
/// build side, so its keys reached the join's executors only after every
/// order and line had been scanned and shuffled. The build side is already
/// hash-partitioned on the join keys; it is repartitioned the same way (the
/// spec hash, into as many partitions), so each row stays in its partition
/// and the rewrite adds only the stage boundary.
pub fn isolate_build_sides(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let rewritten = plan.transform_up(|node| {
        let Some(join) = node.downcast_ref::<HashJoinExec>() else {
            return Ok(Transformed::no(node));
        };
        let left = join.left();
        let n = join.right().output_partitioning().partition_count();
        let isolate = join.mode == PartitionMode::Partitioned
            && left.downcast_ref::<RepartitionExec>().is_none()
            && matches!(left.output_partitioning(), Partitioning::Hash(_, m) if *m == n)
            && filter_id(join).is_some_and(|id| scanned_in_other_stages(join.right(), id));
        if !isolate {
            return Ok(Transformed::no(node));
        }
        let keys = join.on().iter().map(|(l, _)| Arc::clone(l)).collect();
        let left = Arc::new(RepartitionExec::try_new(
            Arc::clone(left),
            Partitioning::Hash(keys, n),
        )?);
        // The builder keeps the join's dynamic filter, whose copies are in
        // the probe side's scans.
        let rewritten = join
            .builder()
            .with_new_children(vec![left, Arc::clone(join.right())])?
            .build()?;
        Ok(Transformed::yes(
            Arc::new(rewritten) as Arc<dyn ExecutionPlan>
        ))
    })?;
    Ok(rewritten.data)
}

/// Whether a scan under an exchange of `probe` (so in another stage than
/// `probe`'s top) holds the dynamic filter `id`.
fn scanned_in_other_stages(probe: &Arc<dyn ExecutionPlan>, id: u64) -> bool {
    let mut found = false;
    let _ = probe.apply(|node| {
        found = is_exchange(node) && scans_with(node, id);
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// The expression id of `join`'s dynamic filter, if it has one the
/// scheduler can fill in.
fn filter_id(join: &HashJoinExec) -> Option<u64> {
    // Keys equal only when not null; a null-aware anti join must see
    // every probe row.
    if join.null_aware || join.null_equality() != NullEquality::NullEqualsNothing {
        return None;
    }
    let filter = join.dynamic_expressions_produced().into_iter().next()?;
    filter.downcast_ref::<DynamicFilterPhysicalExpr>()?;
    filter.expression_id()
}

/// The runtime filter of `join`, if it has one that can be filled from a
/// stage's output.
fn join_filter(join: &HashJoinExec) -> Option<RuntimeFilter> {
    let id = filter_id(join)?;
    let mut build: &Arc<dyn ExecutionPlan> = join.left();
    if let Some(c) = build.downcast_ref::<CoalescePartitionsExec>() {
        build = c.input();
    }
    let input = build.downcast_ref::<StageInput>()?;
    Some(RuntimeFilter {
        id,
        build_keys: join.on().iter().map(|(l, _)| Arc::clone(l)).collect(),
        build_schema: input.schema(),
        build_stage: input.stage_id,
        probe_stages: vec![],
        values: OnceLock::new(),
    })
}

/// Whether a scan in `plan` holds the dynamic filter `id`.
fn scans_with(plan: &Arc<dyn ExecutionPlan>, id: u64) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        found = !filters_in_scan(node, id).is_empty();
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// The copies of dynamic filter `id` in `node`'s scan predicate (none when
/// `node` is not a file scan).
fn filters_in_scan(node: &Arc<dyn ExecutionPlan>, id: u64) -> Vec<Arc<dyn PhysicalExpr>> {
    let mut found = Vec::new();
    let predicate = node
        .downcast_ref::<DataSourceExec>()
        .and_then(|ds| ds.data_source().downcast_ref::<FileScanConfig>())
        .and_then(|conf| conf.file_source().filter());
    if let Some(predicate) = predicate {
        let _ = predicate.apply(|e| {
            if e.expression_id() == Some(id)
                && e.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
            {
                found.push(Arc::clone(e));
                return Ok(TreeNodeRecursion::Jump);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    found
}

/// Whether stage `stage` needs stage `other` to have run, directly or not,
/// through the stages it reads and the `waits` (stage, build stage).
pub(crate) fn depends_on(
    stages: &[QueryStage],
    waits: &[(u32, u32)],
    stage: u32,
    other: u32,
) -> bool {
    let mut todo = vec![stage];
    let mut seen = HashSet::new();
    while let Some(id) = todo.pop() {
        if id == other {
            return true;
        }
        if !seen.insert(id) {
            continue;
        }
        if let Some(s) = stages.get((id as usize).wrapping_sub(1)) {
            todo.extend(&s.inputs);
        }
        todo.extend(waits.iter().filter(|(w, _)| *w == id).map(|(_, b)| *b));
    }
    false
}

/// Whether a build stage that wrote `locations` is small enough to read
/// for a filter, by its partition statistics.
pub fn small_enough(locations: &[pb::PartitionLocation]) -> bool {
    let rows: u64 = locations
        .iter()
        .map(|l| l.stats.as_ref().map_or(0, |s| s.num_rows))
        .sum();
    rows <= MAX_BUILD_ROWS
}

impl RuntimeFilter {
    /// Whether the filter was filled in (it stays `true` when its build
    /// side had too many rows or keys, or could not be read).
    pub fn is_filled(&self) -> bool {
        self.values.get().is_some()
    }

    /// Starts gathering the distinct values of the build keys, to read
    /// the build side into.
    pub fn gather(&self) -> Result<BuildKeys<'_>> {
        let keys = self
            .build_keys
            .iter()
            .map(|key| {
                let field = Field::new("key", key.data_type(&self.build_schema)?, true);
                let values =
                    new_group_values(Arc::new(Schema::new(vec![field])), &GroupOrdering::None)?;
                Ok(Some(DistinctValues {
                    values,
                    groups: Vec::new(),
                }))
            })
            .collect::<Result<_>>()?;
        Ok(BuildKeys {
            filter: self,
            keys,
            rows: 0,
        })
    }

    /// Fills the filter in with what `keys` gathered; false (the filter
    /// stays `true`) when the build side had too many rows, or every key
    /// too many values.
    pub fn fill(&self, keys: BuildKeys<'_>) -> Result<bool> {
        let values = keys.values()?;
        if values.iter().all(Option::is_none) {
            return Ok(false);
        }
        // Set once: a build stage that runs again (after a lost executor)
        // computes the same rows.
        let _ = self.values.set(values);
        Ok(true)
    }

    /// The filter over one copy of it (whose children are the probe keys
    /// as the scan sees them), as a predicate over `schema`: `key IN
    /// (values)` for every key that has values, `false` when some key has
    /// none (null keys match nothing). `None` when not filled in, or when no
    /// key can be expressed over `schema`.
    fn predicate(
        &self,
        copy: &Arc<dyn PhysicalExpr>,
        schema: &SchemaRef,
    ) -> Option<Arc<dyn PhysicalExpr>> {
        let values = self.values.get()?;
        let mut conjuncts = Vec::new();
        for (key, values) in copy.children().into_iter().zip(values) {
            let Some(values) = values else { continue };
            if values.is_empty() {
                return Some(lit(false));
            }
            // The copy names the scan's table columns; the filter goes
            // over the scan's output.
            let Ok(key) = reassign_expr_columns(Arc::clone(key), schema) else {
                continue;
            };
            match InListExpr::try_new_from_array(key, Arc::clone(values), false, schema) {
                Ok(list) => conjuncts.push(Arc::new(list) as Arc<dyn PhysicalExpr>),
                Err(e) => tracing::debug!("runtime filter key not used: {e}"),
            }
        }
        conjunction_opt(conjuncts)
    }
}

/// The distinct values of a filter's build keys, gathered batch by batch
/// as its build side is read ([`RuntimeFilter::gather`]).
pub struct BuildKeys<'a> {
    filter: &'a RuntimeFilter,
    /// Per build key; `None` once it has more than [`MAX_VALUES`] values.
    keys: Vec<Option<DistinctValues>>,
    rows: u64,
}

/// The distinct non-null values of one key seen so far, kept as
/// DataFusion's hash aggregation keeps its group keys.
struct DistinctValues {
    values: Box<dyn GroupValues>,
    /// The group of each row of the last batch (not needed, but `intern`
    /// writes it).
    groups: Vec<usize>,
}

impl BuildKeys<'_> {
    /// Adds a batch of the build side; false when reading on can't give a
    /// filter: the side has more than [`MAX_BUILD_ROWS`] rows, or every key
    /// more than [`MAX_VALUES`] values.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<bool> {
        self.rows += batch.num_rows() as u64;
        if self.rows > MAX_BUILD_ROWS {
            self.keys.iter_mut().for_each(|key| *key = None);
            return Ok(false);
        }
        for (slot, expr) in self.keys.iter_mut().zip(&self.filter.build_keys) {
            let Some(key) = slot else { continue };
            let array = expr.evaluate(batch)?.into_array(batch.num_rows())?;
            if !key.add(&array)? {
                *slot = None;
            }
        }
        Ok(self.keys.iter().any(Option::is_some))
    }

    /// The rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The distinct values of every key (`None` for a key with too many).
    fn values(self) -> Result<Vec<Option<ArrayRef>>> {
        self.keys
            .into_iter()
            .map(|key| key.map(DistinctValues::finish).transpose())
            .collect()
    }
}

impl DistinctValues {
    /// Keeps the values of `array` not seen before; false when that makes
    /// more than [`MAX_VALUES`].
    fn add(&mut self, array: &ArrayRef) -> Result<bool> {
        let array = if array.null_count() > 0 {
            arrow::compute::filter(array, &is_not_null(array)?)?
        } else {
            Arc::clone(array)
        };
        self.values.intern(&[array], &mut self.groups)?;
        Ok(self.values.len() <= MAX_VALUES)
    }

    fn finish(mut self) -> Result<ArrayRef> {
        let mut columns = self.values.emit(EmitTo::All)?;
        columns
            .pop()
            .ok_or_else(|| BallistaError::Internal("distinct build keys without a column".into()))
    }
}

/// `plan` with a `FilterExec` over every scan that holds one of `filters`
/// (filled in): rows that can't find a match are dropped as they are read.
pub fn apply(
    plan: Arc<dyn ExecutionPlan>,
    filters: &[&RuntimeFilter],
) -> Result<Arc<dyn ExecutionPlan>> {
    if filters.iter().all(|f| f.values.get().is_none()) {
        return Ok(plan);
    }
    let rewritten = plan.transform_up(|node| {
        let schema = node.schema();
        let predicates: Vec<_> = filters
            .iter()
            .flat_map(|f| {
                filters_in_scan(&node, f.id)
                    .into_iter()
                    .filter_map(|copy| f.predicate(&copy, &schema))
                    .collect::<Vec<_>>()
            })
            .collect();
        match conjunction_opt(predicates) {
            None => Ok(Transformed::no(node)),
            Some(predicate) => Ok(Transformed::yes(
                Arc::new(FilterExec::try_new(predicate, node)?) as Arc<dyn ExecutionPlan>,
            )),
        }
    })?;
    Ok(rewritten.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::ScalarValue;
    use datafusion::physical_expr::expressions::{Column, Literal};

    fn schema(names: &[&str]) -> SchemaRef {
        Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Int64, true))
                .collect::<Vec<_>>(),
        ))
    }

    /// A filter on one key, and the join's dynamic filter it stands for.
    fn filter() -> (RuntimeFilter, Arc<dyn PhysicalExpr>) {
        let probe: Arc<dyn PhysicalExpr> = Arc::new(Column::new("p", 0));
        let dynamic: Arc<dyn PhysicalExpr> =
            Arc::new(DynamicFilterPhysicalExpr::new(vec![probe], lit(true)));
        let filter = RuntimeFilter {
            id: dynamic.expression_id().unwrap(),
            build_keys: vec![Arc::new(Column::new("b", 0))],
            build_schema: schema(&["b"]),
            build_stage: 1,
            probe_stages: vec![2],
            values: OnceLock::new(),
        };
        (filter, dynamic)
    }

    fn build(values: Vec<Option<i64>>) -> RecordBatch {
        RecordBatch::try_new(schema(&["b"]), vec![Arc::new(Int64Array::from(values))]).unwrap()
    }

    /// Which rows of a scan batch `(x, p)` the predicate keeps.
    fn keeps(predicate: &Arc<dyn PhysicalExpr>, p: Vec<Option<i64>>) -> Vec<bool> {
        let x = Int64Array::from(vec![0; p.len()]);
        let batch = RecordBatch::try_new(
            schema(&["x", "p"]),
            vec![Arc::new(x), Arc::new(Int64Array::from(p))],
        )
        .unwrap();
        let out = predicate
            .evaluate(&batch)
            .unwrap()
            .into_array(batch.num_rows())
            .unwrap();
        let out = out.as_any().downcast_ref::<BooleanArray>().unwrap();
        (0..out.len())
            .map(|i| out.is_valid(i) && out.value(i))
            .collect()
    }

    /// The filter as a scan with columns `(x, p)` holds it: the join's
    /// filter with the scan's own column as its child.
    fn scan_copy(dynamic: &Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
        Arc::clone(dynamic)
            .with_new_children(vec![Arc::new(Column::new("p", 7))])
            .unwrap()
    }

    #[test]
    fn a_filled_filter_keeps_the_probe_rows_whose_key_is_a_build_key() {
        let (f, dynamic) = filter();
        let batches = [
            build(vec![Some(3), Some(1), None]),
            build(vec![Some(3), Some(9)]),
        ];
        f.values.set(gathered(&f, &batches)).unwrap();
        let predicate = f
            .predicate(&scan_copy(&dynamic), &schema(&["x", "p"]))
            .unwrap();
        assert_eq!(
            keeps(&predicate, vec![Some(1), Some(2), Some(3), None, Some(9)]),
            [true, false, true, false, true]
        );
        // Over the scan's output column `p` (index 1), with three distinct
        // values, not five rows.
        let list = predicate.downcast_ref::<InListExpr>().unwrap();
        assert_eq!(list.expr().to_string(), "p@1");
        assert_eq!(list.list().len(), 3);
    }

    #[test]
    fn a_build_side_without_keys_drops_every_probe_row() {
        for batches in [vec![], vec![build(vec![])], vec![build(vec![None, None])]] {
            let (f, dynamic) = filter();
            f.values.set(gathered(&f, &batches)).unwrap();
            let predicate = f
                .predicate(&scan_copy(&dynamic), &schema(&["x", "p"]))
                .unwrap();
            assert!(
                predicate
                    .downcast_ref::<Literal>()
                    .is_some_and(|l| l.value() == &ScalarValue::Boolean(Some(false))),
                "{predicate}"
            );
        }
    }

    /// The values a filter would hold after reading `batches`.
    fn gathered(f: &RuntimeFilter, batches: &[RecordBatch]) -> Vec<Option<ArrayRef>> {
        let mut keys = f.gather().unwrap();
        for batch in batches {
            keys.add(batch).unwrap();
        }
        keys.values().unwrap()
    }

    #[test]
    fn a_key_with_too_many_values_gets_no_filter_and_stops_the_read() {
        let (f, _) = filter();
        let mut keys = f.gather().unwrap();
        let at_most: Vec<Option<i64>> = (0..MAX_VALUES as i64).map(Some).collect();
        assert!(keys.add(&build(at_most.clone())).unwrap());
        // The same values again are no new ones.
        assert!(keys.add(&build(at_most)).unwrap());
        // One more is too many: reading on can't give a filter.
        assert!(!keys.add(&build(vec![Some(MAX_VALUES as i64)])).unwrap());
        assert!(keys.values().unwrap()[0].is_none());
        assert!(
            !f.fill(
                f.gather()
                    .map(|mut k| {
                        k.add(&build((0..=MAX_VALUES as i64).map(Some).collect()))
                            .unwrap();
                        k
                    })
                    .unwrap()
            )
            .unwrap()
        );
        assert!(!f.is_filled());
    }

    #[test]
    fn few_keys_over_many_rows_fill_the_filter() {
        // 200 k rows of 2,000 keys: five times the old bar of 40 k rows.
        let (f, _) = filter();
        let mut keys = f.gather().unwrap();
        for _ in 0..20 {
            let batch = build((0..10_000).map(|i| Some(i % 2_000)).collect());
            assert!(keys.add(&batch).unwrap());
        }
        assert_eq!(keys.rows(), 200_000);
        assert!(f.fill(keys).unwrap());
        assert_eq!(f.values.get().unwrap()[0].as_ref().unwrap().len(), 2_000);
    }

    #[test]
    fn a_build_side_over_the_row_bar_gets_no_filter() {
        let (f, _) = filter();
        let mut keys = f.gather().unwrap();
        let batch = build(vec![Some(1); 100_000]);
        let mut read = 0;
        while keys.add(&batch).unwrap() {
            read += 1;
        }
        assert_eq!(read as u64, MAX_BUILD_ROWS / 100_000);
        assert!(!f.fill(keys).unwrap());
    }

    #[test]
    fn a_filter_not_filled_in_or_over_a_missing_column_filters_nothing() {
        let (f, dynamic) = filter();
        assert!(
            f.predicate(&scan_copy(&dynamic), &schema(&["x", "p"]))
                .is_none()
        );
        f.values.set(gathered(&f, &[build(vec![Some(1)])])).unwrap();
        assert!(
            f.predicate(&scan_copy(&dynamic), &schema(&["x", "y"]))
                .is_none()
        );
    }
}
