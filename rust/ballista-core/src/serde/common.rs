//! Conversions shared by the logical and physical codecs.
//!
//! The spec enums and messages below (binary operators, join types, null
//! equality, window frames) appear in both the logical and the physical
//! plan, so both codecs convert them here. Decoders take the field path of
//! the value they decode, for error messages.

use ballista_proto::v1 as pb;
use datafusion::common::{JoinType, NullEquality};
use datafusion::logical_expr::{Operator, WindowFrame, WindowFrameBound, WindowFrameUnits};

use crate::error::{BallistaError, Result, known_enum};
use crate::serde::types::{scalar_from_proto, scalar_to_proto};

/// DataFusion binary operator to the spec, or `None` when the spec has no
/// such operator (each codec words that error itself).
pub(crate) fn operator_to_proto(op: &Operator) -> Option<pb::BinaryOperator> {
    use pb::BinaryOperator as B;
    Some(match op {
        Operator::Eq => B::Eq,
        Operator::NotEq => B::NotEq,
        Operator::Lt => B::Lt,
        Operator::LtEq => B::LtEq,
        Operator::Gt => B::Gt,
        Operator::GtEq => B::GtEq,
        Operator::Plus => B::Plus,
        Operator::Minus => B::Minus,
        Operator::Multiply => B::Multiply,
        Operator::Divide => B::Divide,
        Operator::Modulo => B::Modulo,
        Operator::And => B::And,
        Operator::Or => B::Or,
        Operator::IsDistinctFrom => B::IsDistinctFrom,
        Operator::IsNotDistinctFrom => B::IsNotDistinctFrom,
        Operator::StringConcat => B::StringConcat,
        Operator::BitwiseAnd => B::BitwiseAnd,
        Operator::BitwiseOr => B::BitwiseOr,
        Operator::BitwiseXor => B::BitwiseXor,
        Operator::BitwiseShiftLeft => B::BitwiseShiftLeft,
        Operator::BitwiseShiftRight => B::BitwiseShiftRight,
        Operator::RegexMatch => B::RegexMatch,
        Operator::RegexIMatch => B::RegexImatch,
        Operator::RegexNotMatch => B::RegexNotMatch,
        Operator::RegexNotIMatch => B::RegexNotImatch,
        _ => return None,
    })
}

/// Spec binary operator (the raw enum value of the field at `path`) to
/// DataFusion; rejects unknown values and `UNSPECIFIED`.
pub(crate) fn operator_from_proto(v: i32, path: &str) -> Result<Operator> {
    use pb::BinaryOperator as B;
    Ok(match known_enum::<B>(v, path)? {
        B::Eq => Operator::Eq,
        B::NotEq => Operator::NotEq,
        B::Lt => Operator::Lt,
        B::LtEq => Operator::LtEq,
        B::Gt => Operator::Gt,
        B::GtEq => Operator::GtEq,
        B::Plus => Operator::Plus,
        B::Minus => Operator::Minus,
        B::Multiply => Operator::Multiply,
        B::Divide => Operator::Divide,
        B::Modulo => Operator::Modulo,
        B::And => Operator::And,
        B::Or => Operator::Or,
        B::IsDistinctFrom => Operator::IsDistinctFrom,
        B::IsNotDistinctFrom => Operator::IsNotDistinctFrom,
        B::StringConcat => Operator::StringConcat,
        B::BitwiseAnd => Operator::BitwiseAnd,
        B::BitwiseOr => Operator::BitwiseOr,
        B::BitwiseXor => Operator::BitwiseXor,
        B::BitwiseShiftLeft => Operator::BitwiseShiftLeft,
        B::BitwiseShiftRight => Operator::BitwiseShiftRight,
        B::RegexMatch => Operator::RegexMatch,
        B::RegexImatch => Operator::RegexIMatch,
        B::RegexNotMatch => Operator::RegexNotMatch,
        B::RegexNotImatch => Operator::RegexNotIMatch,
        B::Unspecified => return Err(BallistaError::invalid(path, "operator is not set")),
    })
}

/// DataFusion join type to the spec.
pub(crate) fn join_type_to_proto(t: JoinType) -> pb::JoinType {
    match t {
        JoinType::Inner => pb::JoinType::Inner,
        JoinType::Left => pb::JoinType::Left,
        JoinType::Right => pb::JoinType::Right,
        JoinType::Full => pb::JoinType::Full,
        JoinType::LeftSemi => pb::JoinType::LeftSemi,
        JoinType::LeftAnti => pb::JoinType::LeftAnti,
        JoinType::RightSemi => pb::JoinType::RightSemi,
        JoinType::RightAnti => pb::JoinType::RightAnti,
        JoinType::LeftMark => pb::JoinType::LeftMark,
        JoinType::RightMark => pb::JoinType::RightMark,
    }
}

/// Spec join type (the raw enum value of the field at `path`) to
/// DataFusion; rejects unknown values and `UNSPECIFIED`.
pub(crate) fn join_type_from_proto(v: i32, path: &str) -> Result<JoinType> {
    Ok(match known_enum::<pb::JoinType>(v, path)? {
        pb::JoinType::Inner => JoinType::Inner,
        pb::JoinType::Left => JoinType::Left,
        pb::JoinType::Right => JoinType::Right,
        pb::JoinType::Full => JoinType::Full,
        pb::JoinType::LeftSemi => JoinType::LeftSemi,
        pb::JoinType::LeftAnti => JoinType::LeftAnti,
        pb::JoinType::RightSemi => JoinType::RightSemi,
        pb::JoinType::RightAnti => JoinType::RightAnti,
        pb::JoinType::LeftMark => JoinType::LeftMark,
        pb::JoinType::RightMark => JoinType::RightMark,
        pb::JoinType::Unspecified => {
            return Err(BallistaError::invalid(path, "join type is not set"));
        }
    })
}

/// DataFusion null equality to the spec (`UNSPECIFIED` is "nulls equal
/// nothing", SQL's default).
pub(crate) fn null_equality_to_proto(n: NullEquality) -> pb::NullEquality {
    match n {
        NullEquality::NullEqualsNothing => pb::NullEquality::Unspecified,
        NullEquality::NullEqualsNull => pb::NullEquality::NullEqualsNull,
    }
}

/// Spec null equality (the raw enum value of the field at `path`) to
/// DataFusion; rejects unknown values.
pub(crate) fn null_equality_from_proto(v: i32, path: &str) -> Result<NullEquality> {
    Ok(match known_enum::<pb::NullEquality>(v, path)? {
        pb::NullEquality::Unspecified => NullEquality::NullEqualsNothing,
        pb::NullEquality::NullEqualsNull => NullEquality::NullEqualsNull,
    })
}

/// A window frame to the spec, always with explicit units and bounds.
pub(crate) fn window_frame_to_proto(f: &WindowFrame) -> Result<pb::WindowFrame> {
    Ok(pb::WindowFrame {
        units: window_frame_units_to_proto(f.units) as i32,
        start: Some(window_frame_bound_to_proto(&f.start_bound)?),
        end: Some(window_frame_bound_to_proto(&f.end_bound)?),
    })
}

/// Window frame units to the spec (`UNSPECIFIED` is `ROWS`).
pub(crate) fn window_frame_units_to_proto(u: WindowFrameUnits) -> pb::WindowFrameUnits {
    match u {
        WindowFrameUnits::Rows => pb::WindowFrameUnits::Unspecified,
        WindowFrameUnits::Range => pb::WindowFrameUnits::Range,
        WindowFrameUnits::Groups => pb::WindowFrameUnits::Groups,
    }
}

/// Spec window frame units (the raw enum value of the field at `path`) to
/// DataFusion; rejects unknown values.
pub(crate) fn window_frame_units_from_proto(v: i32, path: &str) -> Result<WindowFrameUnits> {
    Ok(match known_enum::<pb::WindowFrameUnits>(v, path)? {
        pb::WindowFrameUnits::Unspecified => WindowFrameUnits::Rows,
        pb::WindowFrameUnits::Range => WindowFrameUnits::Range,
        pb::WindowFrameUnits::Groups => WindowFrameUnits::Groups,
    })
}

/// One end of a window frame to the spec.
pub(crate) fn window_frame_bound_to_proto(b: &WindowFrameBound) -> Result<pb::WindowFrameBound> {
    use pb::window_frame_bound::Bound;
    Ok(pb::WindowFrameBound {
        bound: Some(match b {
            WindowFrameBound::CurrentRow => Bound::CurrentRow(pb::EmptyType {}),
            WindowFrameBound::Preceding(v) => Bound::Preceding(scalar_to_proto(v)?),
            WindowFrameBound::Following(v) => Bound::Following(scalar_to_proto(v)?),
        }),
    })
}

/// The set `bound` of the spec window frame bound at `path` to DataFusion.
/// Each codec reports an unset `bound` itself: the logical codec as a
/// missing `{path}.bound`, the physical codec as "no bound is set".
pub(crate) fn window_frame_bound_from_proto(
    b: &pb::window_frame_bound::Bound,
    path: &str,
) -> Result<WindowFrameBound> {
    use pb::window_frame_bound::Bound;
    Ok(match b {
        Bound::CurrentRow(_) => WindowFrameBound::CurrentRow,
        Bound::Preceding(v) => {
            WindowFrameBound::Preceding(scalar_from_proto(v, &format!("{path}.preceding"))?)
        }
        Bound::Following(v) => {
            WindowFrameBound::Following(scalar_from_proto(v, &format!("{path}.following"))?)
        }
    })
}
