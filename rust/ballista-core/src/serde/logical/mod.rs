//! Logical plan codec (being written).
