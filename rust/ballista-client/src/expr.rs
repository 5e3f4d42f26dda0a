//! Expressions of the logical plan: [`Expr`] and the free functions that
//! build one ([`col`], [`lit`], [`when`], [`exists`], ...).
//!
//! An [`Expr`] is a thin wrapper around the spec's `Expression` message:
//! every method produces exactly the message the spec describes, with names
//! left unresolved (the scheduler resolves columns and functions). Nothing
//! here validates names or types, and nothing here may depend on DataFusion's
//! `Expr`: Python and Java build the same messages with the same names
//! (`snake_case` in Python, `camelCase` in Java), and the conformance suite in
//! `integration/conformance/` checks that they produce identical bytes.
//!
//! Fallible methods (those that take an Arrow [`DataType`]) return
//! [`Result`]: the spec cannot express every Arrow type (unions, for one).

use std::ops;

use arrow::datatypes::{DataType, TimeUnit};
use ballista_core::serde::types::{data_type_to_proto, scalar_to_proto, time_unit_to_proto};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::common::ScalarValue;

use pb::expression::ExprType;
use pb::literal::Value;

use crate::DataFrame;

/// A logical expression: a builder over the spec's `Expression` message.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr(pb::Expression);

impl Expr {
    /// Wraps a spec expression as it is.
    pub fn from_proto(expr: pb::Expression) -> Self {
        Self(expr)
    }

    /// The spec message.
    pub fn to_proto(&self) -> &pb::Expression {
        &self.0
    }

    /// Consumes the builder, returning the spec message.
    pub fn into_proto(self) -> pb::Expression {
        self.0
    }

    fn of(expr: ExprType) -> Self {
        Self(pb::Expression {
            expr_type: Some(expr),
        })
    }

    fn binary(self, op: pb::BinaryOperator, right: Expr) -> Self {
        Self::of(ExprType::Binary(Box::new(pb::BinaryExpression {
            left: Some(Box::new(self.0)),
            op: op as i32,
            right: Some(Box::new(right.0)),
        })))
    }

    /// `self = other`.
    pub fn eq(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::Eq, other)
    }

    /// `self <> other`.
    pub fn not_eq(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::NotEq, other)
    }

    /// `self < other`.
    pub fn lt(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::Lt, other)
    }

    /// `self <= other`.
    pub fn lt_eq(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::LtEq, other)
    }

    /// `self > other`.
    pub fn gt(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::Gt, other)
    }

    /// `self >= other`.
    pub fn gt_eq(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::GtEq, other)
    }

    /// `self AND other`.
    pub fn and(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::And, other)
    }

    /// `self OR other`.
    pub fn or(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::Or, other)
    }

    /// `self IS DISTINCT FROM other` (null-safe inequality).
    pub fn is_distinct_from(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::IsDistinctFrom, other)
    }

    /// `self IS NOT DISTINCT FROM other` (null-safe equality).
    pub fn is_not_distinct_from(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::IsNotDistinctFrom, other)
    }

    /// `self || other` (string concatenation).
    pub fn concat(self, other: Expr) -> Self {
        self.binary(pb::BinaryOperator::StringConcat, other)
    }

    /// Any binary operator of the spec, for the ones without a named method
    /// (bitwise operators, regular expression matches).
    pub fn binary_op(self, op: pb::BinaryOperator, other: Expr) -> Self {
        self.binary(op, other)
    }

    /// Names the expression's output column.
    pub fn alias(self, name: impl Into<String>) -> Self {
        Self::of(ExprType::Alias(Box::new(pb::Alias {
            expression: Some(Box::new(self.0)),
            name: name.into(),
            qualifier: vec![],
        })))
    }

    fn cast_to(self, to: &DataType, safe: bool) -> Result<Self> {
        Ok(Self::of(ExprType::Cast(Box::new(pb::Cast {
            expression: Some(Box::new(self.0)),
            data_type: Some(data_type_to_proto(to)?),
            safe,
        }))))
    }

    /// `CAST(self AS to)`: fails at run time on values that do not convert.
    /// Errors if the spec cannot express `to`.
    pub fn cast(self, to: &DataType) -> Result<Self> {
        self.cast_to(to, false)
    }

    /// `TRY_CAST(self AS to)`: NULL for values that do not convert.
    /// Errors if the spec cannot express `to`.
    pub fn try_cast(self, to: &DataType) -> Result<Self> {
        self.cast_to(to, true)
    }

    fn unary(self, kind: pb::UnaryPredicateKind) -> Self {
        Self::of(ExprType::UnaryPredicate(Box::new(pb::UnaryPredicate {
            kind: kind as i32,
            expression: Some(Box::new(self.0)),
        })))
    }

    /// `self IS NULL`.
    pub fn is_null(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsNull)
    }

    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsNotNull)
    }

    /// `self IS TRUE`.
    pub fn is_true(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsTrue)
    }

    /// `self IS FALSE`.
    pub fn is_false(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsFalse)
    }

    /// `self IS UNKNOWN`.
    pub fn is_unknown(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsUnknown)
    }

    /// `self IS NOT TRUE`.
    pub fn is_not_true(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsNotTrue)
    }

    /// `self IS NOT FALSE`.
    pub fn is_not_false(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsNotFalse)
    }

    /// `self IS NOT UNKNOWN`.
    pub fn is_not_unknown(self) -> Self {
        self.unary(pb::UnaryPredicateKind::IsNotUnknown)
    }

    fn between_impl(self, low: Expr, high: Expr, negated: bool) -> Self {
        Self::of(ExprType::Between(Box::new(pb::Between {
            expression: Some(Box::new(self.0)),
            negated,
            low: Some(Box::new(low.0)),
            high: Some(Box::new(high.0)),
        })))
    }

    /// `self BETWEEN low AND high` (both bounds inclusive).
    pub fn between(self, low: Expr, high: Expr) -> Self {
        self.between_impl(low, high, false)
    }

    /// `self NOT BETWEEN low AND high`.
    pub fn not_between(self, low: Expr, high: Expr) -> Self {
        self.between_impl(low, high, true)
    }

    /// `self IN (list)`, or `NOT IN` when `negated`.
    pub fn in_list(self, list: impl IntoIterator<Item = Expr>, negated: bool) -> Self {
        Self::of(ExprType::InList(Box::new(pb::InList {
            expression: Some(Box::new(self.0)),
            list: list.into_iter().map(|e| e.0).collect(),
            negated,
        })))
    }

    fn like_impl(self, pattern: Expr, negated: bool, kind: pb::LikeKind) -> Self {
        Self::of(ExprType::Like(Box::new(pb::Like {
            expression: Some(Box::new(self.0)),
            pattern: Some(Box::new(pattern.0)),
            negated,
            escape_char: None,
            kind: kind as i32,
        })))
    }

    /// `self LIKE pattern` (`%` any string, `_` any character).
    pub fn like(self, pattern: Expr) -> Self {
        self.like_impl(pattern, false, pb::LikeKind::Unspecified)
    }

    /// `self NOT LIKE pattern`.
    pub fn not_like(self, pattern: Expr) -> Self {
        self.like_impl(pattern, true, pb::LikeKind::Unspecified)
    }

    /// `self ILIKE pattern` (case-insensitive LIKE).
    pub fn ilike(self, pattern: Expr) -> Self {
        self.like_impl(pattern, false, pb::LikeKind::Ilike)
    }

    /// `self NOT ILIKE pattern`.
    pub fn not_ilike(self, pattern: Expr) -> Self {
        self.like_impl(pattern, true, pb::LikeKind::Ilike)
    }

    /// `self SIMILAR TO pattern` (SQL regular expression).
    pub fn similar_to(self, pattern: Expr) -> Self {
        self.like_impl(pattern, false, pb::LikeKind::SimilarTo)
    }

    /// `self IN (subquery)`; the subquery must have one column.
    pub fn in_subquery(self, subquery: DataFrame) -> Self {
        self.in_subquery_impl(subquery, false)
    }

    /// `self NOT IN (subquery)`.
    pub fn not_in_subquery(self, subquery: DataFrame) -> Self {
        self.in_subquery_impl(subquery, true)
    }

    fn in_subquery_impl(self, subquery: DataFrame, negated: bool) -> Self {
        Self::of(ExprType::InSubquery(Box::new(pb::InSubquery {
            expression: Some(Box::new(self.0)),
            subquery: Some(Box::new(subquery.into_plan())),
            negated,
        })))
    }

    /// A sort key on this expression: ascending, nulls last.
    pub fn asc(self) -> SortKey {
        self.sort(true, false)
    }

    /// A sort key on this expression: descending, nulls first (SQL's
    /// default: NULL sorts as the largest value in both directions).
    pub fn desc(self) -> SortKey {
        self.sort(false, true)
    }

    /// A sort key with explicit direction and null placement.
    pub fn sort(self, ascending: bool, nulls_first: bool) -> SortKey {
        SortKey(pb::SortOrder {
            expression: Some(Box::new(self.0)),
            options: Some(pb::SortOptions {
                descending: !ascending,
                nulls_first,
            }),
        })
    }

    /// Adds `FILTER (WHERE condition)` to an aggregate function call.
    /// Errors if `self` is not an aggregate function call.
    pub fn filter(self, condition: Expr) -> Result<Self> {
        self.edit_aggregate("filter", |a| a.filter = Some(Box::new(condition.0)))
    }

    /// Adds `ORDER BY keys` inside an aggregate function call (for
    /// order-sensitive aggregates such as `array_agg` or `first_value`).
    /// Errors if `self` is not an aggregate function call.
    pub fn order_by(self, keys: impl IntoIterator<Item = SortKey>) -> Result<Self> {
        let keys: Vec<_> = keys.into_iter().map(|k| k.0).collect();
        self.edit_aggregate("order_by", |a| a.order_by = keys)
    }

    fn edit_aggregate(
        self,
        what: &str,
        edit: impl FnOnce(&mut pb::AggregateFunction),
    ) -> Result<Self> {
        match self.0.expr_type {
            Some(ExprType::AggregateFunction(mut a)) => {
                edit(&mut a);
                Ok(Self::of(ExprType::AggregateFunction(a)))
            }
            _ => Err(BallistaError::Plan(format!(
                "{what}() applies to an aggregate function call such as sum(..), got {:?}",
                self.0
            ))),
        }
    }

    /// Evaluates this function over a window: `self OVER (window)`.
    ///
    /// `self` must be a window function ([`crate::functions::row_number`],
    /// [`crate::functions::rank`], ...), an aggregate function (`sum(x)`)
    /// or a function call by name; anything else is an error.
    pub fn over(self, window: Window) -> Result<Self> {
        let mut function = match self.0.expr_type {
            Some(ExprType::WindowFunction(w)) => w,
            Some(ExprType::AggregateFunction(a)) => pb::WindowFunction {
                name: a.name,
                arguments: a.arguments,
                ignore_nulls: a.ignore_nulls,
                distinct: a.distinct,
                ..Default::default()
            },
            Some(ExprType::ScalarFunction(f)) => pb::WindowFunction {
                name: f.name,
                arguments: f.arguments,
                ..Default::default()
            },
            _ => {
                return Err(BallistaError::Plan(format!(
                    "over() applies to a window, aggregate or named function call, got {:?}",
                    self.0
                )));
            }
        };
        function.partition_by = window.partition_by;
        function.order_by = window.order_by;
        function.frame = window.frame;
        Ok(Self::of(ExprType::WindowFunction(function)))
    }
}

impl From<SortKey> for Expr {
    /// A sort key as an expression, for function arguments that take one.
    fn from(key: SortKey) -> Self {
        Self::of(ExprType::SortOrder(Box::new(key.0)))
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:ident) => {
        impl ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                self.binary(pb::BinaryOperator::$op, rhs)
            }
        }
    };
}

binary_operator!(Add, add, Plus);
binary_operator!(Sub, sub, Minus);
binary_operator!(Mul, mul, Multiply);
binary_operator!(Div, div, Divide);
binary_operator!(Rem, rem, Modulo);
binary_operator!(BitAnd, bitand, BitwiseAnd);
binary_operator!(BitOr, bitor, BitwiseOr);
binary_operator!(BitXor, bitxor, BitwiseXor);
binary_operator!(Shl, shl, BitwiseShiftLeft);
binary_operator!(Shr, shr, BitwiseShiftRight);

impl ops::Not for Expr {
    type Output = Expr;
    /// `NOT self`.
    fn not(self) -> Expr {
        Self::of(ExprType::Not(Box::new(self.0)))
    }
}

impl ops::Neg for Expr {
    type Output = Expr;
    /// `-self`.
    fn neg(self) -> Expr {
        Self::of(ExprType::Negative(Box::new(self.0)))
    }
}

/// `NOT expr` (same as `!expr`).
pub fn not(expr: Expr) -> Expr {
    !expr
}

/// A column of the input, by name. The name is taken as it is: a dot is
/// part of the name, not a qualifier separator (use [`qualified_col`]).
pub fn col(name: impl Into<String>) -> Expr {
    Expr::of(ExprType::Column(column_ref(None, name)))
}

/// A column qualified by a table name or alias, as `t.x` in SQL.
pub fn qualified_col(qualifier: impl Into<String>, name: impl Into<String>) -> Expr {
    Expr::of(ExprType::Column(column_ref(Some(qualifier.into()), name)))
}

/// A column of the enclosing query, for correlated subqueries.
pub fn outer_col(qualifier: impl Into<String>, name: impl Into<String>) -> Expr {
    Expr::of(ExprType::OuterColumn(column_ref(
        Some(qualifier.into()),
        name,
    )))
}

fn column_ref(qualifier: Option<String>, name: impl Into<String>) -> pb::ColumnRef {
    pb::ColumnRef {
        name: name.into(),
        qualifier: qualifier.into_iter().collect(),
        plan_id: None,
    }
}

/// `*`: every column of the input.
pub fn wildcard() -> Expr {
    Expr::of(ExprType::Wildcard(pb::Wildcard { qualifier: vec![] }))
}

/// `qualifier.*`: every column of one input relation.
pub fn qualified_wildcard(qualifier: impl Into<String>) -> Expr {
    Expr::of(ExprType::Wildcard(pb::Wildcard {
        qualifier: vec![qualifier.into()],
    }))
}

/// A query parameter placeholder such as `$1`.
pub fn placeholder(id: impl Into<String>) -> Expr {
    Expr::of(ExprType::Placeholder(id.into()))
}

/// A value that converts to a spec literal: Rust's booleans, integers,
/// floats and strings map to the Arrow type of the same width
/// (`i64` -> Int64, `&str` -> Utf8, `f64` -> Float64, ...).
pub trait Literal {
    /// The spec literal.
    fn to_literal(self) -> pb::Literal;
}

macro_rules! literal {
    ($ty:ty, $variant:ident, $conv:expr) => {
        impl Literal for $ty {
            fn to_literal(self) -> pb::Literal {
                pb::Literal {
                    value: Some(Value::$variant($conv(self))),
                }
            }
        }
    };
}

literal!(bool, BoolValue, |v| v);
literal!(i8, Int8Value, i32::from);
literal!(i16, Int16Value, i32::from);
literal!(i32, Int32Value, |v| v);
literal!(i64, Int64Value, |v| v);
literal!(u8, Uint8Value, u32::from);
literal!(u16, Uint16Value, u32::from);
literal!(u32, Uint32Value, |v| v);
literal!(u64, Uint64Value, |v| v);
literal!(f32, Float32Value, |v| v);
literal!(f64, Float64Value, |v| v);
literal!(&str, Utf8Value, str::to_string);
literal!(String, Utf8Value, |v| v);
literal!(Vec<u8>, BinaryValue, |v| v);

impl Literal for pb::Literal {
    fn to_literal(self) -> pb::Literal {
        self
    }
}

/// A literal value: `lit(1_i64)`, `lit("a")`, `lit(2.5)`, `lit(true)`.
/// Other kinds have their own constructors: [`lit_null`], [`lit_decimal`],
/// [`lit_date`], [`lit_timestamp`], [`lit_interval`], [`lit_scalar`], ...
pub fn lit(value: impl Literal) -> Expr {
    Expr::of(ExprType::Literal(value.to_literal()))
}

fn value(v: Value) -> Expr {
    lit(pb::Literal { value: Some(v) })
}

/// Any DataFusion scalar value as a literal (nested values travel as a
/// one-row Arrow IPC stream). Errors if the spec cannot express its type.
pub fn lit_scalar(value: &ScalarValue) -> Result<Expr> {
    Ok(lit(scalar_to_proto(value)?))
}

/// A typed NULL. Errors if the spec cannot express `data_type`.
pub fn lit_null(data_type: &DataType) -> Result<Expr> {
    Ok(value(Value::NullValue(data_type_to_proto(data_type)?)))
}

/// A Decimal128 literal: `unscaled * 10^-scale`, e.g.
/// `lit_decimal(1250, 5, 2)` is `125.00` as `DECIMAL(5, 2)`.
pub fn lit_decimal(unscaled: i128, precision: u8, scale: i8) -> Expr {
    value(Value::DecimalValue(pb::DecimalValue {
        unscaled: unscaled.to_string(),
        precision: u32::from(precision),
        scale: i32::from(scale),
        bit_width: 128,
    }))
}

/// A Date32 literal for a day of the proleptic Gregorian calendar.
pub fn lit_date(year: i32, month: u32, day: u32) -> Expr {
    value(Value::Date32Value(days_from_civil(year, month, day)))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, exact
/// for every date in range; no calendar crate needed).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // Dates whose day number does not fit i32 are ~5.8 million years away.
    (era * 146_097 + doe - 719_468) as i32
}

/// A timestamp literal: `value` ticks of `unit` since the UNIX epoch, in
/// time zone `timezone` (an IANA name or offset) or wall-clock when `None`.
pub fn lit_timestamp(value_: i64, unit: TimeUnit, timezone: Option<&str>) -> Expr {
    value(Value::TimestampValue(pb::TimestampValue {
        value: value_,
        unit: time_unit_to_proto(&unit) as i32,
        timezone: timezone.map(str::to_string),
    }))
}

/// A MonthDayNano interval literal (SQL's `INTERVAL '1 month 2 days'`).
pub fn lit_interval(months: i32, days: i32, nanoseconds: i64) -> Expr {
    value(Value::IntervalMonthDayNanoValue(pb::IntervalMonthDayNano {
        months,
        days,
        nanoseconds,
    }))
}

/// A YearMonth interval literal of whole months.
pub fn lit_interval_year_month(months: i32) -> Expr {
    value(Value::IntervalYearMonthValue(months))
}

/// A DayTime interval literal.
pub fn lit_interval_day_time(days: i32, milliseconds: i32) -> Expr {
    value(Value::IntervalDayTimeValue(pb::IntervalDayTime {
        days,
        milliseconds,
    }))
}

/// A duration literal of `value` ticks of `unit`.
pub fn lit_duration(value_: i64, unit: TimeUnit) -> Expr {
    value(Value::DurationValue(pb::DurationValue {
        value: value_,
        unit: time_unit_to_proto(&unit) as i32,
    }))
}

/// A time-of-day literal: `value` ticks of `unit` since midnight.
pub fn lit_time(value_: i64, unit: TimeUnit) -> Expr {
    value(Value::TimeValue(pb::TimeValue {
        value: value_,
        unit: time_unit_to_proto(&unit) as i32,
    }))
}

/// `CAST(expr AS to)`; see [`Expr::cast`].
pub fn cast(expr: Expr, to: &DataType) -> Result<Expr> {
    expr.cast(to)
}

/// `TRY_CAST(expr AS to)`; see [`Expr::try_cast`].
pub fn try_cast(expr: Expr, to: &DataType) -> Result<Expr> {
    expr.try_cast(to)
}

/// A scalar function call by name, e.g. `call("upper", [col("name")])`.
/// The name is resolved by the scheduler (case-insensitively).
pub fn call(name: impl Into<String>, arguments: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::of(ExprType::ScalarFunction(pb::FunctionCall {
        name: name.into(),
        arguments: arguments.into_iter().map(|e| e.0).collect(),
    }))
}

/// An aggregate function call by name, e.g. `call_aggregate("sum", [col("x")])`.
pub fn call_aggregate(name: impl Into<String>, arguments: impl IntoIterator<Item = Expr>) -> Expr {
    aggregate(name, arguments, false)
}

pub(crate) fn aggregate(
    name: impl Into<String>,
    arguments: impl IntoIterator<Item = Expr>,
    distinct: bool,
) -> Expr {
    Expr::of(ExprType::AggregateFunction(Box::new(
        pb::AggregateFunction {
            name: name.into(),
            arguments: arguments.into_iter().map(|e| e.0).collect(),
            distinct,
            ..Default::default()
        },
    )))
}

/// A window function call by name, e.g. `call_window("ntile", [lit(4)])`;
/// give it a window with [`Expr::over`].
pub fn call_window(name: impl Into<String>, arguments: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::of(ExprType::WindowFunction(pb::WindowFunction {
        name: name.into(),
        arguments: arguments.into_iter().map(|e| e.0).collect(),
        ..Default::default()
    }))
}

/// `EXISTS (subquery)`.
pub fn exists(subquery: DataFrame) -> Expr {
    Expr::of(ExprType::Exists(Box::new(pb::Exists {
        subquery: Some(Box::new(subquery.into_plan())),
        negated: false,
    })))
}

/// `NOT EXISTS (subquery)`.
pub fn not_exists(subquery: DataFrame) -> Expr {
    Expr::of(ExprType::Exists(Box::new(pb::Exists {
        subquery: Some(Box::new(subquery.into_plan())),
        negated: true,
    })))
}

/// `(subquery)` as a value: the subquery must return one column and at
/// most one row.
pub fn scalar_subquery(subquery: DataFrame) -> Expr {
    Expr::of(ExprType::ScalarSubquery(Box::new(pb::ScalarSubquery {
        subquery: Some(Box::new(subquery.into_plan())),
    })))
}

/// Starts a searched `CASE WHEN condition THEN .. [WHEN ..] [ELSE ..] END`:
/// `when(c1).then(v1).when(c2).then(v2).otherwise(v3)`.
pub fn when(condition: Expr) -> When {
    Case {
        operand: None,
        when_then: vec![],
    }
    .when(condition)
}

/// Starts a simple `CASE operand WHEN value THEN .. END`:
/// `case(col("x")).when(lit(1)).then(lit("one")).end()`.
pub fn case(operand: Expr) -> Case {
    Case {
        operand: Some(operand),
        when_then: vec![],
    }
}

/// A CASE expression being built; finish it with [`Case::otherwise`] or
/// [`Case::end`].
#[derive(Debug, Clone)]
pub struct Case {
    operand: Option<Expr>,
    when_then: Vec<pb::WhenThen>,
}

/// A CASE branch waiting for its [`When::then`] value.
#[derive(Debug, Clone)]
pub struct When {
    case: Case,
    condition: Expr,
}

impl Case {
    /// Adds a `WHEN condition` branch.
    pub fn when(self, condition: Expr) -> When {
        When {
            case: self,
            condition,
        }
    }

    /// Finishes the CASE with `ELSE value`.
    pub fn otherwise(self, value: Expr) -> Expr {
        self.build(Some(value))
    }

    /// Finishes the CASE without ELSE (NULL when no branch matches).
    pub fn end(self) -> Expr {
        self.build(None)
    }

    fn build(self, else_result: Option<Expr>) -> Expr {
        Expr::of(ExprType::Case(Box::new(pb::Case {
            operand: self.operand.map(|e| Box::new(e.0)),
            when_then: self.when_then,
            else_result: else_result.map(|e| Box::new(e.0)),
        })))
    }
}

impl When {
    /// The value of this branch.
    pub fn then(mut self, value: Expr) -> Case {
        self.case.when_then.push(pb::WhenThen {
            when: Some(self.condition.0),
            then: Some(value.0),
        });
        self.case
    }
}

/// A sort key: an expression with direction and null placement. Built
/// with [`Expr::asc`], [`Expr::desc`] or [`Expr::sort`].
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey(pb::SortOrder);

impl SortKey {
    /// Puts nulls before non-null values.
    pub fn nulls_first(mut self) -> Self {
        self.options().nulls_first = true;
        self
    }

    /// Puts nulls after non-null values.
    pub fn nulls_last(mut self) -> Self {
        self.options().nulls_first = false;
        self
    }

    fn options(&mut self) -> &mut pb::SortOptions {
        self.0.options.get_or_insert_with(Default::default)
    }

    /// The spec message.
    pub fn into_proto(self) -> pb::SortOrder {
        self.0
    }
}

/// A window specification: `PARTITION BY .. ORDER BY .. [frame]`, as in
/// `sum(col("x")).over(Window::new().partition_by([col("k")]))`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    partition_by: Vec<pb::Expression>,
    order_by: Vec<pb::SortOrder>,
    frame: Option<pb::WindowFrame>,
}

/// One end of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`.
    UnboundedPreceding,
    /// `n PRECEDING`.
    Preceding(u64),
    /// `CURRENT ROW`.
    CurrentRow,
    /// `n FOLLOWING`.
    Following(u64),
    /// `UNBOUNDED FOLLOWING`.
    UnboundedFollowing,
}

impl FrameBound {
    fn to_proto(self) -> pb::WindowFrameBound {
        use pb::window_frame_bound::Bound;
        // The spec writes "unbounded" as a null literal; the offset of a
        // ROWS/GROUPS frame is an unsigned integer.
        let offset = |n: Option<u64>| pb::Literal {
            value: Some(match n {
                Some(n) => Value::Uint64Value(n),
                None => Value::NullValue(pb::DataType {
                    kind: Some(pb::data_type::Kind::Uint64(pb::EmptyType {})),
                }),
            }),
        };
        let bound = match self {
            Self::UnboundedPreceding => Bound::Preceding(offset(None)),
            Self::Preceding(n) => Bound::Preceding(offset(Some(n))),
            Self::CurrentRow => Bound::CurrentRow(pb::EmptyType {}),
            Self::Following(n) => Bound::Following(offset(Some(n))),
            Self::UnboundedFollowing => Bound::Following(offset(None)),
        };
        pb::WindowFrameBound { bound: Some(bound) }
    }
}

impl Window {
    /// An empty window: the whole input is one partition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `PARTITION BY exprs`.
    pub fn partition_by(mut self, exprs: impl IntoIterator<Item = Expr>) -> Self {
        self.partition_by = exprs.into_iter().map(|e| e.0).collect();
        self
    }

    /// Sets `ORDER BY keys`.
    pub fn order_by(mut self, keys: impl IntoIterator<Item = SortKey>) -> Self {
        self.order_by = keys.into_iter().map(|k| k.0).collect();
        self
    }

    fn frame(mut self, units: pb::WindowFrameUnits, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(pb::WindowFrame {
            units: units as i32,
            start: Some(start.to_proto()),
            end: Some(end.to_proto()),
        });
        self
    }

    /// Sets a `ROWS BETWEEN start AND end` frame.
    pub fn rows_between(self, start: FrameBound, end: FrameBound) -> Self {
        self.frame(pb::WindowFrameUnits::Unspecified, start, end)
    }

    /// Sets a `RANGE BETWEEN start AND end` frame.
    pub fn range_between(self, start: FrameBound, end: FrameBound) -> Self {
        self.frame(pb::WindowFrameUnits::Range, start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        // Cross-checked against Arrow's own date parser.
        let parsed = arrow::compute::kernels::cast::cast(
            &arrow::array::StringArray::from(vec!["1900-02-28", "2038-01-19"]),
            &DataType::Date32,
        )
        .unwrap();
        let parsed = parsed
            .as_any()
            .downcast_ref::<arrow::array::Date32Array>()
            .unwrap();
        assert_eq!(parsed.value(0), days_from_civil(1900, 2, 28));
        assert_eq!(parsed.value(1), days_from_civil(2038, 1, 19));
    }

    #[test]
    fn over_rejects_non_functions() {
        let err = col("x").over(Window::new()).unwrap_err();
        assert!(err.to_string().contains("over()"), "{err}");
        let err = col("x").filter(lit(true)).unwrap_err();
        assert!(err.to_string().contains("filter()"), "{err}");
    }

    #[test]
    fn sort_key_defaults() {
        let k = col("x").desc().into_proto();
        let o = k.options.unwrap();
        assert!(o.descending && o.nulls_first);
        let o = col("x").asc().nulls_first().into_proto().options.unwrap();
        assert!(!o.descending && o.nulls_first);
    }
}
