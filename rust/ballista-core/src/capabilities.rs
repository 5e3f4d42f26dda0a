//! What a stage plan needs from an executor, and whether an executor's
//! advertised [`ExecutorCapabilities`](pb::ExecutorCapabilities) cover it.
//!
//! Executors in different languages implement different subsets of the
//! spec; the scheduler sends a task only to an executor that can run its
//! whole stage. A stage's needs are read off its encoded plan with a walk
//! over the message descriptors (like
//! [`count_extension_nodes`](crate::serde::physical::count_extension_nodes)),
//! so operators added to the spec later are covered without touching this
//! module:
//!
//! - operators: the `PhysicalPlanNode.node` oneof field names used;
//! - expressions: the `PhysicalExpr.expr_type` oneof field names used;
//! - functions: scalar (`PhysicalScalarFunction`), aggregate
//!   (`PhysicalAggregateCall`, `count(distinct)` style for DISTINCT) and
//!   window (`PhysicalWindowCall`) function names, lower case;
//! - UDF languages (`UdfDefinition.language`) and extension engines
//!   (`EngineExtension.engine`).
//!
//! In an executor's capabilities an empty `operators`, `expressions` or
//! `functions` list means "all of them" (what executors registered before
//! the lists existed meant); `udf_languages` and `engines` list exactly what
//! it runs.

use std::collections::BTreeSet;

use ballista_proto::v1 as pb;
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage, Value};

/// What one stage plan needs from the executor that runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanRequirements {
    /// `PhysicalPlanNode` oneof field names, e.g. `filter`.
    pub operators: BTreeSet<String>,
    /// `PhysicalExpr` oneof field names, e.g. `case`.
    pub expressions: BTreeSet<String>,
    /// Function names, lower case; a DISTINCT aggregate is `name(distinct)`.
    pub functions: BTreeSet<String>,
    /// UDF languages.
    pub udf_languages: BTreeSet<String>,
    /// Extension engines.
    pub engines: BTreeSet<String>,
}

impl PlanRequirements {
    /// The requirements as a capabilities message (what `explain` reports
    /// per stage).
    pub fn to_proto(&self) -> pb::ExecutorCapabilities {
        pb::ExecutorCapabilities {
            operators: self.operators.iter().cloned().collect(),
            functions: self.functions.iter().cloned().collect(),
            udf_languages: self.udf_languages.iter().cloned().collect(),
            engines: self.engines.iter().cloned().collect(),
            expressions: self.expressions.iter().cloned().collect(),
            implementation: String::new(),
        }
    }

    /// What `caps` lacks to run a plan with these requirements, as
    /// `kind name` strings (`operator hash_join`); empty when it can run it.
    pub fn unmet_by(&self, caps: &pb::ExecutorCapabilities) -> Vec<String> {
        let mut missing = Vec::new();
        let mut check = |kind: &str, needed: &BTreeSet<String>, have: &[String], all_if_empty| {
            if all_if_empty && have.is_empty() {
                return;
            }
            for n in needed {
                if !have.iter().any(|h| h == n) {
                    missing.push(format!("{kind} {n}"));
                }
            }
        };
        check("operator", &self.operators, &caps.operators, true);
        check("expression", &self.expressions, &caps.expressions, true);
        check("function", &self.functions, &caps.functions, true);
        check(
            "udf language",
            &self.udf_languages,
            &caps.udf_languages,
            false,
        );
        check("engine", &self.engines, &caps.engines, false);
        missing
    }
}

/// The requirements of a stage plan.
pub fn plan_requirements(node: &pb::PhysicalPlanNode) -> PlanRequirements {
    let mut req = PlanRequirements::default();
    let pool = &*ballista_proto::DESCRIPTOR_POOL;
    let Some(desc) = pool.get_message_by_name("ballista.v1.PhysicalPlanNode") else {
        return req;
    };
    // Re-decoding our own encoding with the same descriptors cannot fail.
    if let Ok(msg) = DynamicMessage::decode(desc, node.encode_to_vec().as_slice()) {
        walk(&msg, &mut req);
    }
    req
}

/// Every oneof field name of `message`'s oneof `oneof` in the spec: what an
/// executor that implements all of the spec advertises.
pub fn spec_oneof_names(message: &str, oneof: &str) -> Vec<String> {
    let pool = &*ballista_proto::DESCRIPTOR_POOL;
    pool.get_message_by_name(message)
        .and_then(|m| m.oneofs().find(|o| o.name() == oneof))
        .map(|o| o.fields().map(|f| f.name().to_string()).collect())
        .unwrap_or_default()
}

fn oneof_set(msg: &DynamicMessage, oneof: &str) -> Option<String> {
    let desc = msg.descriptor();
    let o = desc.oneofs().find(|o| o.name() == oneof)?;
    o.fields()
        .find(|f| msg.has_field(f))
        .map(|f| f.name().to_string())
}

fn string_field(msg: &DynamicMessage, name: &str) -> String {
    msg.get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn walk(msg: &DynamicMessage, req: &mut PlanRequirements) {
    match msg.descriptor().full_name() {
        "ballista.v1.PhysicalPlanNode" => {
            if let Some(op) = oneof_set(msg, "node") {
                req.operators.insert(op);
            }
        }
        "ballista.v1.PhysicalExpr" => {
            if let Some(e) = oneof_set(msg, "expr_type") {
                req.expressions.insert(e);
            }
        }
        "ballista.v1.PhysicalScalarFunction" | "ballista.v1.PhysicalWindowCall" => {
            req.functions
                .insert(string_field(msg, "name").to_ascii_lowercase());
        }
        "ballista.v1.PhysicalAggregateCall" => {
            let name = string_field(msg, "name").to_ascii_lowercase();
            let distinct = msg
                .get_field_by_name("distinct")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            req.functions.insert(if distinct {
                format!("{name}(distinct)")
            } else {
                name
            });
        }
        "ballista.v1.UdfDefinition" => {
            req.udf_languages.insert(string_field(msg, "language"));
        }
        "ballista.v1.EngineExtension" => {
            req.engines.insert(string_field(msg, "engine"));
        }
        _ => {}
    }
    for (_, v) in msg.fields() {
        walk_value(v, req);
    }
}

fn walk_value(v: &Value, req: &mut PlanRequirements) {
    match v {
        Value::Message(m) => walk(m, req),
        Value::List(items) => items.iter().for_each(|i| walk_value(i, req)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(i: u32) -> pb::PhysicalExpr {
        pb::PhysicalExpr {
            expr_type: Some(pb::physical_expr::ExprType::Column(pb::PhysicalColumn {
                name: format!("c{i}"),
                index: i,
            })),
        }
    }

    fn stage() -> pb::PhysicalPlanNode {
        let scan = pb::PhysicalPlanNode {
            node: Some(pb::physical_plan_node::Node::Empty(pb::EmptyExec::default())),
        };
        let agg = pb::PhysicalPlanNode {
            node: Some(pb::physical_plan_node::Node::Aggregate(Box::new(
                pb::AggregateExec {
                    input: Some(Box::new(scan)),
                    aggregates: vec![
                        pb::PhysicalAggregateCall {
                            name: "SUM".into(),
                            arguments: vec![column(0)],
                            ..Default::default()
                        },
                        pb::PhysicalAggregateCall {
                            name: "count".into(),
                            arguments: vec![column(1)],
                            distinct: true,
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
            ))),
        };
        pb::PhysicalPlanNode {
            node: Some(pb::physical_plan_node::Node::ResultSink(Box::new(
                pb::ResultSinkExec {
                    input: Some(Box::new(agg)),
                    job_id: "j".into(),
                    stage_id: 1,
                    ..Default::default()
                },
            ))),
        }
    }

    #[test]
    fn requirements_are_read_off_the_plan() {
        let req = plan_requirements(&stage());
        let names = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        assert_eq!(names(&req.operators), ["aggregate", "empty", "result_sink"]);
        assert_eq!(names(&req.expressions), ["column"]);
        assert_eq!(names(&req.functions), ["count(distinct)", "sum"]);
        assert!(req.udf_languages.is_empty() && req.engines.is_empty());
    }

    #[test]
    fn empty_lists_mean_everything_but_udfs_and_engines_are_explicit() {
        let req = plan_requirements(&stage());
        assert!(
            req.unmet_by(&pb::ExecutorCapabilities::default())
                .is_empty()
        );
        let narrow = pb::ExecutorCapabilities {
            operators: vec!["empty".into(), "result_sink".into()],
            functions: vec!["sum".into(), "count".into()],
            ..Default::default()
        };
        assert_eq!(
            req.unmet_by(&narrow),
            ["operator aggregate", "function count(distinct)"]
        );
        let mut udf = req.clone();
        udf.udf_languages.insert("python".into());
        assert_eq!(
            udf.unmet_by(&pb::ExecutorCapabilities::default()),
            ["udf language python"]
        );
    }

    #[test]
    fn the_spec_lists_its_operators() {
        let ops = spec_oneof_names("ballista.v1.PhysicalPlanNode", "node");
        assert!(ops.contains(&"hash_join".to_string()), "{ops:?}");
        assert!(ops.contains(&"extension".to_string()), "{ops:?}");
        let exprs = spec_oneof_names("ballista.v1.PhysicalExpr", "expr_type");
        assert!(exprs.contains(&"case".to_string()), "{exprs:?}");
    }
}
