//! The Rust testee of the cross-language conformance suite.
//!
//! Builds every case of `integration/conformance/` with the Rust builder
//! API and prints one JSON line per case on stdout, the protocol that
//! `integration/conformance/run.py` reads (see the README there):
//!
//! ```text
//! {"case": "read_table", "plan_base64": "UgoKCBoGcGVvcGxl", "plan_json": {"readTable": ...}}
//! {"case": "broken", "error": "why the builder failed"}
//! ```
//!
//! With arguments, only the named cases are printed. The testee only
//! builds plans: comparing them with the golden files is the runner's job.

use std::io::Write;
use std::process::ExitCode;

use base64::Engine;
use prost::Message;

// Shared with tests/conformance.rs; this binary reads only names and builders.
#[allow(dead_code)]
mod cases;

fn main() -> ExitCode {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let known = cases::all();
    for name in &wanted {
        if !known.iter().any(|c| c.name == name) {
            eprintln!("conformance-testee: unknown case `{name}`");
            return ExitCode::FAILURE;
        }
    }
    let mut out = std::io::stdout().lock();
    for case in known {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == case.name) {
            continue;
        }
        let line = match (case.build)() {
            Ok(df) => match ballista_core::json::to_json_value(df.plan()) {
                Ok(json) => serde_json::json!({
                    "case": case.name,
                    "plan_base64": base64::engine::general_purpose::STANDARD
                        .encode(df.plan().encode_to_vec()),
                    "plan_json": json,
                }),
                Err(e) => serde_json::json!({"case": case.name, "error": e.to_string()}),
            },
            Err(e) => serde_json::json!({"case": case.name, "error": e.to_string()}),
        };
        if writeln!(out, "{line}").is_err() {
            // stdout closed (e.g. piped into `head`): nothing left to do.
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
