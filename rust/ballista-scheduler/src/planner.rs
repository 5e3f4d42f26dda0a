//! Cutting a DataFusion physical plan into stages.
//!
//! A *stage* is a part of the plan that runs without moving data between
//! tasks: one task per partition of the stage, each task reading its own
//! input partition. The plan is cut at every exchange:
//!
//! | exchange in the plan            | the child stage writes | the parent reads           |
//! |---------------------------------|------------------------|----------------------------|
//! | `RepartitionExec` (hash, n)     | spec hash into n parts | partition i from every map |
//! | `RepartitionExec` (round-robin) | round robin into n     | partition i from every map |
//! | `CoalescePartitionsExec`        | everything to part 0   | one partition (all maps)   |
//! | `SortPreservingMergeExec`       | map m to part m        | n sorted partitions, merged in the parent |
//!
//! The cut point is replaced by a [`StageInput`] leaf, which the encoder
//! turns into a spec `ShuffleReadExec` whose partition locations are filled
//! in once the child stage has run. Broadcast joins need no special case:
//! DataFusion plans a small build side as a `CollectLeft` hash join over a
//! `CoalescePartitionsExec`, which becomes a one-partition stage that every
//! probe task reads whole.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use ballista_core::capabilities::plan_requirements;
use ballista_core::serde::physical::{
    PhysicalExtensionCodec, count_extension_nodes, partitioning_to_proto, physical_plan_to_proto,
};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use prost::Message;

use crate::adaptive::BroadcastCandidate;
use crate::runtime_filter::RuntimeFilter;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream, displayable, replace_children_if_necessary,
};

/// Where a stage's output goes.
#[derive(Debug, Clone)]
pub enum StageOutput {
    /// Shuffle files for the stages that read this one, routed by this
    /// partitioning (docs/spec/shuffle.md).
    Shuffle(Partitioning),
    /// Result partitions for the client (the final stage).
    Result,
}

/// One stage of a distributed plan.
#[derive(Debug, Clone)]
pub struct QueryStage {
    /// Stage id, unique within the job; inputs always have smaller ids.
    pub id: u32,
    /// The stage's operators; reads of earlier stages are [`StageInput`]s.
    pub plan: Arc<dyn ExecutionPlan>,
    /// Where the output goes.
    pub output: StageOutput,
    /// Stages this one reads.
    pub inputs: Vec<u32>,
    /// Compression of the shuffle files the stage writes (the scheduler's
    /// `shuffle_compression`; result files are always uncompressed).
    pub compression: pb::ShuffleCompression,
}

impl QueryStage {
    /// Number of tasks: one per partition of the stage plan.
    pub fn partitions(&self) -> usize {
        self.plan.output_partitioning().partition_count()
    }

    /// Number of partitions the stage writes (reduce partitions for a
    /// shuffle, one per task for results).
    pub fn output_partitions(&self) -> usize {
        match &self.output {
            StageOutput::Shuffle(p) => p.partition_count(),
            StageOutput::Result => self.partitions(),
        }
    }
}

/// A distributed plan: stages in dependency order, the last one final.
#[derive(Debug, Clone)]
pub struct StagePlan {
    /// The stages; `stages[i].id == i + 1`, and the last is the final stage.
    pub stages: Vec<QueryStage>,
    /// The runtime filters the scheduler fills in between stages.
    pub filters: Vec<Arc<RuntimeFilter>>,
    /// The partitioned joins that become broadcast joins when their build
    /// side turns out small ([`crate::adaptive`]).
    pub broadcasts: Vec<BroadcastCandidate>,
}

impl StagePlan {
    /// The stages stage `id` waits for without reading them: the build
    /// stages of the runtime filters of its scans, and of the join it may
    /// be folded into ([`crate::adaptive`]).
    pub fn waits_for(&self, id: u32) -> Vec<u32> {
        let stage = self.stages.get((id as usize).wrapping_sub(1));
        let mut ids: Vec<u32> = self
            .filters
            .iter()
            .filter(|f| f.probe_stages.contains(&id))
            .map(|f| f.build_stage)
            .chain(
                self.broadcasts
                    .iter()
                    .filter(|b| b.probe_stage == id)
                    .map(|b| b.build_stage),
            )
            .filter(|b| stage.is_none_or(|s| !s.inputs.contains(b)))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The final stage (whose output is the result).
    pub fn final_stage(&self) -> &QueryStage {
        // `plan_stages` always creates the final stage.
        &self.stages[self.stages.len() - 1]
    }
}

/// What the scheduler may do between stages, beyond running them in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageOptions {
    /// Fill joins' filters in from their build stages
    /// ([`crate::runtime_filter`]).
    pub runtime_filters: bool,
    /// Turn partitioned joins whose build side turns out small into
    /// broadcast joins ([`crate::adaptive`]).
    pub adaptive_joins: bool,
    /// Run a stage once when the plan has it twice: a stage that would
    /// compute what an earlier one does (the same operators over the same
    /// inputs, written the same way) is not planned, and its readers read
    /// the earlier one. Spark calls this exchange reuse. Callers turn it
    /// off for a query with volatile functions (`random()`), whose two
    /// copies are meant to differ.
    pub reuse_stages: bool,
}

impl Default for StageOptions {
    fn default() -> Self {
        Self {
            runtime_filters: true,
            adaptive_joins: true,
            reuse_stages: true,
        }
    }
}

/// Cuts `plan` into stages, after making it safe to run one partition per
/// task ([`crate::task_local`]), and plans what `options` allow between
/// them. Fails when a stage does not encode in the physical spec.
pub fn plan_stages(plan: Arc<dyn ExecutionPlan>, options: StageOptions) -> Result<StagePlan> {
    let mut plan = crate::task_local::make_task_local(plan)?;
    if options.runtime_filters {
        plan = crate::runtime_filter::isolate_build_sides(plan)?;
    }
    let mut cutter = Cutter {
        stages: Vec::new(),
        exchanges: HashMap::new(),
        reuse: options.reuse_stages,
        signatures: HashMap::new(),
        reused: Vec::new(),
    };
    // Results may stay partitioned: the client fetches the partitions in
    // parallel. A merge without order at the root would only add a stage.
    let node: &dyn ExecutionPlan = plan.as_ref();
    let plan = match node.downcast_ref::<CoalescePartitionsExec>() {
        Some(c) if c.fetch().is_none() => Arc::clone(c.input()),
        _ => plan,
    };
    let root = cut(plan, &mut cutter)?;
    let Cutter {
        mut stages, reused, ..
    } = cutter;
    let inputs = input_stages(&root);
    let id = next_id(&stages)?;
    let last = QueryStage {
        id,
        plan: root,
        output: StageOutput::Result,
        inputs,
        compression: pb::ShuffleCompression::Unspecified,
    };
    signature(&last.plan, &last.output)?;
    stages.push(last);
    let filters: Vec<Arc<RuntimeFilter>> = if options.runtime_filters {
        crate::runtime_filter::find(&stages, &reused)
            .into_iter()
            .map(Arc::new)
            .collect()
    } else {
        Vec::new()
    };
    let broadcasts = if options.adaptive_joins {
        crate::adaptive::find(&stages, &filters, &reused)
    } else {
        Vec::new()
    };
    Ok(StagePlan {
        stages,
        filters,
        broadcasts,
    })
}

fn next_id(stages: &[QueryStage]) -> Result<u32> {
    u32::try_from(stages.len() + 1)
        .map_err(|_| BallistaError::Plan("too many stages in one query".to_string()))
}

/// The state of [`cut`]: the stages so far, and what lets a stage be
/// planned once when the plan has it twice.
struct Cutter {
    stages: Vec<QueryStage>,
    /// The input each exchange node already cut became. An exchange that
    /// appears more than once in the plan (the same node, shared:
    /// `task_local`'s semi joins read their build side twice) becomes one
    /// stage, read wherever it appears.
    exchanges: HashMap<*const (), CutExchange>,
    /// [`StageOptions::reuse_stages`].
    reuse: bool,
    /// The stage of each encoded stage plan and output ([`signature`]),
    /// so that with `reuse` a stage equal to an earlier one in all but its
    /// node addresses is read in its place.
    signatures: HashMap<Vec<u8>, u32>,
    /// Stages read in place of an equal one: readers of both take the same
    /// rows, so no runtime filter may narrow them, and none is folded into
    /// one of its readers ([`crate::adaptive`]).
    reused: Vec<u32>,
}

/// Replaces the exchanges under (and at) `plan` with stage inputs, pushing
/// the stages they read onto `cutter.stages`.
fn cut(plan: Arc<dyn ExecutionPlan>, cutter: &mut Cutter) -> Result<Arc<dyn ExecutionPlan>> {
    let node = Arc::as_ptr(&plan) as *const ();
    if let Some(seen) = cutter.exchanges.get(&node) {
        return Ok(Arc::clone(&seen.input));
    }
    if !is_exchange(&plan) {
        return cut_node(plan, cutter);
    }
    let input = cut_node(Arc::clone(&plan), cutter)?;
    let seen = CutExchange {
        _exchange: plan,
        input: Arc::clone(&input),
    };
    cutter.exchanges.insert(node, seen);
    Ok(input)
}

/// An exchange [`cut`] has replaced, kept alive so that its address, the
/// key it is remembered by, can't be reused by another node.
struct CutExchange {
    _exchange: Arc<dyn ExecutionPlan>,
    input: Arc<dyn ExecutionPlan>,
}

/// [`cut`] of one node, after its children.
fn cut_node(plan: Arc<dyn ExecutionPlan>, cutter: &mut Cutter) -> Result<Arc<dyn ExecutionPlan>> {
    let children = plan
        .children()
        .into_iter()
        .map(|c| cut(Arc::clone(c), cutter))
        .collect::<Result<Vec<_>>>()?;
    let any: &dyn ExecutionPlan = plan.as_ref();
    if let Some(r) = any.downcast_ref::<RepartitionExec>() {
        let input = single(children)?;
        let input_stage = new_stage(
            input,
            StageOutput::Shuffle(r.partitioning().clone()),
            cutter,
        )?;
        let reader: Arc<dyn ExecutionPlan> = Arc::new(StageInput::new(
            input_stage,
            r.schema(),
            r.partitioning().partition_count(),
        ));
        // A shuffle reads map outputs in no particular order; an
        // order-preserving repartition gets its order back by sorting each
        // partition.
        return match (r.preserve_order(), r.input().output_ordering()) {
            (true, Some(ordering)) => Ok(Arc::new(
                SortExec::new(ordering.clone(), reader).with_preserve_partitioning(true),
            )),
            _ => Ok(reader),
        };
    }
    if let Some(c) = any.downcast_ref::<CoalescePartitionsExec>() {
        let input = single(children)?;
        if input.output_partitioning().partition_count() == 1 {
            return Ok(replace_children_if_necessary(plan, vec![input])?);
        }
        let id = new_stage(
            input,
            StageOutput::Shuffle(Partitioning::RoundRobinBatch(1)),
            cutter,
        )?;
        let reader: Arc<dyn ExecutionPlan> = Arc::new(StageInput::new(id, c.schema(), 1));
        return Ok(match c.fetch() {
            Some(fetch) => Arc::new(GlobalLimitExec::new(reader, 0, Some(fetch))),
            None => reader,
        });
    }
    if let Some(m) = any.downcast_ref::<SortPreservingMergeExec>() {
        let input = single(children)?;
        let n = input.output_partitioning().partition_count();
        if n == 1 {
            return Ok(replace_children_if_necessary(plan, vec![input])?);
        }
        let id = new_stage(
            input,
            StageOutput::Shuffle(Partitioning::UnknownPartitioning(n)),
            cutter,
        )?;
        let reader: Arc<dyn ExecutionPlan> = Arc::new(StageInput::new(id, m.schema(), n));
        return Ok(Arc::new(
            SortPreservingMergeExec::new(m.expr().clone(), reader).with_fetch(m.fetch()),
        ));
    }
    if children.is_empty() {
        return Ok(plan);
    }
    Ok(replace_children_if_necessary(plan, children)?)
}

/// Whether `node` is an exchange the plan is cut at ([`plan_stages`]).
pub(crate) fn is_exchange(node: &Arc<dyn ExecutionPlan>) -> bool {
    node.downcast_ref::<RepartitionExec>().is_some()
        || node.downcast_ref::<CoalescePartitionsExec>().is_some()
        || node.downcast_ref::<SortPreservingMergeExec>().is_some()
}

fn single(mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
    match children.len() {
        1 => Ok(children.remove(0)),
        n => Err(BallistaError::Internal(format!(
            "an exchange operator has {n} inputs, expected 1"
        ))),
    }
}

/// The stage that computes `plan` and writes it by `output`: a new one, or
/// an earlier one that does exactly that.
fn new_stage(
    plan: Arc<dyn ExecutionPlan>,
    output: StageOutput,
    cutter: &mut Cutter,
) -> Result<u32> {
    let id = next_id(&cutter.stages)?;
    let signature = signature(&plan, &output)?;
    if cutter.reuse {
        if let Some(&same) = cutter.signatures.get(&signature) {
            if !cutter.reused.contains(&same) {
                cutter.reused.push(same);
            }
            return Ok(same);
        }
        cutter.signatures.insert(signature, id);
    }
    let inputs = input_stages(&plan);
    cutter.stages.push(QueryStage {
        id,
        plan,
        output,
        inputs,
        compression: pb::ShuffleCompression::Unspecified,
    });
    Ok(id)
}

/// `plan` written by `output`, encoded as a stage is but without its id:
/// two stages with the same signature run the same operators over the
/// same inputs, and write the same partitions. Encoding it is also what
/// makes a plan outside the spec fail at planning, with the encoder's
/// error, rather than when its stage launches.
fn signature(plan: &Arc<dyn ExecutionPlan>, output: &StageOutput) -> Result<Vec<u8>> {
    let stage = QueryStage {
        id: 0,
        plan: Arc::clone(plan),
        output: output.clone(),
        inputs: Vec::new(),
        compression: pb::ShuffleCompression::Unspecified,
    };
    Ok(encode_stage(&stage, "", None)?.encode_to_vec())
}

/// Ids of the stages that `plan` reads, in first-seen order.
fn input_stages(plan: &Arc<dyn ExecutionPlan>) -> Vec<u32> {
    let mut ids = Vec::new();
    collect_inputs(plan, &mut ids);
    ids
}

fn collect_inputs(plan: &Arc<dyn ExecutionPlan>, ids: &mut Vec<u32>) {
    let node: &dyn ExecutionPlan = plan.as_ref();
    if let Some(input) = node.downcast_ref::<StageInput>() {
        if !ids.contains(&input.stage_id) {
            ids.push(input.stage_id);
        }
        return;
    }
    for child in plan.children() {
        collect_inputs(child, ids);
    }
}

/// The read of an earlier stage's output, as a leaf of a stage plan. It
/// exists only on the scheduler: the encoder turns it into a spec
/// `ShuffleReadExec`, which the executor runs with its own reader.
#[derive(Debug)]
pub struct StageInput {
    /// The stage read.
    pub stage_id: u32,
    /// Every output partition of the stage read as one (a broadcast).
    pub whole: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl StageInput {
    /// A read of `partitions` partitions of stage `stage_id`'s output.
    pub fn new(stage_id: u32, schema: SchemaRef, partitions: usize) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            stage_id,
            whole: false,
            schema,
            properties: Arc::new(properties),
        }
    }

    /// A read of every output partition of stage `stage_id` as one
    /// partition, whatever the stage's output partitioning.
    pub fn whole(stage_id: u32, schema: SchemaRef) -> Self {
        Self {
            whole: true,
            ..Self::new(stage_id, schema, 1)
        }
    }
}

impl DisplayAs for StageInput {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ShuffleReadExec: stage={}, partitions={}{}",
            self.stage_id,
            self.properties.partitioning.partition_count(),
            if self.whole { " (all, read whole)" } else { "" }
        )
    }
}

impl ExecutionPlan for StageInput {
    fn name(&self) -> &str {
        "ShuffleReadExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::common::Result<TreeNodeRecursion>,
    ) -> datafusion::common::Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        Err(BallistaError::Internal(format!(
            "the read of stage {} runs on executors, never on the scheduler",
            self.stage_id
        ))
        .into())
    }
}

/// Map outputs of finished stages: stage id → (reduce partition → the
/// locations that hold its data).
pub type StageOutputs = HashMap<u32, Vec<Vec<pb::PartitionLocation>>>;

/// Encodes [`StageInput`] leaves as `ShuffleReadExec`, with locations from
/// `outputs` (empty when explaining a plan that has not run).
#[derive(Debug)]
struct StageCodec<'a> {
    outputs: Option<&'a StageOutputs>,
}

impl PhysicalExtensionCodec for StageCodec<'_> {
    fn try_encode_node(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
        _inputs: &[pb::PhysicalPlanNode],
    ) -> Result<Option<pb::PhysicalPlanNode>> {
        let node: &dyn ExecutionPlan = plan.as_ref();
        let Some(input) = node.downcast_ref::<StageInput>() else {
            return Ok(None);
        };
        let n = input.properties.partitioning.partition_count();
        let locations = self.outputs.and_then(|o| o.get(&input.stage_id));
        let partitions = if input.whole {
            vec![pb::ShuffleReadPartition {
                locations: locations.into_iter().flatten().flatten().cloned().collect(),
            }]
        } else {
            (0..n)
                .map(|i| pb::ShuffleReadPartition {
                    locations: locations
                        .and_then(|l| l.get(i))
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect()
        };
        Ok(Some(pb::PhysicalPlanNode {
            node: Some(pb::physical_plan_node::Node::ShuffleRead(
                pb::ShuffleReadExec {
                    schema: Some(ballista_core::serde::types::schema_to_proto(&input.schema)?),
                    partitions,
                    stage_id: input.stage_id,
                },
            )),
        }))
    }
}

/// Encodes `stage` of job `job_id` in the physical spec, rooted at a
/// `ShuffleWriteExec` or `ResultSinkExec`. `outputs` fills the shuffle
/// reads; `None` leaves them empty (for validation and explain).
pub fn encode_stage(
    stage: &QueryStage,
    job_id: &str,
    outputs: Option<&StageOutputs>,
) -> Result<pb::PhysicalPlanNode> {
    use pb::physical_plan_node::Node;
    let codec = StageCodec { outputs };
    let input = Some(Box::new(physical_plan_to_proto(&stage.plan, &codec)?));
    let node = match &stage.output {
        StageOutput::Shuffle(partitioning) => Node::ShuffleWrite(Box::new(pb::ShuffleWriteExec {
            input,
            job_id: job_id.to_string(),
            stage_id: stage.id,
            partitioning: Some(partitioning_to_proto(
                partitioning,
                pb::HashFunction::Unspecified,
                &codec,
            )?),
            compression: stage.compression as i32,
        })),
        // Results are written uncompressed: each is read once, mostly on
        // the same host (memory-mapped, no copy) or over loopback, where
        // LZ4 costs more time (writing at half the speed, then decoding)
        // than the bytes it saves (docs/benchmarks.md, shuffle section).
        StageOutput::Result => Node::ResultSink(Box::new(pb::ResultSinkExec {
            input,
            job_id: job_id.to_string(),
            stage_id: stage.id,
            compression: pb::ShuffleCompression::None as i32,
        })),
    };
    Ok(pb::PhysicalPlanNode { node: Some(node) })
}

/// The stage DAG for `explain`, each stage encoded without locations.
pub fn explain_stages(plan: &StagePlan, job_id: &str) -> Result<(Vec<pb::StageInfo>, u32)> {
    let mut infos = Vec::with_capacity(plan.stages.len());
    let mut extension_nodes = 0;
    for stage in &plan.stages {
        let encoded = encode_stage(stage, job_id, None)?;
        extension_nodes += count_extension_nodes(&encoded);
        infos.push(pb::StageInfo {
            stage_id: stage.id,
            input_stages: stage.inputs.clone(),
            partitions: u32::try_from(stage.partitions()).unwrap_or(u32::MAX),
            plan_text: stage_text(stage, plan),
            requirements: Some(plan_requirements(&encoded).to_proto()),
            plan: Some(encoded),
            // Filled by the scheduler, which knows the executors.
            capable_executors: vec![],
        });
    }
    Ok((infos, u32::try_from(extension_nodes).unwrap_or(u32::MAX)))
}

/// A stage of `plan` as indented text, with its output on the first line
/// and what it waits for (`StagePlan::waits_for`) on the last ones.
pub fn stage_text(stage: &QueryStage, plan: &StagePlan) -> String {
    let head = match &stage.output {
        StageOutput::Shuffle(p) => format!("ShuffleWriteExec: partitioning={p}"),
        StageOutput::Result => "ResultSinkExec".to_string(),
    };
    let body = displayable(stage.plan.as_ref()).indent(false).to_string();
    let mut text = head;
    text.push('\n');
    for line in body.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    let waits_for = plan.waits_for(stage.id);
    if !waits_for.is_empty() {
        let ids: Vec<String> = waits_for.iter().map(u32::to_string).collect();
        text.push_str(&format!("(runs after stage {})\n", ids.join(", ")));
    }
    let filtered_by: Vec<String> = plan
        .filters
        .iter()
        .filter(|f| f.probe_stages.contains(&stage.id))
        .map(|f| f.build_stage.to_string())
        .collect();
    if !filtered_by.is_empty() {
        text.push_str(&format!(
            "(the join keys of stage {} filter this stage's scans)\n",
            filtered_by.join(", ")
        ));
    }
    for b in plan.broadcasts.iter().filter(|b| b.probe_stage == stage.id) {
        text.push_str(&format!(
            "(if stage {} turns out small, stage {} reads it whole and runs this stage's plan \
             in place of reading its output)\n",
            b.build_stage, b.join_stage
        ));
    }
    text
}

/// The whole DAG as text: one block per stage, inputs first.
pub fn dag_text(plan: &StagePlan) -> String {
    let mut text = String::new();
    for stage in &plan.stages {
        let inputs = if stage.inputs.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = stage.inputs.iter().map(u32::to_string).collect();
            format!(", reads stages {}", ids.join(", "))
        };
        text.push_str(&format!(
            "Stage {} ({} tasks{inputs}):\n",
            stage.id,
            stage.partitions()
        ));
        for line in stage_text(stage, plan).lines() {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}
