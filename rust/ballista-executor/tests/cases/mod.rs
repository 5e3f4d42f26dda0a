//! Test cases, one module per concern.

mod codec;
mod executor;
mod flight_service;
mod narrow;
mod python_udf;
mod shuffle_reader;
mod shuffle_writer;
