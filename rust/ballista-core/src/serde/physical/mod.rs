//! Physical plan codec (being written).
