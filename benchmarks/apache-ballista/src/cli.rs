//! Command-line parsing. Hand-written (a dozen flags) so the runner adds no argument-parser
//! crate to the build; the interface is fixed by the `make bench` harness.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Printed with `--help` and after a usage error.
pub const USAGE: &str = "\
usage: apache-ballista-tpch --data DIR [--queries 1,3,18] [--query-dir DIR] [--iterations N]
                            [--partitions P] [--executors E] [--slots S] [--timeout-secs T]
                            --out OUTDIR
       apache-ballista-tpch scheduler
       apache-ballista-tpch executor --scheduler-port PORT --port PORT --grpc-port PORT
                            --slots S --work-dir DIR

  --data DIR         TPC-H Parquet, one directory per table (DIR/lineitem/*.parquet, ...)
  --queries LIST     comma-separated query numbers (default: 1..22)
  --query-dir DIR    directory of q<N>.sql files (default: /work/shared/tpch/queries)
  --iterations N     timed runs per query, after one warm-up run (default: 3)
  --partitions P     DataFusion target_partitions (default: 2)
  --executors E      number of executor processes (default: 2)
  --slots S          concurrent tasks per executor (default: 1)
  --timeout-secs T   give up on one run of a query after T seconds (default: 900)
  --out OUTDIR       where result.json and q<N>.arrow are written";

/// Options of the benchmark run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Root of the TPC-H Parquet data.
    pub data: PathBuf,
    /// Query numbers, in the order they run.
    pub queries: Vec<u32>,
    /// Directory holding `q<N>.sql`.
    pub query_dir: PathBuf,
    /// Timed runs per query.
    pub iterations: usize,
    /// DataFusion `target_partitions`.
    pub partitions: usize,
    /// Executor processes.
    pub executors: usize,
    /// Task slots (Apache Ballista "vcores") per executor.
    pub slots: usize,
    /// Per-run timeout in seconds.
    pub timeout_secs: u64,
    /// Output directory.
    pub out: PathBuf,
}

/// Options of the `executor` subcommand.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's gRPC port on 127.0.0.1.
    pub scheduler_port: u16,
    /// Arrow Flight port of this executor.
    pub port: u16,
    /// gRPC port of this executor (push-staged task launches).
    pub grpc_port: u16,
    /// Concurrent task slots.
    pub slots: usize,
    /// Directory for shuffle files.
    pub work_dir: PathBuf,
}

/// What the process was asked to do.
#[derive(Debug)]
pub enum Command {
    /// Print usage.
    Help,
    /// Run the benchmark (the default role).
    Run(RunOptions),
    /// Be the scheduler process.
    Scheduler,
    /// Be one executor process.
    Executor(ExecutorOptions),
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command> {
    match args.first().map(String::as_str) {
        Some("scheduler") => {
            if args.len() > 1 {
                return Err(Error::new(format!(
                    "`scheduler` takes no arguments, got {:?}",
                    &args[1..]
                )));
            }
            Ok(Command::Scheduler)
        }
        Some("executor") => parse_executor(&args[1..]).map(Command::Executor),
        _ if args.iter().any(|a| a == "--help" || a == "-h") => Ok(Command::Help),
        _ => parse_run(args).map(Command::Run),
    }
}

/// Splits `--flag value` pairs, rejecting unknown flags and missing values.
fn pairs<'a>(args: &'a [String], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (flag.as_str(), None),
        };
        if !known.contains(&name) {
            return Err(Error::new(format!("unknown argument `{flag}`")));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| Error::new(format!("`{name}` needs a value")))?,
        };
        out.push((name, value));
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::new(format!("`{flag}` expects a number, got `{value}`")))
}

fn positive(flag: &str, value: &str) -> Result<usize> {
    let n: usize = number(flag, value)?;
    if n == 0 {
        return Err(Error::new(format!("`{flag}` must be at least 1")));
    }
    Ok(n)
}

fn parse_run(args: &[String]) -> Result<RunOptions> {
    let known = [
        "--data",
        "--queries",
        "--query-dir",
        "--iterations",
        "--partitions",
        "--executors",
        "--slots",
        "--timeout-secs",
        "--out",
    ];
    let mut data = None;
    let mut out = None;
    let mut opts = RunOptions {
        data: PathBuf::new(),
        queries: (1..=22).collect(),
        query_dir: PathBuf::from("/work/shared/tpch/queries"),
        iterations: 3,
        partitions: 2,
        executors: 2,
        slots: 1,
        timeout_secs: 900,
        out: PathBuf::new(),
    };
    for (flag, value) in pairs(args, &known)? {
        match flag {
            "--data" => data = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--query-dir" => opts.query_dir = PathBuf::from(value),
            "--queries" => {
                opts.queries = value
                    .split(',')
                    .map(str::trim)
                    .filter(|q| !q.is_empty())
                    .map(|q| {
                        let q = q.trim_start_matches(['q', 'Q']);
                        number::<u32>("--queries", q)
                    })
                    .collect::<Result<_>>()?;
                if opts.queries.is_empty() {
                    return Err(Error::new("`--queries` names no query"));
                }
            }
            "--iterations" => opts.iterations = number("--iterations", value)?,
            "--partitions" => opts.partitions = positive("--partitions", value)?,
            "--executors" => opts.executors = positive("--executors", value)?,
            "--slots" => opts.slots = positive("--slots", value)?,
            "--timeout-secs" => opts.timeout_secs = positive("--timeout-secs", value)? as u64,
            _ => unreachable!("pairs() only returns known flags"),
        }
    }
    opts.data = data.ok_or_else(|| Error::new("`--data DIR` is required"))?;
    opts.out = out.ok_or_else(|| Error::new("`--out OUTDIR` is required"))?;
    Ok(opts)
}

fn parse_executor(args: &[String]) -> Result<ExecutorOptions> {
    let known = [
        "--scheduler-port",
        "--port",
        "--grpc-port",
        "--slots",
        "--work-dir",
    ];
    let (mut scheduler_port, mut port, mut grpc_port, mut slots, mut work_dir) =
        (None, None, None, None, None);
    for (flag, value) in pairs(args, &known)? {
        match flag {
            "--scheduler-port" => scheduler_port = Some(number(flag, value)?),
            "--port" => port = Some(number(flag, value)?),
            "--grpc-port" => grpc_port = Some(number(flag, value)?),
            "--slots" => slots = Some(positive(flag, value)?),
            "--work-dir" => work_dir = Some(PathBuf::from(value)),
            _ => unreachable!("pairs() only returns known flags"),
        }
    }
    let missing = |f: &str| Error::new(format!("executor: `{f}` is required"));
    Ok(ExecutorOptions {
        scheduler_port: scheduler_port.ok_or_else(|| missing("--scheduler-port"))?,
        port: port.ok_or_else(|| missing("--port"))?,
        grpc_port: grpc_port.ok_or_else(|| missing("--grpc-port"))?,
        slots: slots.ok_or_else(|| missing("--slots"))?,
        work_dir: work_dir.ok_or_else(|| missing("--work-dir"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_harness_command_line() {
        let cmd = parse(&args(
            "--data /d --queries 1,3,18 --query-dir /q --iterations 5 --partitions 16 \
             --executors 3 --slots 2 --out /o",
        ))
        .unwrap();
        let Command::Run(o) = cmd else {
            panic!("expected a run, got {cmd:?}")
        };
        assert_eq!(o.queries, vec![1, 3, 18]);
        assert_eq!(
            (o.iterations, o.partitions, o.executors, o.slots),
            (5, 16, 3, 2)
        );
        assert_eq!(o.data, PathBuf::from("/d"));
        assert_eq!(o.out, PathBuf::from("/o"));
    }

    #[test]
    fn rejects_unknown_flags_and_missing_values() {
        assert!(parse(&args("--data /d --out /o --bogus 1")).is_err());
        assert!(parse(&args("--data /d --out")).is_err());
        assert!(parse(&args("--out /o")).is_err());
        assert!(parse(&args("--data /d --out /o --slots 0")).is_err());
    }
}
