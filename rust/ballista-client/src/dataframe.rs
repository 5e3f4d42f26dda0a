//! [`DataFrame`]: a logical plan under construction.
//!
//! Every method wraps the current plan in one spec `Relation` and returns a
//! new `DataFrame`; nothing is resolved or executed here, so building never
//! needs a connection and never fails on unknown names (the scheduler
//! reports those). A `DataFrame` made by a [`BallistaContext`]
//! (`ctx.table(..)`, `ctx.read_parquet(..)`, `ctx.sql(..)`) remembers it, so
//! `collect()`, `stream()` and `explain()` run it on that cluster; one built
//! with the associated functions (`DataFrame::read_table(..)`) is a plan
//! only, runnable with `ctx.collect(&df)`. Either way the plan is the same.
//!
//! [`BallistaContext`]: crate::BallistaContext
//!
//! [`plan`]: DataFrame::plan

use arrow::datatypes::Schema;
use ballista_core::Result;
use ballista_core::serde::types::schema_to_proto;
use ballista_proto::v1 as pb;

use pb::relation::RelType;

use crate::expr::{Expr, SortKey, col};

pub use pb::JoinType;

/// A logical plan: a builder over the spec's `Relation` message.
#[derive(Debug, Clone)]
pub struct DataFrame {
    plan: pb::Relation,
    /// The context that made it, which runs it.
    pub(crate) ctx: Option<crate::context::BallistaContext>,
}

/// Two data frames are equal when their plans are (whichever context made
/// them).
impl PartialEq for DataFrame {
    fn eq(&self, other: &Self) -> bool {
        self.plan == other.plan
    }
}

/// A table name, optionally qualified by schema and catalog. A bare `&str`
/// is a table name as it is (dots are not parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef(pb::TableReference);

impl TableRef {
    /// The spec message.
    pub fn into_proto(self) -> pb::TableReference {
        self.0
    }

    /// `table` in the session's current catalog and schema.
    pub fn bare(table: impl Into<String>) -> Self {
        Self(pb::TableReference {
            catalog: None,
            schema: None,
            table: table.into(),
        })
    }

    /// `schema.table` in the session's current catalog.
    pub fn partial(schema: impl Into<String>, table: impl Into<String>) -> Self {
        Self(pb::TableReference {
            catalog: None,
            schema: Some(schema.into()),
            table: table.into(),
        })
    }

    /// `catalog.schema.table`.
    pub fn full(
        catalog: impl Into<String>,
        schema: impl Into<String>,
        table: impl Into<String>,
    ) -> Self {
        Self(pb::TableReference {
            catalog: Some(catalog.into()),
            schema: Some(schema.into()),
            table: table.into(),
        })
    }
}

impl From<&str> for TableRef {
    fn from(table: &str) -> Self {
        Self::bare(table)
    }
}

impl From<String> for TableRef {
    fn from(table: String) -> Self {
        Self::bare(table)
    }
}

/// Options of a file scan: format options in a stable order and an optional
/// schema (inferred from the files when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    options: Vec<pb::KeyValue>,
    schema: Option<pb::Schema>,
}

impl ReadOptions {
    /// No options; the schema is inferred.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a format option, e.g. `("has_header", "true")` for CSV. Options
    /// are kept in the order given, so plans are byte-identical everywhere.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push(pb::KeyValue {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Reads with `schema` instead of inferring one. Errors if the spec
    /// cannot express one of its types.
    pub fn schema(mut self, schema: &Schema) -> Result<Self> {
        self.schema = Some(schema_to_proto(schema)?);
        Ok(self)
    }
}

/// A grouping being built by [`DataFrame::group_by`] (or rollup, cube,
/// grouping sets); finish it with [`GroupBy::agg`].
#[derive(Debug, Clone)]
pub struct GroupBy {
    input: DataFrame,
    expressions: Vec<pb::Expression>,
    group_type: pb::GroupType,
    grouping_sets: Vec<pb::GroupingSet>,
}

impl GroupBy {
    /// Computes `aggregates` for each group. Output columns: the grouping
    /// expressions, then the aggregates.
    pub fn agg(self, aggregates: impl IntoIterator<Item = Expr>) -> DataFrame {
        self.input.wrap(|input| {
            RelType::Aggregate(Box::new(pb::Aggregate {
                input,
                grouping_expressions: self.expressions,
                aggregate_expressions: protos(aggregates),
                group_type: self.group_type as i32,
                grouping_sets: self.grouping_sets,
            }))
        })
    }
}

fn protos(exprs: impl IntoIterator<Item = Expr>) -> Vec<pb::Expression> {
    exprs.into_iter().map(Expr::into_proto).collect()
}

fn leaf(rel: RelType) -> DataFrame {
    DataFrame::from_plan(pb::Relation {
        plan_id: None,
        rel_type: Some(rel),
    })
}

impl DataFrame {
    /// Wraps an existing spec plan.
    pub fn from_plan(plan: pb::Relation) -> Self {
        Self { plan, ctx: None }
    }

    /// The spec plan.
    pub fn plan(&self) -> &pb::Relation {
        &self.plan
    }

    /// Consumes the builder, returning the spec plan.
    pub fn into_plan(self) -> pb::Relation {
        self.plan
    }

    /// Sets this node's `plan_id`, which columns can refer to.
    pub fn with_plan_id(mut self, plan_id: i64) -> Self {
        self.plan.plan_id = Some(plan_id);
        self
    }

    /// A new node over this plan.
    fn wrap(self, node: impl FnOnce(Option<Box<pb::Relation>>) -> RelType) -> Self {
        let ctx = self.ctx;
        let mut df = leaf(node(Some(Box::new(self.plan))));
        df.ctx = ctx;
        df
    }

    /// Scans a table of the scheduler's catalog.
    pub fn read_table(table: impl Into<TableRef>) -> Self {
        leaf(RelType::ReadTable(pb::ReadTable {
            table: Some(table.into().0),
        }))
    }

    /// Scans files of any supported format.
    pub fn read_files(
        format: pb::FileFormat,
        paths: impl IntoIterator<Item = impl Into<String>>,
        options: ReadOptions,
    ) -> Self {
        leaf(RelType::ReadFiles(pb::ReadFiles {
            format: format as i32,
            paths: paths.into_iter().map(Into::into).collect(),
            options: options.options,
            schema: options.schema,
        }))
    }

    /// Scans Parquet files or directories.
    pub fn read_parquet(
        paths: impl IntoIterator<Item = impl Into<String>>,
        options: ReadOptions,
    ) -> Self {
        Self::read_files(pb::FileFormat::Parquet, paths, options)
    }

    /// Scans CSV files or directories (options such as `has_header`,
    /// `delimiter`).
    pub fn read_csv(
        paths: impl IntoIterator<Item = impl Into<String>>,
        options: ReadOptions,
    ) -> Self {
        Self::read_files(pb::FileFormat::Csv, paths, options)
    }

    /// Scans newline-delimited JSON files or directories.
    pub fn read_json(
        paths: impl IntoIterator<Item = impl Into<String>>,
        options: ReadOptions,
    ) -> Self {
        Self::read_files(pb::FileFormat::Json, paths, options)
    }

    /// A SQL query (one statement), planned by the scheduler.
    pub fn sql(query: impl Into<String>) -> Self {
        leaf(RelType::Sql(pb::Sql {
            query: query.into(),
        }))
    }

    /// Literal rows; each row has one expression per column. Columns are
    /// named `column_names`, or `column1`, `column2`, ... when empty.
    pub fn values(
        rows: impl IntoIterator<Item = Vec<Expr>>,
        column_names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        leaf(RelType::Values(pb::Values {
            rows: rows
                .into_iter()
                .map(|row| pb::ValuesRow {
                    values: protos(row),
                })
                .collect(),
            column_names: column_names.into_iter().map(Into::into).collect(),
        }))
    }

    /// No input: one row with no columns (`produce_one_row`, as SELECT
    /// without FROM) or no rows at all.
    pub fn empty(produce_one_row: bool) -> Self {
        leaf(RelType::Empty(pb::EmptyRelation {
            produce_one_row,
            schema: None,
        }))
    }

    /// Keeps the rows for which `condition` is true.
    pub fn filter(self, condition: Expr) -> Self {
        self.wrap(|input| {
            RelType::Filter(Box::new(pb::Filter {
                input,
                condition: Some(Box::new(condition.into_proto())),
            }))
        })
    }

    /// Computes `exprs` for each row; the output has one column per
    /// expression.
    pub fn select(self, exprs: impl IntoIterator<Item = Expr>) -> Self {
        self.wrap(|input| {
            RelType::Project(Box::new(pb::Project {
                input,
                expressions: protos(exprs),
            }))
        })
    }

    /// Keeps the named columns, in the order given.
    pub fn select_columns(self, names: &[&str]) -> Self {
        self.select(names.iter().map(|n| col(*n)))
    }

    /// Adds column `name` computed by `expr`, or replaces the column of
    /// that name.
    pub fn with_column(self, name: impl Into<String>, expr: Expr) -> Self {
        self.with_columns([(name, expr)])
    }

    /// Adds or replaces several columns at once; all expressions see the
    /// input's columns, not each other.
    pub fn with_columns(
        self,
        columns: impl IntoIterator<Item = (impl Into<String>, Expr)>,
    ) -> Self {
        let columns = columns
            .into_iter()
            .map(|(name, expr)| expr.alias(name).into_proto())
            .collect();
        self.wrap(|input| RelType::WithColumns(Box::new(pb::WithColumns { input, columns })))
    }

    /// Renames column `from` to `to`.
    pub fn with_column_renamed(self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.with_columns_renamed([(from, to)])
    }

    /// Renames several columns at once.
    pub fn with_columns_renamed(
        self,
        renames: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        let renames = renames
            .into_iter()
            .map(|(from, to)| pb::Rename {
                from: from.into(),
                to: to.into(),
            })
            .collect();
        self.wrap(|input| {
            RelType::WithColumnsRenamed(Box::new(pb::WithColumnsRenamed { input, renames }))
        })
    }

    /// Removes the named columns.
    pub fn drop(self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let columns = columns.into_iter().map(Into::into).collect();
        self.wrap(|input| RelType::Drop(Box::new(pb::Drop { input, columns })))
    }

    /// Groups by `group_by` and computes `aggregates`; the same as
    /// `group_by(group_by).agg(aggregates)`. An empty `group_by` is a
    /// global aggregate (one output row).
    pub fn aggregate(
        self,
        group_by: impl IntoIterator<Item = Expr>,
        aggregates: impl IntoIterator<Item = Expr>,
    ) -> Self {
        self.group_by(group_by).agg(aggregates)
    }

    fn grouping(
        self,
        expressions: Vec<pb::Expression>,
        group_type: pb::GroupType,
        grouping_sets: Vec<pb::GroupingSet>,
    ) -> GroupBy {
        GroupBy {
            input: self,
            expressions,
            group_type,
            grouping_sets,
        }
    }

    /// `GROUP BY exprs`; finish with [`GroupBy::agg`].
    pub fn group_by(self, exprs: impl IntoIterator<Item = Expr>) -> GroupBy {
        self.grouping(protos(exprs), pb::GroupType::Unspecified, vec![])
    }

    /// `GROUP BY ROLLUP(exprs)`.
    pub fn rollup(self, exprs: impl IntoIterator<Item = Expr>) -> GroupBy {
        self.grouping(protos(exprs), pb::GroupType::Rollup, vec![])
    }

    /// `GROUP BY CUBE(exprs)`.
    pub fn cube(self, exprs: impl IntoIterator<Item = Expr>) -> GroupBy {
        self.grouping(protos(exprs), pb::GroupType::Cube, vec![])
    }

    /// `GROUP BY GROUPING SETS(sets)`.
    pub fn grouping_sets(self, sets: impl IntoIterator<Item = Vec<Expr>>) -> GroupBy {
        let sets = sets
            .into_iter()
            .map(|set| pb::GroupingSet {
                expressions: protos(set),
            })
            .collect();
        self.grouping(vec![], pb::GroupType::GroupingSets, sets)
    }

    fn join_node(
        self,
        right: DataFrame,
        join_type: JoinType,
        on: Vec<pb::JoinKey>,
        condition: Option<Expr>,
        constraint: pb::JoinConstraint,
    ) -> Self {
        self.wrap(|left| {
            RelType::Join(Box::new(pb::Join {
                left,
                right: Some(Box::new(right.plan)),
                join_type: join_type as i32,
                on,
                condition: condition.map(|c| Box::new(c.into_proto())),
                constraint: constraint as i32,
                null_equality: pb::NullEquality::Unspecified as i32,
            }))
        })
    }

    /// Equi-join on columns: `left_keys[i] = right_keys[i]` for every `i`.
    /// When both sides have a column of the same name, [`alias`] them first
    /// and use [`crate::expr::qualified_col`] in later expressions.
    ///
    /// [`alias`]: DataFrame::alias
    pub fn join(
        self,
        right: DataFrame,
        join_type: JoinType,
        left_keys: &[&str],
        right_keys: &[&str],
    ) -> Self {
        let on = left_keys
            .iter()
            .zip(right_keys)
            .map(|(l, r)| pb::JoinKey {
                left: Some(col(*l).into_proto()),
                right: Some(col(*r).into_proto()),
            })
            .collect();
        self.join_node(right, join_type, on, None, pb::JoinConstraint::Unspecified)
    }

    /// Join on an arbitrary condition (the scheduler extracts equi-join keys
    /// from it).
    pub fn join_on(self, right: DataFrame, join_type: JoinType, condition: Expr) -> Self {
        self.join_node(
            right,
            join_type,
            vec![],
            Some(condition),
            pb::JoinConstraint::Unspecified,
        )
    }

    /// `JOIN .. USING (columns)`: equal keys of the same name, which appear
    /// once in the output.
    pub fn join_using(self, right: DataFrame, join_type: JoinType, columns: &[&str]) -> Self {
        let on = columns
            .iter()
            .map(|c| pb::JoinKey {
                left: Some(col(*c).into_proto()),
                right: Some(col(*c).into_proto()),
            })
            .collect();
        self.join_node(right, join_type, on, None, pb::JoinConstraint::Using)
    }

    /// Every pair of rows (an inner join without keys or condition).
    pub fn cross_join(self, right: DataFrame) -> Self {
        self.join_node(
            right,
            JoinType::Inner,
            vec![],
            None,
            pb::JoinConstraint::Unspecified,
        )
    }

    /// Orders rows by `keys`, most significant first.
    pub fn sort(self, keys: impl IntoIterator<Item = SortKey>) -> Self {
        let order = keys.into_iter().map(SortKey::into_proto).collect();
        self.wrap(|input| {
            RelType::Sort(Box::new(pb::Sort {
                input,
                order,
                fetch: None,
            }))
        })
    }

    /// Skips `offset` rows, then returns at most `fetch` rows (all the
    /// remaining ones when `None`).
    pub fn limit(self, offset: u64, fetch: Option<u64>) -> Self {
        self.wrap(|input| {
            RelType::Limit(Box::new(pb::Limit {
                input,
                offset,
                fetch,
            }))
        })
    }

    /// Removes duplicate rows.
    pub fn distinct(self) -> Self {
        self.wrap(|input| RelType::Distinct(Box::new(pb::Distinct { input })))
    }

    fn set_operation(
        self,
        other: DataFrame,
        kind: pb::SetOperationType,
        all: bool,
        by_name: bool,
    ) -> Self {
        let mut df = leaf(RelType::SetOperation(pb::SetOperation {
            inputs: vec![self.plan, other.plan],
            r#type: kind as i32,
            all,
            by_name,
        }));
        df.ctx = self.ctx.or(other.ctx);
        df
    }

    /// `UNION` (duplicates removed), matching columns by position.
    pub fn union(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Union, false, false)
    }

    /// `UNION ALL` (duplicates kept), matching columns by position.
    pub fn union_all(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Union, true, false)
    }

    /// `UNION ALL BY NAME`: matches columns by name.
    pub fn union_by_name(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Union, true, true)
    }

    /// `INTERSECT` (distinct rows present in both).
    pub fn intersect(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Intersect, false, false)
    }

    /// `INTERSECT ALL`.
    pub fn intersect_all(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Intersect, true, false)
    }

    /// `EXCEPT` (distinct rows of `self` not in `other`).
    pub fn except(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Except, false, false)
    }

    /// `EXCEPT ALL`.
    pub fn except_all(self, other: DataFrame) -> Self {
        self.set_operation(other, pb::SetOperationType::Except, true, false)
    }

    /// Appends window function results as columns (see [`Expr::over`]).
    pub fn window(self, exprs: impl IntoIterator<Item = Expr>) -> Self {
        self.wrap(|input| {
            RelType::Window(Box::new(pb::Window {
                input,
                window_expressions: protos(exprs),
            }))
        })
    }

    /// Names this relation, so that its columns are qualified by `alias`.
    pub fn alias(self, alias: impl Into<String>) -> Self {
        self.wrap(|input| {
            RelType::SubqueryAlias(Box::new(pb::SubqueryAlias {
                input,
                alias: alias.into(),
            }))
        })
    }
}
