//! Round-tripping hand-built physical plans through the spec.

use std::sync::Arc;

use ballista_core::serde::physical::{
    PhysicalExtensionCodec, physical_plan_from_bytes, physical_plan_to_proto,
};
use ballista_proto::v1 as pb;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::SessionContext;
use prost::Message;

use super::tpch::canonical_rows;

/// Encodes `plan` with `codec`, decodes the bytes, and checks that
/// re-encoding gives the same bytes and that the decoded plan returns the
/// original plan's rows. Returns the encoded plan and those rows.
pub async fn round_trip(
    plan: Arc<dyn ExecutionPlan>,
    codec: &dyn PhysicalExtensionCodec,
) -> (pb::PhysicalPlanNode, Vec<String>) {
    let proto = physical_plan_to_proto(&plan, codec).unwrap();
    let bytes = proto.encode_to_vec();
    let task = SessionContext::new().task_ctx();
    let decoded = physical_plan_from_bytes(&bytes, &task, codec).unwrap();
    let again = physical_plan_to_proto(&decoded, codec).unwrap();
    assert_eq!(
        again.encode_to_vec(),
        bytes,
        "re-encoding changed the bytes"
    );
    let expected = canonical_rows(&collect(plan, Arc::clone(&task)).await.unwrap());
    let actual = canonical_rows(&collect(decoded, task).await.unwrap());
    assert_eq!(expected, actual);
    (proto, actual)
}
