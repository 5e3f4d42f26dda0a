//! Integration tests of `ballista-core`: one test binary, cases in `cases/`.

mod cases;
mod support;
