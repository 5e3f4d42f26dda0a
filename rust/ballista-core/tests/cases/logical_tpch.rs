//! Logical plan round trip of the 22 TPC-H queries (being written).
