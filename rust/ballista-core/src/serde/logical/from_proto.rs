//! Spec `Relation` / `Expression` -> DataFusion `LogicalPlan` / `Expr`.
//!
//! Decoding runs in two passes, as DataFusion's SQL planner does:
//! 1. [`collect_leaves`] walks the whole message (subqueries included) and
//!    the leaves that need I/O (`ReadTable`, `ReadFiles`, `Sql`) are resolved
//!    asynchronously against the session;
//! 2. [`Decoder`] converts the tree synchronously, resolving names against
//!    schemas and the function registry.
//!
//! Every error names the protobuf field path from the root message, e.g.
//! `Relation.join.on[1].left.column`. This module must not guess: an
//! ambiguous or unknown name is an error listing what would be valid.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Fields};
use ballista_proto::v1 as pb;
use datafusion::catalog::TableProvider;
use datafusion::common::utils::datafusion_strsim::levenshtein;
use datafusion::common::{Column, DFSchema, DFSchemaRef, ScalarValue, Spans, TableReference};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::provider_as_source;
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::{
    AggregateFunction, Alias, Exists, InList, InSubquery, NullTreatment, Placeholder,
    ScalarFunction, WindowFunction, WindowFunctionParams,
};
use datafusion::logical_expr::{
    Aggregate, Between, BinaryExpr, Case, Cast, Distinct, EmptyRelation, Expr, ExprSchemable,
    Filter, GroupingSet, Join, JoinConstraint, JoinType, Like, LogicalPlan, LogicalPlanBuilder,
    Projection, Sort, SortExpr, Subquery, SubqueryAlias, TryCast, Values, Window, WindowFrame,
    WindowFunctionDefinition,
};

use super::UNNAMED_TABLE;
use crate::error::{BallistaError, Result, known_enum, required};
use crate::serde::common::{
    join_type_from_proto, null_equality_from_proto, operator_from_proto,
    window_frame_bound_from_proto, window_frame_units_from_proto,
};
use crate::serde::types::{
    data_type_from_proto, scalar_from_proto, schema_from_proto, sort_options_from_proto,
};

use pb::expression::ExprType;
use pb::relation::RelType;

/// Decodes a spec relation into a DataFusion logical plan, resolving tables,
/// functions and columns against `state`.
///
/// The result is unoptimised, like a plan straight from SQL; run it through
/// `state.optimize` (or a `DataFrame`) before execution.
pub async fn logical_plan_from_proto(
    rel: &pb::Relation,
    state: &SessionState,
) -> Result<LogicalPlan> {
    let mut leaves = Vec::new();
    collect_leaves(rel, "Relation".to_string(), &mut leaves);
    let resolved = resolve_leaves(leaves, state).await?;
    // A panic inside DataFusion's builders on meaningless input becomes an
    // error (see `catch_decoder_panic`); the fuzz test treats it as a bug.
    crate::error::catch_decoder_panic(|| Decoder::new(state, &resolved).relation(rel, "Relation"))
}

/// Decodes a spec expression over `schema` (the input of the relation that
/// holds it), resolving functions and columns against `state`.
///
/// `async` because an expression may hold a subquery that reads tables.
pub async fn logical_expr_from_proto(
    expr: &pb::Expression,
    schema: &DFSchema,
    state: &SessionState,
) -> Result<Expr> {
    let mut leaves = Vec::new();
    collect_expr_leaves(expr, "Expression".to_string(), &mut leaves);
    let resolved = resolve_leaves(leaves, state).await?;
    Decoder::new(state, &resolved).expr(expr, "Expression", schema)
}

// ---------------------------------------------------------------------------
// Pass 1: leaves that need I/O.
// ---------------------------------------------------------------------------

/// A relation that needs I/O to decode, with its field path.
type Leaf<'a> = (&'a pb::Relation, String);

/// Plans of the I/O leaves, keyed by the address of their message: the tree
/// is borrowed for the whole decode, so addresses are stable and unique.
type Resolved = HashMap<usize, LogicalPlan>;

fn key(rel: &pb::Relation) -> usize {
    std::ptr::from_ref(rel) as usize
}

fn collect_leaves<'a>(rel: &'a pb::Relation, path: String, out: &mut Vec<Leaf<'a>>) {
    let Some(kind) = &rel.rel_type else { return };
    let input = |r: &'a Option<Box<pb::Relation>>, name: &str, out: &mut Vec<Leaf<'a>>| {
        if let Some(r) = r {
            collect_leaves(r, format!("{path}.{name}"), out);
        }
    };
    let exprs = |es: &'a [pb::Expression], name: &str, out: &mut Vec<Leaf<'a>>| {
        for (i, e) in es.iter().enumerate() {
            collect_expr_leaves(e, format!("{path}.{name}[{i}]"), out);
        }
    };
    match kind {
        RelType::ReadTable(_) | RelType::ReadFiles(_) | RelType::Sql(_) => {
            out.push((rel, path.clone()));
        }
        RelType::Values(v) => {
            for (i, row) in v.rows.iter().enumerate() {
                exprs(&row.values, &format!("values.rows[{i}].values"), out);
            }
        }
        RelType::Filter(f) => {
            input(&f.input, "filter.input", out);
            if let Some(c) = &f.condition {
                collect_expr_leaves(c, format!("{path}.filter.condition"), out);
            }
        }
        RelType::Project(p) => {
            input(&p.input, "project.input", out);
            exprs(&p.expressions, "project.expressions", out);
        }
        RelType::Aggregate(a) => {
            input(&a.input, "aggregate.input", out);
            exprs(
                &a.grouping_expressions,
                "aggregate.grouping_expressions",
                out,
            );
            exprs(
                &a.aggregate_expressions,
                "aggregate.aggregate_expressions",
                out,
            );
        }
        RelType::Join(j) => {
            input(&j.left, "join.left", out);
            input(&j.right, "join.right", out);
            if let Some(c) = &j.condition {
                collect_expr_leaves(c, format!("{path}.join.condition"), out);
            }
        }
        RelType::Sort(s) => input(&s.input, "sort.input", out),
        RelType::Limit(l) => input(&l.input, "limit.input", out),
        RelType::Distinct(d) => input(&d.input, "distinct.input", out),
        RelType::SetOperation(s) => {
            for (i, r) in s.inputs.iter().enumerate() {
                collect_leaves(r, format!("{path}.set_operation.inputs[{i}]"), out);
            }
        }
        RelType::Window(w) => {
            input(&w.input, "window.input", out);
            exprs(&w.window_expressions, "window.window_expressions", out);
        }
        RelType::SubqueryAlias(s) => input(&s.input, "subquery_alias.input", out),
        RelType::WithColumns(w) => {
            input(&w.input, "with_columns.input", out);
            exprs(&w.columns, "with_columns.columns", out);
        }
        RelType::WithColumnsRenamed(w) => input(&w.input, "with_columns_renamed.input", out),
        RelType::Drop(d) => input(&d.input, "drop.input", out),
        RelType::MapBatches(m) => input(&m.input, "map_batches.input", out),
        RelType::Empty(_) | RelType::Extension(_) => {}
    }
}

/// The partition keys and order keys of a window function.
type WindowKeys = (Vec<Expr>, Vec<SortExpr>);

/// A Window relation as DataFusion plans it. DataFusion's physical planner
/// requires all functions of one `Window` node to share partition and order
/// keys (it panics otherwise), while the spec allows any mix. Functions are
/// therefore grouped by keys into a chain of `Window` nodes, as DataFusion's
/// own SQL planner does, and a projection restores the spec's column order
/// (input columns, then the functions in the order given).
fn window_plan(input: LogicalPlan, exprs: Vec<Expr>) -> Result<LogicalPlan> {
    // Group by (partition keys, order keys), in order of first appearance.
    let mut groups: Vec<(WindowKeys, Vec<Expr>)> = Vec::new();
    for e in &exprs {
        let key = match e.clone().unalias() {
            Expr::WindowFunction(w) => (w.params.partition_by.clone(), w.params.order_by.clone()),
            // Callers only pass window functions; keep anything else alone.
            _ => (vec![], vec![]),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(e.clone()),
            None => groups.push((key, vec![e.clone()])),
        }
    }
    if groups.len() <= 1 {
        return Ok(LogicalPlan::Window(Window::try_new(
            exprs,
            Arc::new(input),
        )?));
    }
    let mut output: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let mut plan = input;
    for (_, group) in groups {
        plan = LogicalPlan::Window(Window::try_new(group, Arc::new(plan))?);
    }
    let schema = plan.schema();
    for e in &exprs {
        let (qualifier, field) =
            schema.qualified_field_with_unqualified_name(&e.schema_name().to_string())?;
        output.push(Expr::Column(Column::new(qualifier.cloned(), field.name())));
    }
    Ok(LogicalPlanBuilder::from(plan).project(output)?.build()?)
}

/// Finds subqueries inside an expression tree.
fn collect_expr_leaves<'a>(e: &'a pb::Expression, path: String, out: &mut Vec<Leaf<'a>>) {
    let Some(kind) = &e.expr_type else { return };
    let sub = |x: &'a pb::Expression, name: &str, out: &mut Vec<Leaf<'a>>| {
        collect_expr_leaves(x, format!("{path}.{name}"), out)
    };
    match kind {
        ExprType::Alias(a) => a
            .expression
            .iter()
            .for_each(|x| sub(x, "alias.expression", out)),
        ExprType::Binary(b) => {
            b.left.iter().for_each(|x| sub(x, "binary.left", out));
            b.right.iter().for_each(|x| sub(x, "binary.right", out));
        }
        ExprType::Not(x) => sub(x, "not", out),
        ExprType::Negative(x) => sub(x, "negative", out),
        ExprType::UnaryPredicate(u) => u
            .expression
            .iter()
            .for_each(|x| sub(x, "unary_predicate.expression", out)),
        ExprType::Between(b) => {
            b.expression
                .iter()
                .for_each(|x| sub(x, "between.expression", out));
            b.low.iter().for_each(|x| sub(x, "between.low", out));
            b.high.iter().for_each(|x| sub(x, "between.high", out));
        }
        ExprType::Case(c) => {
            c.operand.iter().for_each(|x| sub(x, "case.operand", out));
            for (i, wt) in c.when_then.iter().enumerate() {
                wt.when
                    .iter()
                    .for_each(|x| sub(x, &format!("case.when_then[{i}].when"), out));
                wt.then
                    .iter()
                    .for_each(|x| sub(x, &format!("case.when_then[{i}].then"), out));
            }
            c.else_result
                .iter()
                .for_each(|x| sub(x, "case.else_result", out));
        }
        ExprType::Cast(c) => c
            .expression
            .iter()
            .for_each(|x| sub(x, "cast.expression", out)),
        ExprType::InList(l) => {
            l.expression
                .iter()
                .for_each(|x| sub(x, "in_list.expression", out));
            for (i, x) in l.list.iter().enumerate() {
                sub(x, &format!("in_list.list[{i}]"), out);
            }
        }
        ExprType::Like(l) => {
            l.expression
                .iter()
                .for_each(|x| sub(x, "like.expression", out));
            l.pattern.iter().for_each(|x| sub(x, "like.pattern", out));
        }
        ExprType::ScalarFunction(f) => {
            for (i, x) in f.arguments.iter().enumerate() {
                sub(x, &format!("scalar_function.arguments[{i}]"), out);
            }
        }
        ExprType::AggregateFunction(f) => {
            for (i, x) in f.arguments.iter().enumerate() {
                sub(x, &format!("aggregate_function.arguments[{i}]"), out);
            }
            f.filter
                .iter()
                .for_each(|x| sub(x, "aggregate_function.filter", out));
        }
        ExprType::WindowFunction(f) => {
            for (i, x) in f.arguments.iter().enumerate() {
                sub(x, &format!("window_function.arguments[{i}]"), out);
            }
            for (i, x) in f.partition_by.iter().enumerate() {
                sub(x, &format!("window_function.partition_by[{i}]"), out);
            }
        }
        ExprType::ScalarSubquery(s) => {
            if let Some(r) = &s.subquery {
                collect_leaves(r, format!("{path}.scalar_subquery.subquery"), out);
            }
        }
        ExprType::Exists(s) => {
            if let Some(r) = &s.subquery {
                collect_leaves(r, format!("{path}.exists.subquery"), out);
            }
        }
        ExprType::InSubquery(s) => {
            s.expression
                .iter()
                .for_each(|x| sub(x, "in_subquery.expression", out));
            if let Some(r) = &s.subquery {
                collect_leaves(r, format!("{path}.in_subquery.subquery"), out);
            }
        }
        ExprType::SortOrder(s) => s
            .expression
            .iter()
            .for_each(|x| sub(x, "sort_order.expression", out)),
        ExprType::Udf(u) => {
            for (i, x) in u.arguments.iter().enumerate() {
                sub(x, &format!("udf.arguments[{i}]"), out);
            }
        }
        ExprType::Literal(_)
        | ExprType::Column(_)
        | ExprType::OuterColumn(_)
        | ExprType::Wildcard(_)
        | ExprType::Placeholder(_)
        | ExprType::Extension(_) => {}
    }
}

async fn resolve_leaves(leaves: Vec<Leaf<'_>>, state: &SessionState) -> Result<Resolved> {
    let mut resolved = HashMap::with_capacity(leaves.len());
    for (rel, path) in leaves {
        let plan = match &rel.rel_type {
            Some(RelType::ReadTable(t)) => {
                read_table(t, &format!("{path}.read_table"), state).await?
            }
            Some(RelType::ReadFiles(f)) => {
                read_files(f, &format!("{path}.read_files"), state).await?
            }
            Some(RelType::Sql(s)) => sql(s, &format!("{path}.sql"), state).await?,
            _ => {
                return Err(BallistaError::Internal(format!(
                    "{path}: collected as an I/O leaf but is not one"
                )));
            }
        };
        resolved.insert(key(rel), plan);
    }
    Ok(resolved)
}

/// Spec table reference to DataFusion's, exactly as written (no case folding:
/// clients send names, not SQL identifiers).
fn table_reference_from_proto(t: &pb::TableReference, path: &str) -> Result<TableReference> {
    if t.table.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.table")));
    }
    Ok(match (&t.catalog, &t.schema) {
        (None, None) => TableReference::bare(t.table.as_str()),
        (None, Some(s)) => TableReference::partial(s.as_str(), t.table.as_str()),
        (Some(c), Some(s)) => TableReference::full(c.as_str(), s.as_str(), t.table.as_str()),
        (Some(_), None) => {
            return Err(BallistaError::invalid(
                &format!("{path}.schema"),
                "a table reference with a catalog must also name the schema",
            ));
        }
    })
}

/// Every table of every schema of every catalog, qualified, sorted: the
/// "valid names" of an unknown-table error.
fn all_table_names(state: &SessionState) -> Vec<String> {
    let catalogs = state.catalog_list();
    let defaults = &state.config_options().catalog;
    let mut names = Vec::new();
    for catalog_name in catalogs.catalog_names() {
        let Some(catalog) = catalogs.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for table in schema.table_names() {
                // Tables of the default schema need no qualification.
                if catalog_name == defaults.default_catalog
                    && schema_name == defaults.default_schema
                {
                    names.push(table);
                } else {
                    names.push(format!("{catalog_name}.{schema_name}.{table}"));
                }
            }
        }
    }
    names.sort();
    names
}

async fn read_table(t: &pb::ReadTable, path: &str, state: &SessionState) -> Result<LogicalPlan> {
    let table_path = format!("{path}.table");
    let reference = table_reference_from_proto(required(&t.table, &table_path)?, &table_path)?;
    let unknown = || {
        BallistaError::Plan(format!(
            "{table_path}: unknown table `{reference}`: valid tables are {}",
            display_list(&all_table_names(state))
        ))
    };
    let schema = state
        .schema_for_ref(reference.clone())
        .map_err(|_| unknown())?;
    let provider = schema
        .table(reference.table())
        .await
        .map_err(|e| BallistaError::Plan(format!("{table_path}: cannot open `{reference}`: {e}")))?
        .ok_or_else(unknown)?;
    Ok(LogicalPlanBuilder::scan(reference, provider_as_source(provider), None)?.build()?)
}

fn single_byte(value: &str, key: &str, path: &str) -> Result<u8> {
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(BallistaError::invalid(
            path,
            format!("option `{key}` must be one ASCII character, got `{value}`"),
        )),
    }
}

fn parse_option<T: std::str::FromStr>(value: &str, key: &str, path: &str) -> Result<T> {
    value.parse().map_err(|_| {
        BallistaError::invalid(path, format!("option `{key}` has invalid value `{value}`"))
    })
}

async fn read_files(f: &pb::ReadFiles, path: &str, state: &SessionState) -> Result<LogicalPlan> {
    let table = read_files_provider(f, path, state).await?;
    Ok(LogicalPlanBuilder::scan(UNNAMED_TABLE, provider_as_source(table), None)?.build()?)
}

/// The table a `ReadFiles` message describes (a DataFusion listing table),
/// with its schema inferred from the files when the message has none. Used
/// for reads inside plans and for tables registered in a catalog; `path`
/// prefixes field paths in errors.
pub async fn read_files_provider(
    f: &pb::ReadFiles,
    path: &str,
    state: &SessionState,
) -> Result<Arc<dyn TableProvider>> {
    let format_path = format!("{path}.format");
    let format = known_enum::<pb::FileFormat>(f.format, &format_path)?;
    let mut extension: Option<String> = None;
    let mut csv = CsvFormat::default();
    let mut json = JsonFormat::default();
    let valid_keys: &[&str] = match format {
        pb::FileFormat::Csv => &[
            "file_extension",
            "has_header",
            "delimiter",
            "quote",
            "escape",
            "comment",
            "null_regex",
            "schema_infer_max_records",
        ],
        pb::FileFormat::Json => &["file_extension", "schema_infer_max_records"],
        _ => &["file_extension"],
    };
    for (i, kv) in f.options.iter().enumerate() {
        let p = format!("{path}.options[{i}]");
        let (k, v) = (kv.key.as_str(), kv.value.as_str());
        if !valid_keys.contains(&k) {
            return Err(BallistaError::invalid(
                &format!("{p}.key"),
                format!(
                    "unknown option `{k}` for format {}: valid options are {}",
                    format.as_str_name(),
                    valid_keys.join(", ")
                ),
            ));
        }
        match k {
            "file_extension" => extension = Some(v.to_string()),
            "has_header" => csv = csv.with_has_header(parse_option(v, k, &p)?),
            "delimiter" => csv = csv.with_delimiter(single_byte(v, k, &p)?),
            "quote" => csv = csv.with_quote(single_byte(v, k, &p)?),
            "escape" => csv = csv.with_escape(Some(single_byte(v, k, &p)?)),
            "comment" => csv = csv.with_comment(Some(single_byte(v, k, &p)?)),
            "null_regex" => csv = csv.with_null_regex(Some(v.to_string())),
            "schema_infer_max_records" => {
                let n: usize = parse_option(v, k, &p)?;
                csv = csv.with_schema_infer_max_rec(n);
                json = json.with_schema_infer_max_rec(n);
            }
            _ => {
                return Err(BallistaError::Internal(format!(
                    "{p}: option `{k}` accepted but not applied"
                )));
            }
        }
    }
    let (file_format, default_extension): (Arc<dyn FileFormat>, &str) = match format {
        pb::FileFormat::Parquet => (Arc::new(ParquetFormat::default()), ".parquet"),
        // CSV files from clients normally have a header (Spark's `header=true`
        // is the common case); DataFusion's own default depends on config.
        pb::FileFormat::Csv => (Arc::new(csv), ".csv"),
        pb::FileFormat::Json => (Arc::new(json), ".json"),
        pb::FileFormat::Arrow => (Arc::new(ArrowFormat), ".arrow"),
        pb::FileFormat::Avro => {
            return Err(BallistaError::NotImplemented(format!(
                "{format_path}: Avro support is not compiled into this build of Ballista"
            )));
        }
        pb::FileFormat::Unspecified => {
            return Err(BallistaError::invalid(
                &format_path,
                "file format is not set",
            ));
        }
    };
    if f.paths.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.paths")));
    }
    let urls = f
        .paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            ListingTableUrl::parse(p).map_err(|e| {
                BallistaError::invalid(&format!("{path}.paths[{i}]"), format!("`{p}`: {e}"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let options = ListingOptions::new(file_format)
        .with_file_extension(extension.unwrap_or_else(|| default_extension.to_string()));
    let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options);
    let config = match &f.schema {
        Some(s) => config.with_schema(schema_from_proto(s, &format!("{path}.schema"))?),
        None => config.infer_schema(state).await.map_err(|e| {
            BallistaError::Plan(format!(
                "{path}: cannot infer the schema of {:?}: {e}",
                f.paths
            ))
        })?,
    };
    Ok(Arc::new(ListingTable::try_new(config)?))
}

async fn sql(s: &pb::Sql, path: &str, state: &SessionState) -> Result<LogicalPlan> {
    let query_path = format!("{path}.query");
    if s.query.trim().is_empty() {
        return Err(BallistaError::missing(&query_path));
    }
    let plan = state
        .create_logical_plan(&s.query)
        .await
        .map_err(|e| BallistaError::Plan(format!("{query_path}: {e}")))?;
    match plan {
        LogicalPlan::Ddl(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::Copy(_)
        | LogicalPlan::Explain(_)
        | LogicalPlan::Analyze(_)
        | LogicalPlan::DescribeTable(_) => Err(BallistaError::Plan(format!(
            "{query_path}: must be a query (SELECT, VALUES, ...), not a {} statement",
            plan.display()
        ))),
        plan => Ok(plan),
    }
}

// ---------------------------------------------------------------------------
// Pass 2: the tree.
// ---------------------------------------------------------------------------

/// What a `plan_id` refers to.
struct PlanIdEntry {
    /// Output schema of the relation that carries the id.
    schema: DFSchemaRef,
    /// Alias the decoder gave the relation (or an ancestor) to make a join's
    /// inputs distinguishable; references go through it.
    alias: Option<TableReference>,
}

/// Synchronous decoder state.
struct Decoder<'a> {
    state: &'a SessionState,
    resolved: &'a Resolved,
    plan_ids: HashMap<i64, PlanIdEntry>,
    /// Ids in the order their relations were decoded, so that a join can
    /// find the ids declared under each input.
    plan_id_order: Vec<i64>,
    /// Input schemas of the enclosing queries, innermost last, for
    /// `outer_column`.
    outer: Vec<DFSchemaRef>,
}

fn display_list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

fn column_names(schema: &DFSchema) -> Vec<String> {
    schema
        .iter()
        .map(|(q, f)| match q {
            Some(q) => format!("{q}.{}", f.name()),
            None => f.name().clone(),
        })
        .collect()
}

fn qualifier_from_parts(parts: &[String], path: &str) -> Result<Option<TableReference>> {
    Ok(match parts {
        [] => None,
        [t] => Some(TableReference::bare(t.as_str())),
        [s, t] => Some(TableReference::partial(s.as_str(), t.as_str())),
        [c, s, t] => Some(TableReference::full(c.as_str(), s.as_str(), t.as_str())),
        _ => {
            return Err(BallistaError::invalid(
                path,
                format!("a qualifier has at most 3 parts, got {}", parts.len()),
            ));
        }
    })
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Names of `candidates` closest to `name`, for "did you mean" hints.
fn suggestions<'n>(name: &str, candidates: impl Iterator<Item = &'n String>) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = candidates
        .map(|c| (levenshtein(&name.to_lowercase(), c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

/// Checks that `expr` is boolean (or null) over `schema`.
fn check_boolean(expr: &Expr, schema: &DFSchema, path: &str, what: &str) -> Result<()> {
    match expr.get_type(schema)? {
        DataType::Boolean | DataType::Null => Ok(()),
        other => Err(BallistaError::Plan(format!(
            "{path}: {what} must be boolean, but `{expr}` has type {other}"
        ))),
    }
}

impl<'a> Decoder<'a> {
    fn new(state: &'a SessionState, resolved: &'a Resolved) -> Self {
        Self {
            state,
            resolved,
            plan_ids: HashMap::new(),
            plan_id_order: Vec::new(),
            outer: Vec::new(),
        }
    }

    fn input(&mut self, r: &Option<Box<pb::Relation>>, path: &str) -> Result<LogicalPlan> {
        self.relation(required(r, path)?, path)
    }

    fn exprs(&mut self, es: &[pb::Expression], path: &str, schema: &DFSchema) -> Result<Vec<Expr>> {
        es.iter()
            .enumerate()
            .map(|(i, e)| self.expr(e, &format!("{path}[{i}]"), schema))
            .collect()
    }

    fn relation(&mut self, rel: &pb::Relation, path: &str) -> Result<LogicalPlan> {
        let kind = required(&rel.rel_type, &format!("{path}.rel_type"))?;
        let plan = match kind {
            RelType::ReadTable(_) | RelType::ReadFiles(_) | RelType::Sql(_) => {
                self.resolved.get(&key(rel)).cloned().ok_or_else(|| {
                    BallistaError::Internal(format!("{path}: I/O leaf was not resolved"))
                })?
            }
            RelType::Values(v) => self.values(v, &format!("{path}.values"))?,
            RelType::Filter(f) => {
                let p = format!("{path}.filter");
                let input = self.input(&f.input, &format!("{p}.input"))?;
                let cp = format!("{p}.condition");
                let condition = self.expr(required(&f.condition, &cp)?, &cp, input.schema())?;
                check_boolean(&condition, input.schema(), &cp, "a filter condition")?;
                LogicalPlan::Filter(Filter::try_new(condition, Arc::new(input))?)
            }
            RelType::Project(p) => {
                let path = format!("{path}.project");
                let input = self.input(&p.input, &format!("{path}.input"))?;
                let exprs = self.projection_exprs(
                    &p.expressions,
                    &format!("{path}.expressions"),
                    input.schema(),
                )?;
                LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?)
            }
            RelType::Aggregate(a) => self.aggregate(a, &format!("{path}.aggregate"))?,
            RelType::Join(j) => self.join(j, &format!("{path}.join"))?,
            RelType::Sort(s) => {
                let p = format!("{path}.sort");
                let input = self.input(&s.input, &format!("{p}.input"))?;
                let expr = self.sort_exprs(&s.order, &format!("{p}.order"), input.schema())?;
                let fetch = s
                    .fetch
                    .map(|f| {
                        usize::try_from(f).map_err(|_| {
                            BallistaError::invalid(&format!("{p}.fetch"), "out of range")
                        })
                    })
                    .transpose()?;
                LogicalPlan::Sort(Sort {
                    expr,
                    input: Arc::new(input),
                    fetch,
                })
            }
            RelType::Limit(l) => {
                let p = format!("{path}.limit");
                let input = self.input(&l.input, &format!("{p}.input"))?;
                let skip = usize::try_from(l.offset)
                    .map_err(|_| BallistaError::invalid(&format!("{p}.offset"), "out of range"))?;
                let fetch = l
                    .fetch
                    .map(|f| {
                        usize::try_from(f).map_err(|_| {
                            BallistaError::invalid(&format!("{p}.fetch"), "out of range")
                        })
                    })
                    .transpose()?;
                LogicalPlanBuilder::from(input)
                    .limit(skip, fetch)?
                    .build()?
            }
            RelType::Distinct(d) => {
                let input = self.input(&d.input, &format!("{path}.distinct.input"))?;
                LogicalPlan::Distinct(Distinct::All(Arc::new(input)))
            }
            RelType::SetOperation(s) => self.set_operation(s, &format!("{path}.set_operation"))?,
            RelType::Window(w) => {
                let p = format!("{path}.window");
                let input = self.input(&w.input, &format!("{p}.input"))?;
                let ep = format!("{p}.window_expressions");
                let exprs = self.exprs(&w.window_expressions, &ep, input.schema())?;
                if exprs.is_empty() {
                    return Err(BallistaError::missing(&ep));
                }
                for (i, e) in exprs.iter().enumerate() {
                    if !matches!(e.clone().unalias(), Expr::WindowFunction(_)) {
                        return Err(BallistaError::Plan(format!(
                            "{ep}[{i}]: must be a window function call (optionally under Alias), got `{e}`"
                        )));
                    }
                }
                window_plan(input, exprs)?
            }
            RelType::SubqueryAlias(s) => {
                let p = format!("{path}.subquery_alias");
                let input = self.input(&s.input, &format!("{p}.input"))?;
                if s.alias.is_empty() {
                    return Err(BallistaError::missing(&format!("{p}.alias")));
                }
                LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
                    Arc::new(input),
                    TableReference::bare(s.alias.as_str()),
                )?)
            }
            RelType::WithColumns(w) => self.with_columns(w, &format!("{path}.with_columns"))?,
            RelType::WithColumnsRenamed(w) => {
                self.with_columns_renamed(w, &format!("{path}.with_columns_renamed"))?
            }
            RelType::Drop(d) => self.drop(d, &format!("{path}.drop"))?,
            RelType::Empty(e) => {
                let schema = match &e.schema {
                    Some(s) => {
                        DFSchema::try_from(schema_from_proto(s, &format!("{path}.empty.schema"))?)?
                    }
                    None => DFSchema::empty(),
                };
                LogicalPlan::EmptyRelation(EmptyRelation {
                    produce_one_row: e.produce_one_row,
                    schema: Arc::new(schema),
                })
            }
            RelType::MapBatches(m) => {
                let p = format!("{path}.map_batches");
                let input = self.input(&m.input, &format!("{p}.input"))?;
                let function = required(&m.function, &format!("{p}.function"))?.clone();
                check_udf(&function, &format!("{p}.function"))?;
                let sp = format!("{p}.output_schema");
                let schema = schema_from_proto(required(&m.output_schema, &sp)?, &sp)?;
                LogicalPlan::Extension(datafusion::logical_expr::Extension {
                    node: Arc::new(crate::udf::MapBatchesNode {
                        input,
                        function,
                        schema: Arc::new(DFSchema::try_from(schema)?),
                    }),
                })
            }
            RelType::Extension(any) => {
                return Err(BallistaError::NotImplemented(format!(
                    "{path}.extension: relation extension `{}` is not supported by this scheduler",
                    any.type_url
                )));
            }
        };
        if let Some(id) = rel.plan_id {
            let entry = PlanIdEntry {
                schema: Arc::clone(plan.schema()),
                alias: None,
            };
            if self.plan_ids.insert(id, entry).is_some() {
                return Err(BallistaError::invalid(
                    &format!("{path}.plan_id"),
                    format!("plan_id {id} is used by more than one relation"),
                ));
            }
            self.plan_id_order.push(id);
        }
        Ok(plan)
    }

    fn values(&mut self, v: &pb::Values, path: &str) -> Result<LogicalPlan> {
        if v.rows.is_empty() {
            return Err(BallistaError::invalid(
                &format!("{path}.rows"),
                "VALUES needs at least one row",
            ));
        }
        let empty = DFSchema::empty();
        let width = v.rows[0].values.len();
        let mut rows = Vec::with_capacity(v.rows.len());
        for (i, row) in v.rows.iter().enumerate() {
            let p = format!("{path}.rows[{i}].values");
            if row.values.len() != width {
                return Err(BallistaError::invalid(
                    &p,
                    format!("row has {} values but row 0 has {width}", row.values.len()),
                ));
            }
            rows.push(self.exprs(&row.values, &p, &empty)?);
        }
        let plan = LogicalPlanBuilder::values(rows)?.build()?;
        if v.column_names.is_empty() {
            return Ok(plan);
        }
        let LogicalPlan::Values(Values { schema, values }) = plan else {
            return Err(BallistaError::Internal(
                "LogicalPlanBuilder::values built no Values node".into(),
            ));
        };
        if v.column_names.len() != width {
            return Err(BallistaError::invalid(
                &format!("{path}.column_names"),
                format!("{} names for {width} columns", v.column_names.len()),
            ));
        }
        let fields: Fields = schema
            .fields()
            .iter()
            .zip(&v.column_names)
            .map(|(f, n)| Arc::new(f.as_ref().clone().with_name(n)))
            .collect();
        let schema = DFSchema::from_unqualified_fields(fields, schema.metadata().clone())?;
        Ok(LogicalPlan::Values(Values {
            schema: Arc::new(schema),
            values,
        }))
    }

    /// Expressions of a projection: wildcards expand to the input columns.
    fn projection_exprs(
        &mut self,
        es: &[pb::Expression],
        path: &str,
        schema: &DFSchema,
    ) -> Result<Vec<Expr>> {
        let mut out = Vec::with_capacity(es.len());
        for (i, e) in es.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if let Some(ExprType::Wildcard(w)) = &e.expr_type {
                let qualifier =
                    qualifier_from_parts(&w.qualifier, &format!("{p}.wildcard.qualifier"))?;
                let before = out.len();
                for (q, f) in schema.iter() {
                    if qualifier.is_none() || q == qualifier.as_ref() {
                        out.push(Expr::Column(Column::new(q.cloned(), f.name())));
                    }
                }
                if let (Some(q), true) = (&qualifier, out.len() == before) {
                    return Err(BallistaError::Plan(format!(
                        "{p}.wildcard: no columns are qualified by `{q}`: valid columns are {}",
                        display_list(&column_names(schema))
                    )));
                }
            } else {
                out.push(self.expr(e, &p, schema)?);
            }
        }
        if out.is_empty() {
            return Err(BallistaError::missing(path));
        }
        Ok(out)
    }

    fn aggregate(&mut self, a: &pb::Aggregate, path: &str) -> Result<LogicalPlan> {
        let input = self.input(&a.input, &format!("{path}.input"))?;
        let schema = Arc::clone(input.schema());
        let gp = format!("{path}.grouping_expressions");
        let grouping = self.exprs(&a.grouping_expressions, &gp, &schema)?;
        let gt_path = format!("{path}.group_type");
        let group_expr = match known_enum::<pb::GroupType>(a.group_type, &gt_path)? {
            pb::GroupType::Unspecified => grouping,
            pb::GroupType::Rollup => vec![Expr::GroupingSet(GroupingSet::Rollup(grouping))],
            pb::GroupType::Cube => vec![Expr::GroupingSet(GroupingSet::Cube(grouping))],
            pb::GroupType::GroupingSets => {
                if !grouping.is_empty() {
                    return Err(BallistaError::invalid(
                        &gp,
                        "must be empty with GROUP_TYPE_GROUPING_SETS: put the expressions in `grouping_sets`",
                    ));
                }
                let sets = a
                    .grouping_sets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        self.exprs(
                            &s.expressions,
                            &format!("{path}.grouping_sets[{i}].expressions"),
                            &schema,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?;
                vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))]
            }
        };
        let ap = format!("{path}.aggregate_expressions");
        let aggr_expr = self.exprs(&a.aggregate_expressions, &ap, &schema)?;
        for (i, e) in aggr_expr.iter().enumerate() {
            if !matches!(e.clone().unalias(), Expr::AggregateFunction(_)) {
                return Err(BallistaError::Plan(format!(
                    "{ap}[{i}]: must be an aggregate function call (optionally under Alias), got `{e}`"
                )));
            }
        }
        let grouping_sets = matches!(group_expr.as_slice(), [Expr::GroupingSet(_)]);
        let plan =
            LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(input), group_expr, aggr_expr)?);
        if !grouping_sets {
            return Ok(plan);
        }
        // DataFusion adds an internal grouping-id column to aggregates over
        // grouping sets; the spec's output is the grouping expressions, then
        // the aggregates, so project it away (the encoder folds this
        // projection back into the Aggregate).
        let exprs = plan
            .schema()
            .iter()
            .filter(|(_, f)| f.name() != Aggregate::INTERNAL_GROUPING_ID)
            .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
            .collect();
        Ok(LogicalPlan::Projection(Projection::try_new(
            exprs,
            Arc::new(plan),
        )?))
    }

    /// Gives a join input a generated alias if its column names clash with the
    /// other input's, and makes `plan_id` references of the ids declared in it
    /// go through that alias.
    fn alias_join_side(
        &mut self,
        plan: LogicalPlan,
        ids: std::ops::Range<usize>,
        alias: String,
    ) -> Result<LogicalPlan> {
        let alias = TableReference::bare(alias);
        for id in &self.plan_id_order[ids] {
            if let Some(entry) = self.plan_ids.get_mut(id) {
                entry.alias = Some(alias.clone());
            }
        }
        Ok(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(plan),
            alias,
        )?))
    }

    fn join(&mut self, j: &pb::Join, path: &str) -> Result<LogicalPlan> {
        let lp = format!("{path}.left");
        let rp = format!("{path}.right");
        let start = self.plan_id_order.len();
        let mut left = self.relation(required(&j.left, &lp)?, &lp)?;
        let mid = self.plan_id_order.len();
        let mut right = self.relation(required(&j.right, &rp)?, &rp)?;
        let end = self.plan_id_order.len();

        // Two inputs with the same qualified column (a self-join, or two
        // unqualified relations sharing names) cannot be joined in DataFusion;
        // Spark Connect tells them apart by plan_id, so alias each side.
        let clash = left.schema().iter().any(|(q, f)| {
            right
                .schema()
                .has_column(&Column::new(q.cloned(), f.name()))
        });
        if clash {
            let name = |rel: &Option<Box<pb::Relation>>, side: &str| match rel
                .as_ref()
                .and_then(|r| r.plan_id)
            {
                Some(id) => format!("__ballista_plan_{id}"),
                None => format!("__ballista_{side}"),
            };
            left = self.alias_join_side(left, start..mid, name(&j.left, "left"))?;
            right = self.alias_join_side(right, mid..end, name(&j.right, "right"))?;
        }

        let join_type = join_type_from_proto(j.join_type, &format!("{path}.join_type"))?;
        let constraint =
            match known_enum::<pb::JoinConstraint>(j.constraint, &format!("{path}.constraint"))? {
                pb::JoinConstraint::Unspecified => JoinConstraint::On,
                pb::JoinConstraint::Using => JoinConstraint::Using,
            };
        let null_equality =
            null_equality_from_proto(j.null_equality, &format!("{path}.null_equality"))?;
        let mut on = Vec::with_capacity(j.on.len());
        for (i, k) in j.on.iter().enumerate() {
            let kp = format!("{path}.on[{i}]");
            let l = self.expr(
                required(&k.left, &format!("{kp}.left"))?,
                &format!("{kp}.left"),
                left.schema(),
            )?;
            let r = self.expr(
                required(&k.right, &format!("{kp}.right"))?,
                &format!("{kp}.right"),
                right.schema(),
            )?;
            if constraint == JoinConstraint::Using
                && !(matches!(l, Expr::Column(_)) && matches!(r, Expr::Column(_)))
            {
                return Err(BallistaError::invalid(
                    &kp,
                    "USING join keys must be columns",
                ));
            }
            on.push((l, r));
        }
        let join_schema = left.schema().join(right.schema())?;
        let filter = match &j.condition {
            Some(c) => {
                let cp = format!("{path}.condition");
                let e = self.expr(c, &cp, &join_schema)?;
                check_boolean(&e, &join_schema, &cp, "a join condition")?;
                Some(e)
            }
            None => None,
        };
        if join_type != JoinType::Inner && on.is_empty() && filter.is_none() {
            return Err(BallistaError::Plan(format!(
                "{path}: a {join_type} join needs `on` keys or a `condition` (only INNER may be a cross join)"
            )));
        }
        Ok(LogicalPlan::Join(Join::try_new(
            Arc::new(left),
            Arc::new(right),
            on,
            filter,
            join_type,
            constraint,
            null_equality,
            false,
        )?))
    }

    fn set_operation(&mut self, s: &pb::SetOperation, path: &str) -> Result<LogicalPlan> {
        let kind = known_enum::<pb::SetOperationType>(s.r#type, &format!("{path}.type"))?;
        let ip = format!("{path}.inputs");
        let inputs = s
            .inputs
            .iter()
            .enumerate()
            .map(|(i, r)| self.relation(r, &format!("{ip}[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        if s.by_name && kind != pb::SetOperationType::Union {
            return Err(BallistaError::invalid(
                &format!("{path}.by_name"),
                "only UNION can match columns by name",
            ));
        }
        let mut inputs = inputs.into_iter();
        let (Some(first), Some(second)) = (inputs.next(), inputs.next()) else {
            return Err(BallistaError::invalid(
                &ip,
                "a set operation needs at least two inputs",
            ));
        };
        let rest: Vec<_> = inputs.collect();
        Ok(match kind {
            pb::SetOperationType::Union => {
                let mut b = LogicalPlanBuilder::from(first);
                for next in std::iter::once(second).chain(rest) {
                    b = match (s.by_name, s.all) {
                        (false, true) => b.union(next)?,
                        (false, false) => b.union_distinct(next)?,
                        (true, true) => b.union_by_name(next)?,
                        (true, false) => b.union_by_name_distinct(next)?,
                    };
                }
                b.build()?
            }
            pb::SetOperationType::Intersect | pb::SetOperationType::Except => {
                if !rest.is_empty() {
                    return Err(BallistaError::invalid(
                        &ip,
                        "INTERSECT and EXCEPT take exactly two inputs",
                    ));
                }
                if kind == pb::SetOperationType::Intersect {
                    LogicalPlanBuilder::intersect(first, second, s.all)?
                } else {
                    LogicalPlanBuilder::except(first, second, s.all)?
                }
            }
            pb::SetOperationType::Unspecified => {
                return Err(BallistaError::invalid(
                    &format!("{path}.type"),
                    "set operation type is not set",
                ));
            }
        })
    }

    fn with_columns(&mut self, w: &pb::WithColumns, path: &str) -> Result<LogicalPlan> {
        let input = self.input(&w.input, &format!("{path}.input"))?;
        let schema = Arc::clone(input.schema());
        let cp = format!("{path}.columns");
        let mut new_columns: Vec<(String, Expr)> = Vec::with_capacity(w.columns.len());
        for (i, c) in w.columns.iter().enumerate() {
            let p = format!("{cp}[{i}]");
            let e = self.expr(c, &p, &schema)?;
            let Expr::Alias(alias) = &e else {
                return Err(BallistaError::invalid(
                    &p,
                    "must be an Alias: its name is the column name",
                ));
            };
            new_columns.push((alias.name.clone(), e));
        }
        // Spark semantics: a name that exists is replaced in place, a new one
        // is appended.
        let mut exprs = Vec::with_capacity(schema.fields().len() + new_columns.len());
        let mut used = vec![false; new_columns.len()];
        for (q, f) in schema.iter() {
            match new_columns.iter().position(|(n, _)| n == f.name()) {
                Some(i) => {
                    used[i] = true;
                    exprs.push(new_columns[i].1.clone());
                }
                None => exprs.push(Expr::Column(Column::new(q.cloned(), f.name()))),
            }
        }
        for ((_, e), used) in new_columns.into_iter().zip(used) {
            if !used {
                exprs.push(e);
            }
        }
        Ok(LogicalPlan::Projection(Projection::try_new(
            exprs,
            Arc::new(input),
        )?))
    }

    fn check_names_exist<'n>(
        &self,
        names: impl Iterator<Item = (usize, &'n String)>,
        schema: &DFSchema,
        path: &str,
    ) -> Result<()> {
        for (i, n) in names {
            if schema.qualified_fields_with_unqualified_name(n).is_empty() {
                return Err(BallistaError::Plan(format!(
                    "{path}[{i}]: unknown column `{n}`: valid columns are {}",
                    display_list(&column_names(schema))
                )));
            }
        }
        Ok(())
    }

    fn with_columns_renamed(
        &mut self,
        w: &pb::WithColumnsRenamed,
        path: &str,
    ) -> Result<LogicalPlan> {
        let input = self.input(&w.input, &format!("{path}.input"))?;
        let schema = Arc::clone(input.schema());
        self.check_names_exist(
            w.renames.iter().map(|r| &r.from).enumerate(),
            &schema,
            &format!("{path}.renames"),
        )?;
        let exprs = schema
            .iter()
            .map(|(q, f)| {
                let col = Expr::Column(Column::new(q.cloned(), f.name()));
                match w.renames.iter().find(|r| &r.from == f.name()) {
                    Some(r) => col.alias(r.to.as_str()),
                    None => col,
                }
            })
            .collect();
        Ok(LogicalPlan::Projection(Projection::try_new(
            exprs,
            Arc::new(input),
        )?))
    }

    fn drop(&mut self, d: &pb::Drop, path: &str) -> Result<LogicalPlan> {
        let input = self.input(&d.input, &format!("{path}.input"))?;
        let schema = Arc::clone(input.schema());
        self.check_names_exist(
            d.columns.iter().enumerate(),
            &schema,
            &format!("{path}.columns"),
        )?;
        let exprs: Vec<Expr> = schema
            .iter()
            .filter(|(_, f)| !d.columns.contains(f.name()))
            .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
            .collect();
        if exprs.is_empty() {
            return Err(BallistaError::Plan(format!(
                "{path}.columns: dropping every column leaves no output"
            )));
        }
        Ok(LogicalPlan::Projection(Projection::try_new(
            exprs,
            Arc::new(input),
        )?))
    }

    fn sort_exprs(
        &mut self,
        order: &[pb::SortOrder],
        path: &str,
        schema: &DFSchema,
    ) -> Result<Vec<SortExpr>> {
        order
            .iter()
            .enumerate()
            .map(|(i, o)| self.sort_expr(o, &format!("{path}[{i}]"), schema))
            .collect()
    }

    fn sort_expr(&mut self, o: &pb::SortOrder, path: &str, schema: &DFSchema) -> Result<SortExpr> {
        let ep = format!("{path}.expression");
        let expr = self.expr(required(&o.expression, &ep)?, &ep, schema)?;
        let options = sort_options_from_proto(o.options.as_ref());
        Ok(SortExpr::new(
            expr,
            !options.descending,
            options.nulls_first,
        ))
    }

    /// Resolves a column name against `schema`, listing valid columns on
    /// failure.
    fn resolve_column(&self, c: &pb::ColumnRef, path: &str, schema: &DFSchema) -> Result<Column> {
        if c.name.is_empty() {
            return Err(BallistaError::missing(&format!("{path}.name")));
        }
        let qualifier = qualifier_from_parts(&c.qualifier, &format!("{path}.qualifier"))?;
        if let Some(id) = c.plan_id {
            let entry = self.plan_ids.get(&id).ok_or_else(|| {
                let mut known: Vec<String> = self.plan_ids.keys().map(|k| k.to_string()).collect();
                known.sort();
                BallistaError::Plan(format!(
                    "{path}.plan_id: no relation decoded so far has plan_id {id}: known ids are {}",
                    display_list(&known)
                ))
            })?;
            let found = entry.schema.iter().find(|(q, f)| {
                f.name() == &c.name && (qualifier.is_none() || *q == qualifier.as_ref())
            });
            let Some((q, _)) = found else {
                return Err(BallistaError::Plan(format!(
                    "{path}: unknown column `{}` in the relation with plan_id {id}: valid columns are {}",
                    c.name,
                    display_list(&column_names(&entry.schema))
                )));
            };
            let column = Column::new(entry.alias.clone().or_else(|| q.cloned()), c.name.as_str());
            if schema.has_column(&column) {
                return Ok(column);
            }
            // The relation was renamed further up (e.g. by a SubqueryAlias):
            // fall back to resolving the name in the current input.
        }
        if let Some(q) = &qualifier {
            let column = Column::new(Some(q.clone()), c.name.as_str());
            if schema.has_column(&column) {
                return Ok(column);
            }
            return Err(BallistaError::Plan(format!(
                "{path}: unknown column `{column}`: valid columns are {}",
                display_list(&column_names(schema))
            )));
        }
        match schema
            .qualified_fields_with_unqualified_name(&c.name)
            .as_slice()
        {
            [(q, _)] => Ok(Column::new(q.cloned(), c.name.as_str())),
            [] => Err(BallistaError::Plan(format!(
                "{path}: unknown column `{}`: valid columns are {}",
                c.name,
                display_list(&column_names(schema))
            ))),
            many => Err(BallistaError::Plan(format!(
                "{path}: column `{}` is ambiguous: qualify it as one of {}",
                c.name,
                many.iter()
                    .map(|(q, f)| q
                        .map(|q| format!("{q}.{}", f.name()))
                        .unwrap_or_else(|| f.name().clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn subquery(
        &mut self,
        rel: &Option<Box<pb::Relation>>,
        path: &str,
        schema: &DFSchema,
    ) -> Result<Subquery> {
        let rel = required(rel, path)?;
        self.outer.push(Arc::new(schema.clone()));
        let plan = self.relation(rel, path);
        self.outer.pop();
        let plan = plan?;
        let outer_ref_columns = plan.all_out_ref_exprs();
        Ok(Subquery {
            subquery: Arc::new(plan),
            outer_ref_columns,
            spans: Spans::new(),
        })
    }

    fn single_column_subquery(
        &mut self,
        rel: &Option<Box<pb::Relation>>,
        path: &str,
        schema: &DFSchema,
    ) -> Result<Subquery> {
        let sub = self.subquery(rel, path, schema)?;
        let n = sub.subquery.schema().fields().len();
        if n != 1 {
            return Err(BallistaError::Plan(format!(
                "{path}: the subquery must return one column, but returns {n}"
            )));
        }
        Ok(sub)
    }

    fn child(
        &mut self,
        e: &Option<Box<pb::Expression>>,
        path: &str,
        schema: &DFSchema,
    ) -> Result<Box<Expr>> {
        Ok(boxed(self.expr(required(e, path)?, path, schema)?))
    }

    /// Decodes one expression over `schema`.
    fn expr(&mut self, e: &pb::Expression, path: &str, schema: &DFSchema) -> Result<Expr> {
        let kind = required(&e.expr_type, &format!("{path}.expr_type"))?;
        Ok(match kind {
            ExprType::Literal(l) => {
                Expr::Literal(scalar_from_proto(l, &format!("{path}.literal"))?, None)
            }
            ExprType::Column(c) => {
                Expr::Column(self.resolve_column(c, &format!("{path}.column"), schema)?)
            }
            ExprType::OuterColumn(c) => {
                let p = format!("{path}.outer_column");
                let mut last_err = None;
                for outer in self.outer.iter().rev() {
                    match self.resolve_column(c, &p, outer) {
                        Ok(column) => {
                            let (_, field) = outer.qualified_field_from_column(&column)?;
                            return Ok(Expr::OuterReferenceColumn(Arc::clone(field), column));
                        }
                        Err(e) => last_err = Some(e),
                    }
                }
                return Err(last_err.unwrap_or_else(|| {
                    BallistaError::Plan(format!(
                        "{p}: an outer column is only valid inside a subquery"
                    ))
                }));
            }
            ExprType::Alias(a) => {
                let p = format!("{path}.alias");
                if a.name.is_empty() {
                    return Err(BallistaError::missing(&format!("{p}.name")));
                }
                let inner = self.child(&a.expression, &format!("{p}.expression"), schema)?;
                let qualifier = qualifier_from_parts(&a.qualifier, &format!("{p}.qualifier"))?;
                Expr::Alias(Alias::new(*inner, qualifier, a.name.as_str()))
            }
            ExprType::Binary(b) => {
                let p = format!("{path}.binary");
                let left = self.child(&b.left, &format!("{p}.left"), schema)?;
                let op = operator_from_proto(b.op, &format!("{p}.op"))?;
                let right = self.child(&b.right, &format!("{p}.right"), schema)?;
                Expr::BinaryExpr(BinaryExpr::new(left, op, right))
            }
            ExprType::Not(x) => Expr::Not(boxed(self.expr(x, &format!("{path}.not"), schema)?)),
            ExprType::Negative(x) => {
                Expr::Negative(boxed(self.expr(x, &format!("{path}.negative"), schema)?))
            }
            ExprType::UnaryPredicate(u) => {
                let p = format!("{path}.unary_predicate");
                let x = self.child(&u.expression, &format!("{p}.expression"), schema)?;
                use pb::UnaryPredicateKind as K;
                match known_enum::<K>(u.kind, &format!("{p}.kind"))? {
                    K::IsNull => Expr::IsNull(x),
                    K::IsNotNull => Expr::IsNotNull(x),
                    K::IsTrue => Expr::IsTrue(x),
                    K::IsFalse => Expr::IsFalse(x),
                    K::IsUnknown => Expr::IsUnknown(x),
                    K::IsNotTrue => Expr::IsNotTrue(x),
                    K::IsNotFalse => Expr::IsNotFalse(x),
                    K::IsNotUnknown => Expr::IsNotUnknown(x),
                    K::Unspecified => {
                        return Err(BallistaError::invalid(
                            &format!("{p}.kind"),
                            "predicate kind is not set",
                        ));
                    }
                }
            }
            ExprType::Between(b) => {
                let p = format!("{path}.between");
                Expr::Between(Between::new(
                    self.child(&b.expression, &format!("{p}.expression"), schema)?,
                    b.negated,
                    self.child(&b.low, &format!("{p}.low"), schema)?,
                    self.child(&b.high, &format!("{p}.high"), schema)?,
                ))
            }
            ExprType::Case(c) => {
                let p = format!("{path}.case");
                let operand = match &c.operand {
                    Some(o) => Some(boxed(self.expr(o, &format!("{p}.operand"), schema)?)),
                    None => None,
                };
                if c.when_then.is_empty() {
                    return Err(BallistaError::missing(&format!("{p}.when_then")));
                }
                let mut when_then = Vec::with_capacity(c.when_then.len());
                for (i, wt) in c.when_then.iter().enumerate() {
                    let wp = format!("{p}.when_then[{i}]");
                    when_then.push((
                        boxed(self.expr(
                            required(&wt.when, &format!("{wp}.when"))?,
                            &format!("{wp}.when"),
                            schema,
                        )?),
                        boxed(self.expr(
                            required(&wt.then, &format!("{wp}.then"))?,
                            &format!("{wp}.then"),
                            schema,
                        )?),
                    ));
                }
                let else_expr = match &c.else_result {
                    Some(x) => Some(boxed(self.expr(x, &format!("{p}.else_result"), schema)?)),
                    None => None,
                };
                Expr::Case(Case::new(operand, when_then, else_expr))
            }
            ExprType::Cast(c) => {
                let p = format!("{path}.cast");
                let x = self.child(&c.expression, &format!("{p}.expression"), schema)?;
                let dp = format!("{p}.data_type");
                let dt = data_type_from_proto(required(&c.data_type, &dp)?, &dp)?;
                if c.safe {
                    Expr::TryCast(TryCast::new(x, dt))
                } else {
                    Expr::Cast(Cast::new(x, dt))
                }
            }
            ExprType::InList(l) => {
                let p = format!("{path}.in_list");
                let x = self.child(&l.expression, &format!("{p}.expression"), schema)?;
                let list = self.exprs(&l.list, &format!("{p}.list"), schema)?;
                Expr::InList(InList::new(x, list, l.negated))
            }
            ExprType::Like(l) => {
                let p = format!("{path}.like");
                let x = self.child(&l.expression, &format!("{p}.expression"), schema)?;
                let pattern = self.child(&l.pattern, &format!("{p}.pattern"), schema)?;
                let escape = match l.escape_char.as_deref() {
                    None => None,
                    Some(s) => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(ch), None) => Some(ch),
                            _ => {
                                return Err(BallistaError::invalid(
                                    &format!("{p}.escape_char"),
                                    format!("must be a single character, got {s:?}"),
                                ));
                            }
                        }
                    }
                };
                match known_enum::<pb::LikeKind>(l.kind, &format!("{p}.kind"))? {
                    pb::LikeKind::Unspecified => {
                        Expr::Like(Like::new(l.negated, x, pattern, escape, false))
                    }
                    pb::LikeKind::Ilike => {
                        Expr::Like(Like::new(l.negated, x, pattern, escape, true))
                    }
                    pb::LikeKind::SimilarTo => {
                        Expr::SimilarTo(Like::new(l.negated, x, pattern, escape, false))
                    }
                }
            }
            ExprType::ScalarFunction(f) => {
                let p = format!("{path}.scalar_function");
                let func = self.scalar_udf(&f.name, &p)?;
                let args = self.exprs(&f.arguments, &format!("{p}.arguments"), schema)?;
                Expr::ScalarFunction(ScalarFunction::new_udf(func, args))
            }
            ExprType::AggregateFunction(f) => {
                self.aggregate_function(f, &format!("{path}.aggregate_function"), schema)?
            }
            ExprType::WindowFunction(f) => {
                self.window_function(f, &format!("{path}.window_function"), schema)?
            }
            ExprType::ScalarSubquery(s) => Expr::ScalarSubquery(self.single_column_subquery(
                &s.subquery,
                &format!("{path}.scalar_subquery.subquery"),
                schema,
            )?),
            ExprType::Exists(s) => Expr::Exists(Exists::new(
                self.subquery(&s.subquery, &format!("{path}.exists.subquery"), schema)?,
                s.negated,
            )),
            ExprType::InSubquery(s) => {
                let p = format!("{path}.in_subquery");
                let x = self.child(&s.expression, &format!("{p}.expression"), schema)?;
                let sub =
                    self.single_column_subquery(&s.subquery, &format!("{p}.subquery"), schema)?;
                Expr::InSubquery(InSubquery::new(x, sub, s.negated))
            }
            ExprType::Wildcard(_) => {
                return Err(BallistaError::Plan(format!(
                    "{path}.wildcard: `*` is only valid as a Project expression or as the only argument of count"
                )));
            }
            ExprType::Udf(u) => {
                let p = format!("{path}.udf");
                let function = required(&u.function, &format!("{p}.function"))?.clone();
                check_udf(&function, &format!("{p}.function"))?;
                let rp = format!("{p}.return_type");
                let return_type = data_type_from_proto(required(&u.return_type, &rp)?, &rp)?;
                let args = self.exprs(&u.arguments, &format!("{p}.arguments"), schema)?;
                let udf = datafusion::logical_expr::ScalarUDF::new_from_impl(
                    crate::udf::PlanUdf::new(function, return_type, None),
                );
                Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf), args))
            }
            ExprType::SortOrder(_) => {
                return Err(BallistaError::Plan(format!(
                    "{path}.sort_order: a sort key is only valid as an argument of an aggregate or window function"
                )));
            }
            ExprType::Placeholder(id) => {
                if id.is_empty() {
                    return Err(BallistaError::missing(&format!("{path}.placeholder")));
                }
                Expr::Placeholder(Placeholder::new_with_field(id.clone(), None))
            }
            ExprType::Extension(any) => {
                return Err(BallistaError::NotImplemented(format!(
                    "{path}.extension: expression extension `{}` is not supported by this scheduler",
                    any.type_url
                )));
            }
        })
    }

    fn scalar_udf(
        &self,
        name: &str,
        path: &str,
    ) -> Result<Arc<datafusion::logical_expr::ScalarUDF>> {
        let functions = self.state.scalar_functions();
        if let Some(f) = functions
            .get(name)
            .or_else(|| functions.get(&name.to_lowercase()))
        {
            return Ok(Arc::clone(f));
        }
        let lower = name.to_lowercase();
        if self.state.aggregate_functions().contains_key(&lower) {
            return Err(BallistaError::Plan(format!(
                "{path}.name: `{name}` is an aggregate function: use an AggregateFunction expression"
            )));
        }
        if self.state.window_functions().contains_key(&lower) {
            return Err(BallistaError::Plan(format!(
                "{path}.name: `{name}` is a window function: use a WindowFunction expression"
            )));
        }
        Err(unknown_function("scalar", name, path, functions.keys()))
    }

    fn aggregate_function(
        &mut self,
        f: &pb::AggregateFunction,
        path: &str,
        schema: &DFSchema,
    ) -> Result<Expr> {
        let functions = self.state.aggregate_functions();
        let lower = f.name.to_lowercase();
        let func = functions
            .get(&f.name)
            .or_else(|| functions.get(&lower))
            .cloned()
            .ok_or_else(|| unknown_function("aggregate", &f.name, path, functions.keys()))?;
        let ap = format!("{path}.arguments");
        let mut order_by = Vec::new();
        let mut args = Vec::with_capacity(f.arguments.len());
        for (i, a) in f.arguments.iter().enumerate() {
            let p = format!("{ap}[{i}]");
            match &a.expr_type {
                // count(*) counts rows: DataFusion plans it as count(1).
                Some(ExprType::Wildcard(w))
                    if func.name() == "count"
                        && f.arguments.len() == 1
                        && w.qualifier.is_empty() =>
                {
                    args.push(Expr::Literal(ScalarValue::Int64(Some(1)), None));
                }
                // A sort key among the arguments orders the aggregate's input.
                Some(ExprType::SortOrder(o)) => {
                    order_by.push(self.sort_expr(o, &format!("{p}.sort_order"), schema)?)
                }
                _ => args.push(self.expr(a, &p, schema)?),
            }
        }
        order_by.extend(self.sort_exprs(&f.order_by, &format!("{path}.order_by"), schema)?);
        let filter = match &f.filter {
            Some(x) => {
                let fp = format!("{path}.filter");
                let e = self.expr(x, &fp, schema)?;
                check_boolean(&e, schema, &fp, "an aggregate filter")?;
                Some(boxed(e))
            }
            None => None,
        };
        let null_treatment = f.ignore_nulls.then_some(NullTreatment::IgnoreNulls);
        Ok(Expr::AggregateFunction(AggregateFunction::new_udf(
            func,
            args,
            f.distinct,
            filter,
            order_by,
            null_treatment,
        )))
    }

    fn window_function(
        &mut self,
        f: &pb::WindowFunction,
        path: &str,
        schema: &DFSchema,
    ) -> Result<Expr> {
        let lower = f.name.to_lowercase();
        let windows = self.state.window_functions();
        let aggregates = self.state.aggregate_functions();
        let fun = if let Some(w) = windows.get(&f.name).or_else(|| windows.get(&lower)) {
            WindowFunctionDefinition::WindowUDF(Arc::clone(w))
        } else if let Some(a) = aggregates.get(&f.name).or_else(|| aggregates.get(&lower)) {
            WindowFunctionDefinition::AggregateUDF(Arc::clone(a))
        } else {
            return Err(unknown_function(
                "window",
                &f.name,
                path,
                windows.keys().chain(aggregates.keys()),
            ));
        };
        let args = self.exprs(&f.arguments, &format!("{path}.arguments"), schema)?;
        let partition_by = self.exprs(&f.partition_by, &format!("{path}.partition_by"), schema)?;
        let order_by = self.sort_exprs(&f.order_by, &format!("{path}.order_by"), schema)?;
        let window_frame = match &f.frame {
            // SQL's default frame: the whole partition without ORDER BY,
            // else RANGE UNBOUNDED PRECEDING to CURRENT ROW.
            None => WindowFrame::new(if order_by.is_empty() {
                None
            } else {
                Some(false)
            }),
            Some(frame) => {
                let fp = format!("{path}.frame");
                let units = window_frame_units_from_proto(frame.units, &format!("{fp}.units"))?;
                // An unset bound is reported as a missing `<end>.bound`.
                let bound = |b: &Option<pb::WindowFrameBound>, p: String| {
                    let b = required(b, &p)?;
                    window_frame_bound_from_proto(required(&b.bound, &format!("{p}.bound"))?, &p)
                };
                let start = bound(&frame.start, format!("{fp}.start"))?;
                let end = bound(&frame.end, format!("{fp}.end"))?;
                let frame = WindowFrame::new_bounds(units, start, end);
                frame
                    .regularize_order_bys(&mut order_by.clone())
                    .map_err(|e| BallistaError::Plan(format!("{fp}: {e}")))?;
                frame
            }
        };
        let null_treatment = f.ignore_nulls.then_some(NullTreatment::IgnoreNulls);
        Ok(Expr::WindowFunction(Box::new(WindowFunction {
            fun,
            params: WindowFunctionParams {
                args,
                partition_by,
                order_by,
                window_frame,
                filter: None,
                null_treatment,
                distinct: f.distinct,
            },
        })))
    }
}

/// "unknown function" with the closest registered names.
fn unknown_function<'n>(
    kind: &str,
    name: &str,
    path: &str,
    names: impl Iterator<Item = &'n String>,
) -> BallistaError {
    if name.is_empty() {
        return BallistaError::missing(&format!("{path}.name"));
    }
    let hint = suggestions(name, names);
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", hint.join(", "))
    };
    BallistaError::Plan(format!(
        "{path}.name: unknown {kind} function `{name}`{hint}"
    ))
}

/// A carried function needs a name and a body.
fn check_udf(f: &pb::UdfDefinition, path: &str) -> Result<()> {
    if f.name.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.name")));
    }
    if f.language.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.language")));
    }
    if f.payload.is_empty() {
        return Err(BallistaError::missing(&format!("{path}.payload")));
    }
    Ok(())
}
