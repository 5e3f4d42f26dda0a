//! Test cases, one module per concern.

mod codec;
mod shuffle_writer;
