//! Common functions by name: thin shorthands for [`call`],
//! [`call_aggregate`] and [`call_window`].
//!
//! Each function only names the call; the scheduler resolves the name
//! against its registry, so a function missing here is still reachable with
//! [`call`]. The names are those of DataFusion's (and mostly Spark's) SQL
//! functions, and Python and Java expose the same list (`functions.sum`,
//! `Functions.sum`). This module must not grow logic beyond building calls.

use crate::expr::{Expr, aggregate, call, call_aggregate, call_window, lit};

/// `sum(expr)`.
pub fn sum(expr: Expr) -> Expr {
    call_aggregate("sum", [expr])
}

/// `avg(expr)`.
pub fn avg(expr: Expr) -> Expr {
    call_aggregate("avg", [expr])
}

/// `min(expr)`.
pub fn min(expr: Expr) -> Expr {
    call_aggregate("min", [expr])
}

/// `max(expr)`.
pub fn max(expr: Expr) -> Expr {
    call_aggregate("max", [expr])
}

/// `count(expr)`: the number of non-null values.
pub fn count(expr: Expr) -> Expr {
    call_aggregate("count", [expr])
}

/// `count(*)`: the number of rows. Written as `count(1)`, which every
/// engine reads the same way.
pub fn count_all() -> Expr {
    call_aggregate("count", [lit(1_i64)])
}

/// `count(DISTINCT expr)`.
pub fn count_distinct(expr: Expr) -> Expr {
    aggregate("count", [expr], true)
}

/// `array_agg(expr)`: the values of each group as a list.
pub fn array_agg(expr: Expr) -> Expr {
    call_aggregate("array_agg", [expr])
}

/// `substr(expr, start)`: the rest of the string from 1-based `start`.
pub fn substr(expr: Expr, start: Expr) -> Expr {
    call("substr", [expr, start])
}

/// `substr(expr, start, length)`.
pub fn substring(expr: Expr, start: Expr, length: Expr) -> Expr {
    call("substr", [expr, start, length])
}

/// `upper(expr)`.
pub fn upper(expr: Expr) -> Expr {
    call("upper", [expr])
}

/// `lower(expr)`.
pub fn lower(expr: Expr) -> Expr {
    call("lower", [expr])
}

/// `trim(expr)`: removes leading and trailing spaces.
pub fn trim(expr: Expr) -> Expr {
    call("btrim", [expr])
}

/// `length(expr)`: the number of characters.
pub fn length(expr: Expr) -> Expr {
    call("character_length", [expr])
}

/// `concat(args..)`: concatenation that skips NULL arguments.
pub fn concat(args: impl IntoIterator<Item = Expr>) -> Expr {
    call("concat", args)
}

/// `date_part(part, expr)`, e.g. `date_part("year", col("d"))`.
pub fn date_part(part: &str, expr: Expr) -> Expr {
    call("date_part", [lit(part), expr])
}

/// `date_trunc(part, expr)`, e.g. `date_trunc("month", col("ts"))`.
pub fn date_trunc(part: &str, expr: Expr) -> Expr {
    call("date_trunc", [lit(part), expr])
}

/// `coalesce(args..)`: the first non-null argument.
pub fn coalesce(args: impl IntoIterator<Item = Expr>) -> Expr {
    call("coalesce", args)
}

/// `nullif(a, b)`: NULL if `a = b`, else `a`.
pub fn nullif(a: Expr, b: Expr) -> Expr {
    call("nullif", [a, b])
}

/// `round(expr, digits)`.
pub fn round(expr: Expr, digits: i64) -> Expr {
    call("round", [expr, lit(digits)])
}

/// `abs(expr)`.
pub fn abs(expr: Expr) -> Expr {
    call("abs", [expr])
}

/// `sqrt(expr)`.
pub fn sqrt(expr: Expr) -> Expr {
    call("sqrt", [expr])
}

/// `row_number()`: 1, 2, 3... within each window partition.
pub fn row_number() -> Expr {
    call_window("row_number", [])
}

/// `rank()`: rank with gaps after ties.
pub fn rank() -> Expr {
    call_window("rank", [])
}

/// `dense_rank()`: rank without gaps.
pub fn dense_rank() -> Expr {
    call_window("dense_rank", [])
}

/// `lag(expr, offset)`: the value `offset` rows before, NULL if none.
pub fn lag(expr: Expr, offset: i64) -> Expr {
    call_window("lag", [expr, lit(offset)])
}

/// `lead(expr, offset)`: the value `offset` rows after, NULL if none.
pub fn lead(expr: Expr, offset: i64) -> Expr {
    call_window("lead", [expr, lit(offset)])
}
