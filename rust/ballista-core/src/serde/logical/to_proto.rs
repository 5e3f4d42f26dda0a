//! DataFusion `LogicalPlan` / `Expr` -> spec `Relation` / `Expression`.
//!
//! The encoding is deterministic (the same plan always gives the same
//! bytes) and explicit: defaults that DataFusion fills in while planning
//! SQL, such as window frames, are written out so that decoding gives the
//! same plan back. A node or expression the spec cannot express is a
//! `NotImplemented` error naming it; this module never falls back to
//! DataFusion-specific bytes.

use ballista_proto::v1 as pb;
use datafusion::common::TableReference;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::expr::{
    AggregateFunction, Alias, Exists, InList, InSubquery, NullTreatment, Placeholder,
    ScalarFunction, WindowFunction,
};
use datafusion::logical_expr::logical_plan::{FetchType, SkipType};
use datafusion::logical_expr::{
    Aggregate, Between, BinaryExpr, Case, Cast, Distinct, Expr, GroupingSet, JoinConstraint, Like,
    LogicalPlan, Projection, SortExpr, TryCast,
};

use super::UNNAMED_TABLE;
use crate::error::{BallistaError, Result};
use crate::serde::common::{
    join_type_to_proto, null_equality_to_proto, operator_to_proto, window_frame_to_proto,
};
use crate::serde::types::{data_type_to_proto, scalar_to_proto, schema_to_proto};

use pb::expression::ExprType;
use pb::relation::RelType;

/// Encodes a DataFusion logical plan in the spec.
///
/// Catalog table scans become `ReadTable` (with `Project` / `Filter` /
/// `Limit` above it if the scan carries a projection, filters or a fetch);
/// scans of unnamed listing tables (DataFusion's `read_parquet` & co.)
/// become `ReadFiles`.
pub fn logical_plan_to_proto(plan: &LogicalPlan) -> Result<pb::Relation> {
    let rel_type = match plan {
        LogicalPlan::Projection(p) if drops_grouping_id(p) => {
            return logical_plan_to_proto(&p.input);
        }
        LogicalPlan::Projection(p) => RelType::Project(Box::new(pb::Project {
            input: input(&p.input)?,
            expressions: exprs(&p.expr)?,
        })),
        LogicalPlan::Filter(f) => RelType::Filter(Box::new(pb::Filter {
            input: input(&f.input)?,
            condition: boxed(&f.predicate)?,
        })),
        LogicalPlan::Window(w) => RelType::Window(Box::new(pb::Window {
            input: input(&w.input)?,
            window_expressions: exprs(&w.window_expr)?,
        })),
        LogicalPlan::Aggregate(a) => {
            let (group_type, grouping_expressions, grouping_sets) = match a.group_expr.as_slice() {
                [Expr::GroupingSet(GroupingSet::Rollup(es))] => {
                    (pb::GroupType::Rollup, exprs(es)?, vec![])
                }
                [Expr::GroupingSet(GroupingSet::Cube(es))] => {
                    (pb::GroupType::Cube, exprs(es)?, vec![])
                }
                [Expr::GroupingSet(GroupingSet::GroupingSets(sets))] => (
                    pb::GroupType::GroupingSets,
                    vec![],
                    sets.iter()
                        .map(|s| {
                            Ok(pb::GroupingSet {
                                expressions: exprs(s)?,
                            })
                        })
                        .collect::<Result<_>>()?,
                ),
                es => (pb::GroupType::Unspecified, exprs(es)?, vec![]),
            };
            RelType::Aggregate(Box::new(pb::Aggregate {
                input: input(&a.input)?,
                grouping_expressions,
                aggregate_expressions: exprs(&a.aggr_expr)?,
                group_type: group_type as i32,
                grouping_sets,
            }))
        }
        LogicalPlan::Sort(s) => RelType::Sort(Box::new(pb::Sort {
            input: input(&s.input)?,
            order: s.expr.iter().map(sort_to_proto).collect::<Result<_>>()?,
            fetch: s.fetch.map(|f| f as u64),
        })),
        LogicalPlan::Join(j) => {
            if j.null_aware {
                return Err(BallistaError::NotImplemented(
                    "a null-aware anti join (planned NOT IN) has no representation in the logical spec; encode the plan before optimisation".into(),
                ));
            }
            RelType::Join(Box::new(pb::Join {
                left: input(&j.left)?,
                right: input(&j.right)?,
                join_type: join_type_to_proto(j.join_type) as i32,
                on: j
                    .on
                    .iter()
                    .map(|(l, r)| {
                        Ok(pb::JoinKey {
                            left: Some(logical_expr_to_proto(l)?),
                            right: Some(logical_expr_to_proto(r)?),
                        })
                    })
                    .collect::<Result<_>>()?,
                condition: j.filter.as_ref().map(boxed).transpose()?.flatten(),
                constraint: match j.join_constraint {
                    JoinConstraint::On => pb::JoinConstraint::Unspecified,
                    JoinConstraint::Using => pb::JoinConstraint::Using,
                } as i32,
                null_equality: null_equality_to_proto(j.null_equality) as i32,
            }))
        }
        LogicalPlan::Union(u) => RelType::SetOperation(pb::SetOperation {
            inputs: u
                .inputs
                .iter()
                .map(|i| logical_plan_to_proto(i))
                .collect::<Result<_>>()?,
            r#type: pb::SetOperationType::Union as i32,
            all: true,
            by_name: false,
        }),
        LogicalPlan::TableScan(scan) => return table_scan_to_proto(scan),
        LogicalPlan::EmptyRelation(e) => RelType::Empty(pb::EmptyRelation {
            produce_one_row: e.produce_one_row,
            // Qualifiers are not part of an Arrow schema; an empty relation
            // has none in plans DataFusion builds.
            schema: if e.schema.fields().is_empty() {
                None
            } else {
                Some(schema_to_proto(e.schema.as_arrow())?)
            },
        }),
        LogicalPlan::SubqueryAlias(s) => {
            let TableReference::Bare { table } = &s.alias else {
                return Err(BallistaError::NotImplemented(format!(
                    "subquery alias `{}` has several parts; the spec's SubqueryAlias takes one name",
                    s.alias
                )));
            };
            RelType::SubqueryAlias(Box::new(pb::SubqueryAlias {
                input: input(&s.input)?,
                alias: table.to_string(),
            }))
        }
        LogicalPlan::Limit(l) => {
            let offset = match l.get_skip_type()? {
                SkipType::Literal(n) => n as u64,
                SkipType::UnsupportedExpr => {
                    return Err(BallistaError::NotImplemented(
                        "LIMIT with a non-literal OFFSET".into(),
                    ));
                }
            };
            let fetch = match l.get_fetch_type()? {
                FetchType::Literal(n) => n.map(|n| n as u64),
                FetchType::UnsupportedExpr => {
                    return Err(BallistaError::NotImplemented(
                        "LIMIT with a non-literal row count".into(),
                    ));
                }
            };
            RelType::Limit(Box::new(pb::Limit {
                input: input(&l.input)?,
                offset,
                fetch,
            }))
        }
        LogicalPlan::Values(v) => {
            let names: Vec<String> = v.schema.fields().iter().map(|f| f.name().clone()).collect();
            // DataFusion names VALUES columns column1, column2, ...; only
            // other names need to travel.
            let default = names
                .iter()
                .enumerate()
                .all(|(i, n)| *n == format!("column{}", i + 1));
            RelType::Values(pb::Values {
                rows: v
                    .values
                    .iter()
                    .map(|row| {
                        Ok(pb::ValuesRow {
                            values: exprs(row)?,
                        })
                    })
                    .collect::<Result<_>>()?,
                column_names: if default { vec![] } else { names },
            })
        }
        LogicalPlan::Distinct(Distinct::All(i)) => {
            RelType::Distinct(Box::new(pb::Distinct { input: input(i)? }))
        }
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "logical plan node `{}` has no representation in the Ballista logical spec v1",
                node_name(other)
            )));
        }
    };
    Ok(pb::Relation {
        plan_id: None,
        rel_type: Some(rel_type),
    })
}

/// Whether `p` only removes DataFusion's internal grouping-id column from
/// an aggregate over grouping sets: the projection the decoder adds, which
/// the spec's `Aggregate` implies.
fn drops_grouping_id(p: &Projection) -> bool {
    let LogicalPlan::Aggregate(a) = p.input.as_ref() else {
        return false;
    };
    if !matches!(a.group_expr.as_slice(), [Expr::GroupingSet(_)]) {
        return false;
    }
    let kept = a
        .schema
        .iter()
        .filter(|(_, f)| f.name() != Aggregate::INTERNAL_GROUPING_ID);
    p.expr.len() + 1 == a.schema.fields().len()
        && p.expr.iter().zip(kept).all(|(e, (q, f))| {
            matches!(e, Expr::Column(c) if c.name == *f.name() && c.relation.as_ref() == q)
        })
}

/// First line of a node's display up to its colon, e.g. `Repartition`.
fn node_name(plan: &LogicalPlan) -> String {
    let text = plan.display().to_string();
    text.split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn input(plan: &LogicalPlan) -> Result<Option<Box<pb::Relation>>> {
    Ok(Some(Box::new(logical_plan_to_proto(plan)?)))
}

fn exprs(es: &[Expr]) -> Result<Vec<pb::Expression>> {
    es.iter().map(logical_expr_to_proto).collect()
}

fn boxed(e: &Expr) -> Result<Option<Box<pb::Expression>>> {
    Ok(Some(Box::new(logical_expr_to_proto(e)?)))
}

fn wrap(rel_type: RelType) -> pb::Relation {
    pb::Relation {
        plan_id: None,
        rel_type: Some(rel_type),
    }
}

fn table_scan_to_proto(scan: &datafusion::logical_expr::TableScan) -> Result<pb::Relation> {
    let files = source_as_provider(&scan.source)
        .ok()
        .and_then(|p| p.downcast_ref::<ListingTable>().map(read_files))
        .filter(|_| scan.table_name.table() == UNNAMED_TABLE && scan.table_name.schema().is_none());
    let mut rel = match files {
        Some(read_files) => wrap(RelType::ReadFiles(read_files?)),
        None => wrap(RelType::ReadTable(pb::ReadTable {
            table: Some(table_reference_to_proto(&scan.table_name)),
        })),
    };
    // A scan that absorbed filters, a projection or a limit (as the
    // optimiser makes them) becomes the equivalent relations above the read.
    if let Some(filter) = scan.filters.iter().cloned().reduce(Expr::and) {
        rel = wrap(RelType::Filter(Box::new(pb::Filter {
            input: Some(Box::new(rel)),
            condition: boxed(&filter)?,
        })));
    }
    if let Some(fetch) = scan.fetch {
        rel = wrap(RelType::Limit(Box::new(pb::Limit {
            input: Some(Box::new(rel)),
            offset: 0,
            fetch: Some(fetch as u64),
        })));
    }
    if scan.projection.is_some() {
        let expressions = scan
            .projected_schema
            .iter()
            .map(|(q, f)| {
                Ok(pb::Expression {
                    expr_type: Some(ExprType::Column(pb::ColumnRef {
                        name: f.name().clone(),
                        qualifier: q.map(qualifier_to_proto).unwrap_or_default(),
                        plan_id: None,
                    })),
                })
            })
            .collect::<Result<_>>()?;
        rel = wrap(RelType::Project(Box::new(pb::Project {
            input: Some(Box::new(rel)),
            expressions,
        })));
    }
    Ok(rel)
}

fn read_files(table: &ListingTable) -> Result<pb::ReadFiles> {
    let options = table.options();
    let format = match options.format.get_ext().as_str() {
        "parquet" => pb::FileFormat::Parquet,
        "csv" => pb::FileFormat::Csv,
        "json" => pb::FileFormat::Json,
        "arrow" => pb::FileFormat::Arrow,
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "file format `{other}` has no representation in ReadFiles"
            )));
        }
    };
    let kv = |key: &str, value: String| pb::KeyValue {
        key: key.into(),
        value,
    };
    let mut kvs = vec![kv("file_extension", options.file_extension.clone())];
    // CSV dialect options change what the files mean: they must travel.
    if let Some(csv) = options.format.downcast_ref::<CsvFormat>() {
        let o = csv.options();
        if let Some(h) = o.has_header {
            kvs.push(kv("has_header", h.to_string()));
        }
        kvs.push(kv("delimiter", char::from(o.delimiter).to_string()));
        kvs.push(kv("quote", char::from(o.quote).to_string()));
        if let Some(e) = o.escape {
            kvs.push(kv("escape", char::from(e).to_string()));
        }
        if let Some(c) = o.comment {
            kvs.push(kv("comment", char::from(c).to_string()));
        }
        if let Some(r) = &o.null_regex {
            kvs.push(kv("null_regex", r.clone()));
        }
    }
    Ok(pb::ReadFiles {
        format: format as i32,
        paths: table.table_paths().iter().map(|u| u.to_string()).collect(),
        options: kvs,
        schema: Some(schema_to_proto(table.schema().as_ref())?),
    })
}

/// DataFusion table reference to the spec.
pub(super) fn table_reference_to_proto(t: &TableReference) -> pb::TableReference {
    pb::TableReference {
        catalog: t.catalog().map(str::to_string),
        schema: t.schema().map(str::to_string),
        table: t.table().to_string(),
    }
}

fn qualifier_to_proto(t: &TableReference) -> Vec<String> {
    match t {
        TableReference::Bare { table } => vec![table.to_string()],
        TableReference::Partial { schema, table } => vec![schema.to_string(), table.to_string()],
        TableReference::Full {
            catalog,
            schema,
            table,
        } => vec![catalog.to_string(), schema.to_string(), table.to_string()],
    }
}

fn sort_to_proto(s: &SortExpr) -> Result<pb::SortOrder> {
    Ok(pb::SortOrder {
        expression: boxed(&s.expr)?,
        options: Some(pb::SortOptions {
            descending: !s.asc,
            nulls_first: s.nulls_first,
        }),
    })
}

fn subquery_to_proto(s: &datafusion::logical_expr::Subquery) -> Result<Option<Box<pb::Relation>>> {
    input(&s.subquery)
}

fn column_ref(c: &datafusion::common::Column) -> pb::ColumnRef {
    pb::ColumnRef {
        name: c.name.clone(),
        qualifier: c
            .relation
            .as_ref()
            .map(qualifier_to_proto)
            .unwrap_or_default(),
        plan_id: None,
    }
}

fn unary(kind: pb::UnaryPredicateKind, e: &Expr) -> Result<ExprType> {
    Ok(ExprType::UnaryPredicate(Box::new(pb::UnaryPredicate {
        kind: kind as i32,
        expression: boxed(e)?,
    })))
}

fn like(l: &Like, similar: bool) -> Result<ExprType> {
    let kind = match (similar, l.case_insensitive) {
        (false, false) => pb::LikeKind::Unspecified,
        (false, true) => pb::LikeKind::Ilike,
        (true, false) => pb::LikeKind::SimilarTo,
        (true, true) => {
            return Err(BallistaError::NotImplemented(
                "case-insensitive SIMILAR TO has no representation in the logical spec".into(),
            ));
        }
    };
    Ok(ExprType::Like(Box::new(pb::Like {
        expression: boxed(&l.expr)?,
        pattern: boxed(&l.pattern)?,
        negated: l.negated,
        escape_char: l.escape_char.map(|c| c.to_string()),
        kind: kind as i32,
    })))
}

/// Encodes a DataFusion expression in the spec.
pub fn logical_expr_to_proto(expr: &Expr) -> Result<pb::Expression> {
    use pb::UnaryPredicateKind as K;
    let expr_type = match expr {
        Expr::Alias(Alias {
            expr,
            relation,
            name,
            metadata: _,
        }) => ExprType::Alias(Box::new(pb::Alias {
            expression: boxed(expr)?,
            name: name.clone(),
            qualifier: relation
                .as_ref()
                .map(qualifier_to_proto)
                .unwrap_or_default(),
        })),
        Expr::Column(c) => ExprType::Column(column_ref(c)),
        Expr::OuterReferenceColumn(_, c) => ExprType::OuterColumn(column_ref(c)),
        // Literal metadata (extension types) is not part of the v1 spec.
        Expr::Literal(v, _) => ExprType::Literal(scalar_to_proto(v)?),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            ExprType::Binary(Box::new(pb::BinaryExpression {
                left: boxed(left)?,
                op: operator_to_proto(op).ok_or_else(|| {
                    BallistaError::NotImplemented(format!(
                        "operator `{op}` has no representation in the Ballista logical spec v1"
                    ))
                })? as i32,
                right: boxed(right)?,
            }))
        }
        Expr::Like(l) => like(l, false)?,
        Expr::SimilarTo(l) => like(l, true)?,
        Expr::Not(e) => ExprType::Not(Box::new(logical_expr_to_proto(e)?)),
        Expr::Negative(e) => ExprType::Negative(Box::new(logical_expr_to_proto(e)?)),
        Expr::IsNull(e) => unary(K::IsNull, e)?,
        Expr::IsNotNull(e) => unary(K::IsNotNull, e)?,
        Expr::IsTrue(e) => unary(K::IsTrue, e)?,
        Expr::IsFalse(e) => unary(K::IsFalse, e)?,
        Expr::IsUnknown(e) => unary(K::IsUnknown, e)?,
        Expr::IsNotTrue(e) => unary(K::IsNotTrue, e)?,
        Expr::IsNotFalse(e) => unary(K::IsNotFalse, e)?,
        Expr::IsNotUnknown(e) => unary(K::IsNotUnknown, e)?,
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) => ExprType::Between(Box::new(pb::Between {
            expression: boxed(expr)?,
            negated: *negated,
            low: boxed(low)?,
            high: boxed(high)?,
        })),
        Expr::Case(Case {
            expr,
            when_then_expr,
            else_expr,
        }) => ExprType::Case(Box::new(pb::Case {
            operand: expr.as_deref().map(boxed).transpose()?.flatten(),
            when_then: when_then_expr
                .iter()
                .map(|(w, t)| {
                    Ok(pb::WhenThen {
                        when: Some(logical_expr_to_proto(w)?),
                        then: Some(logical_expr_to_proto(t)?),
                    })
                })
                .collect::<Result<_>>()?,
            else_result: else_expr.as_deref().map(boxed).transpose()?.flatten(),
        })),
        Expr::Cast(Cast { expr, field }) => ExprType::Cast(Box::new(pb::Cast {
            expression: boxed(expr)?,
            data_type: Some(data_type_to_proto(field.data_type())?),
            safe: false,
        })),
        Expr::TryCast(TryCast { expr, field }) => ExprType::Cast(Box::new(pb::Cast {
            expression: boxed(expr)?,
            data_type: Some(data_type_to_proto(field.data_type())?),
            safe: true,
        })),
        Expr::ScalarFunction(ScalarFunction { func, args }) => {
            ExprType::ScalarFunction(pb::FunctionCall {
                name: func.name().to_string(),
                arguments: exprs(args)?,
            })
        }
        Expr::AggregateFunction(AggregateFunction { func, params }) => {
            ExprType::AggregateFunction(Box::new(pb::AggregateFunction {
                name: func.name().to_string(),
                arguments: exprs(&params.args)?,
                distinct: params.distinct,
                filter: params.filter.as_deref().map(boxed).transpose()?.flatten(),
                order_by: params
                    .order_by
                    .iter()
                    .map(sort_to_proto)
                    .collect::<Result<_>>()?,
                ignore_nulls: params.null_treatment == Some(NullTreatment::IgnoreNulls),
            }))
        }
        Expr::WindowFunction(w) => {
            let WindowFunction { fun, params } = w.as_ref();
            if params.filter.is_some() {
                return Err(BallistaError::NotImplemented(
                    "FILTER on a window function has no representation in the logical spec".into(),
                ));
            }
            ExprType::WindowFunction(pb::WindowFunction {
                name: fun.name().to_string(),
                arguments: exprs(&params.args)?,
                partition_by: exprs(&params.partition_by)?,
                order_by: params
                    .order_by
                    .iter()
                    .map(sort_to_proto)
                    .collect::<Result<_>>()?,
                // Always explicit: DataFusion's default frame depends on
                // whether ORDER BY is present, so writing it keeps the plan
                // identical after a round trip.
                frame: Some(window_frame_to_proto(&params.window_frame)?),
                ignore_nulls: params.null_treatment == Some(NullTreatment::IgnoreNulls),
                distinct: params.distinct,
            })
        }
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) => ExprType::InList(Box::new(pb::InList {
            expression: boxed(expr)?,
            list: exprs(list)?,
            negated: *negated,
        })),
        Expr::Exists(Exists { subquery, negated }) => ExprType::Exists(Box::new(pb::Exists {
            subquery: subquery_to_proto(subquery)?,
            negated: *negated,
        })),
        Expr::InSubquery(InSubquery {
            expr,
            subquery,
            negated,
        }) => ExprType::InSubquery(Box::new(pb::InSubquery {
            expression: boxed(expr)?,
            subquery: subquery_to_proto(subquery)?,
            negated: *negated,
        })),
        Expr::ScalarSubquery(s) => ExprType::ScalarSubquery(Box::new(pb::ScalarSubquery {
            subquery: subquery_to_proto(s)?,
        })),
        #[expect(deprecated)]
        Expr::Wildcard { qualifier, .. } => ExprType::Wildcard(pb::Wildcard {
            qualifier: qualifier
                .as_ref()
                .map(qualifier_to_proto)
                .unwrap_or_default(),
        }),
        // A typed placeholder loses its type: the spec's placeholder is a name.
        Expr::Placeholder(Placeholder { id, .. }) => ExprType::Placeholder(id.clone()),
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "expression `{other}` ({}) has no representation in the Ballista logical spec v1",
                other.variant_name()
            )));
        }
    };
    Ok(pb::Expression {
        expr_type: Some(expr_type),
    })
}
