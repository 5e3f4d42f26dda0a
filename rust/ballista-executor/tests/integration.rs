//! Integration tests of `ballista-executor`: one test binary, cases in
//! `cases/`. Everything is real: files in temporary directories, Flight
//! servers on 127.0.0.1 with free ports.

mod cases;
mod support;
