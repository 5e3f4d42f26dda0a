//! Command line arguments (clap derive) and their validation.
//!
//! Values are checked while parsing (ports, sizes, URLs, scale factors), so a
//! bad flag fails before anything starts, with clap's usage message.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::format::OutputFormat;
use crate::shell::ShellInput;

/// `ballista`: run a Ballista cluster and SQL on it.
#[derive(Debug, Parser)]
#[command(
    name = "ballista",
    version,
    about = "Ballista: distributed SQL on Apache Arrow",
    long_about = "Ballista: distributed SQL on Apache Arrow.\n\n\
                  Without a subcommand, starts an embedded cluster and a SQL shell \
                  (the `standalone` subcommand).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The subcommand; `standalone` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `standalone`, accepted without the subcommand name.
    #[command(flatten)]
    pub standalone: StandaloneArgs,
}

impl Cli {
    /// The command to run: the subcommand, or `standalone` with the
    /// top-level flags.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Standalone(self.standalone))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a scheduler and executors in this process, then run SQL on them (the default)
    Standalone(StandaloneArgs),
    /// Run a scheduler
    Scheduler(SchedulerArgs),
    /// Run an executor that registers with a scheduler
    Executor(ExecutorArgs),
    /// Run SQL on a running cluster
    Sql(SqlArgs),
    /// Generate data sets as Parquet
    #[command(subcommand)]
    Gen(GenCommand),
    /// Ballista clusters on Kubernetes: create-cluster, status, scale, run,
    /// delete-cluster, render (runs the `ballista-k8s` program)
    K8s(K8sArgs),
}

/// `ballista k8s ...`: handed whole to the `ballista-k8s` program, which
/// defines and checks these arguments (`ballista k8s --help`).
///
/// Kubernetes support is a program of its own, built in its own Cargo
/// workspace (`rust/ballista-k8s`), because its API types would change the
/// features of serde that DataFusion is compiled with.
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct K8sArgs {
    /// Arguments of `ballista-k8s`
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<std::ffi::OsString>,
}

/// Where SQL comes from and how results are printed.
#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// Run these SQL statements (separated by `;`) and exit
    #[arg(
        short = 'c',
        long = "command",
        value_name = "SQL",
        conflicts_with = "file"
    )]
    pub command: Option<String>,
    /// Run the SQL statements of this file and exit
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// How results are printed
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl QueryArgs {
    /// The shell's input: `-c`, `-f`, or the interactive prompt.
    pub fn input(&self) -> ShellInput {
        match (&self.command, &self.file) {
            (Some(sql), _) => ShellInput::Command(sql.clone()),
            (None, Some(path)) => ShellInput::File(path.clone()),
            (None, None) => ShellInput::Interactive,
        }
    }
}

/// `ballista standalone`.
#[derive(Debug, Clone, Args)]
pub struct StandaloneArgs {
    /// Number of executors to start
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub executors: u32,
    /// Task slots per executor [default: number of CPU cores]
    #[arg(long, value_name = "N")]
    pub slots: Option<NonZeroUsize>,
    /// SQL input and output format
    #[command(flatten)]
    pub query: QueryArgs,
}

/// `ballista scheduler`.
///
/// Every flag can also be set by the environment variable named in its help
/// (`BALLISTA_*`; a flag wins over the variable): that is how the container
/// image is configured (`docs/kubernetes.md`).
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// Address to listen on
    #[arg(long, value_name = "IP", env = "BALLISTA_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free port (printed as `listening on IP:PORT`)
    #[arg(long, env = "BALLISTA_PORT", default_value_t = 50050)]
    pub port: u16,
    /// An executor silent this long (no heartbeat; executors beat every
    /// second) is lost and its work is rescheduled, e.g. `5s`, `1500ms`
    #[arg(long, value_name = "DURATION", env = "BALLISTA_EXECUTOR_TIMEOUT", default_value = "5s", value_parser = parse_executor_timeout)]
    pub executor_timeout: Duration,
    /// Queued and running jobs fail once no executor has been registered for
    /// this long, or none of those registered can run one of their stages
    /// (capabilities), e.g. `30s`, `2m`
    #[arg(long, value_name = "DURATION", env = "BALLISTA_NO_EXECUTOR_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub no_executor_timeout: Duration,
    /// Compression of shuffle files: `none` suits executors on one host or
    /// a network faster than about 1 GB/s; `lz4` or `zstd` slower links
    #[arg(long, value_enum, value_name = "CODEC", env = "BALLISTA_SHUFFLE_COMPRESSION", default_value_t = ShuffleCodec::None)]
    pub shuffle_compression: ShuffleCodec,
    /// Runtime filters across stages: a join's small build side filters the
    /// scans of earlier stages on its probe side (`on` or `off`)
    #[arg(long, value_name = "ON|OFF", env = "BALLISTA_RUNTIME_FILTERS", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub runtime_filters: bool,
    /// Adaptive joins: a partitioned join whose build side turns out small
    /// once it has run becomes a broadcast join (`on` or `off`)
    #[arg(long, value_name = "ON|OFF", env = "BALLISTA_ADAPTIVE_JOINS", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub adaptive_joins: bool,
}

/// A shuffle file codec (`ShuffleCompression` in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShuffleCodec {
    /// No compression
    None,
    /// LZ4 frame
    Lz4,
    /// Zstandard
    Zstd,
}

impl ShuffleCodec {
    /// The spec's enum value.
    pub fn to_proto(self) -> ballista_proto::v1::ShuffleCompression {
        use ballista_proto::v1::ShuffleCompression;
        match self {
            Self::None => ShuffleCompression::None,
            Self::Lz4 => ShuffleCompression::Unspecified,
            Self::Zstd => ShuffleCompression::Zstd,
        }
    }
}

impl SchedulerArgs {
    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}

/// Default scheduler URL of `executor` and `sql`: the default `scheduler`.
pub const DEFAULT_SCHEDULER_URL: &str = "grpc://127.0.0.1:50050";

/// `ballista executor`.
///
/// Every flag can also be set by the environment variable named in its help
/// (`BALLISTA_*`; a flag wins over the variable).
#[derive(Debug, Clone, Args)]
pub struct ExecutorArgs {
    /// Scheduler to register with
    #[arg(long, value_name = "URL", env = "BALLISTA_SCHEDULER_URL", default_value = DEFAULT_SCHEDULER_URL, value_parser = parse_scheduler_url)]
    pub scheduler: String,
    /// Address to listen on
    #[arg(long, value_name = "IP", env = "BALLISTA_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Host name or IP that the scheduler, other executors and clients use
    /// to reach this executor [default: the --bind address]; needed when
    /// binding 0.0.0.0 (on Kubernetes: the pod IP)
    #[arg(long, value_name = "HOST", env = "BALLISTA_ADVERTISE_HOST")]
    pub advertise_host: Option<String>,
    /// Port to listen on; 0 picks a free port (printed as `listening on IP:PORT`)
    #[arg(long, env = "BALLISTA_PORT", default_value_t = 0)]
    pub port: u16,
    /// Task slots [default: number of CPU cores]
    #[arg(long, value_name = "N", env = "BALLISTA_SLOTS")]
    pub slots: Option<NonZeroUsize>,
    /// Directory for shuffle files [default: a new directory under the system temp dir]
    #[arg(long, value_name = "DIR", env = "BALLISTA_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Memory for query execution, e.g. `512MiB`, `1GiB`, `2GB` [default: unlimited]
    #[arg(long, value_name = "SIZE", env = "BALLISTA_MEMORY_LIMIT", value_parser = parse_byte_size)]
    pub memory_limit: Option<u64>,
    /// Interpreter of the Python UDF workers (needs pyarrow and cloudpickle) [default: $BALLISTA_PYTHON, else python3]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// How tasks read local table files: `mmap` maps them (no copy; a file
    /// truncated in place while read faults the executor), `pread` copies
    /// every range into a new buffer
    #[arg(long, value_name = "HOW", env = "BALLISTA_LOCAL_READS", value_enum, default_value_t = LocalReadsArg::Mmap)]
    pub local_reads: LocalReadsArg,
}

/// `--local-reads`: the executor's [`LocalReads`](ballista_executor::LocalReads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LocalReadsArg {
    /// Byte ranges of 64 KiB or more come from memory maps
    Mmap,
    /// Every byte range is copied with pread(2)
    Pread,
}

impl LocalReadsArg {
    /// The executor's setting.
    pub fn to_config(self) -> ballista_executor::LocalReads {
        match self {
            Self::Mmap => ballista_executor::LocalReads::Mmap,
            Self::Pread => ballista_executor::LocalReads::Pread,
        }
    }
}

impl ExecutorArgs {
    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// Task slots: `--slots`, or the number of CPU cores.
    pub fn slots(&self) -> NonZeroUsize {
        self.slots.unwrap_or_else(default_slots)
    }
}

/// The number of CPU cores (1 if unknown): the default task slots.
pub fn default_slots() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// `ballista sql`.
#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// Scheduler to send queries to
    #[arg(long, value_name = "URL", env = "BALLISTA_SCHEDULER_URL", default_value = DEFAULT_SCHEDULER_URL, value_parser = parse_scheduler_url)]
    pub scheduler: String,
    /// SQL input and output format
    #[command(flatten)]
    pub query: QueryArgs,
}

/// `ballista gen`: the data generators.
#[derive(Debug, Clone, Subcommand)]
pub enum GenCommand {
    /// TPC-H tables: <OUT>/<table>/part-<i>.parquet
    Tpch(TpchArgs),
    /// Synthetic NYC yellow-taxi trips (TLC schema): <OUT>/part-<i>.parquet
    Nyctaxi(NyctaxiArgs),
}

/// `ballista gen tpch`.
#[derive(Debug, Clone, Args)]
pub struct TpchArgs {
    /// Scale factor (1 is about 1 GB of CSV; 0.01 is tiny)
    #[arg(long, value_name = "N", value_parser = parse_scale_factor)]
    pub sf: f64,
    /// Output directory (created; left alone if it already holds this data set)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Files per large table
    #[arg(long, value_name = "P", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub parts: u32,
}

/// `ballista gen nyctaxi`.
#[derive(Debug, Clone, Args)]
pub struct NyctaxiArgs {
    /// Number of trips
    #[arg(long, value_name = "N")]
    pub rows: u64,
    /// Output directory (created; left alone if it already holds this data set)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of Parquet files
    #[arg(long, value_name = "F", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub files: u32,
    /// Random seed: the same seed gives the same trips
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
}

/// Parses a positive, finite TPC-H scale factor.
pub fn parse_scale_factor(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(sf) if sf.is_finite() && sf > 0.0 => Ok(sf),
        _ => Err(format!(
            "`{text}` is not a positive number (e.g. 0.01, 1, 10)"
        )),
    }
}

/// Parses a duration: a number with a unit, `ms`, `s`, `m` or `h`
/// (`1.5s`, `500ms`, `2m`); a bare number is seconds. Zero is rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let invalid = || format!("`{text}` is not a duration (e.g. 500ms, 5s, 2m)");
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a usable duration: it must be positive"))
}

/// `on` or `off` (also `true`/`false`), as a flag's value.
pub fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err(format!("`{text}` is neither `on` nor `off`")),
    }
}

/// Parses `--executor-timeout`: a duration of at least two of the heartbeat
/// intervals the scheduler asks of executors, or executors whose heartbeat
/// is merely late would keep being dropped.
pub fn parse_executor_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    let heartbeat = ballista_scheduler::SchedulerConfig::default().heartbeat_interval;
    if d < 2 * heartbeat {
        return Err(format!(
            "`{text}` is too short: executors heartbeat every {heartbeat:?}, so the timeout \
             must be at least {:?}",
            2 * heartbeat
        ));
    }
    Ok(d)
}

/// Parses a scheduler URL `scheme://host:port`, scheme one of grpc, grpcs,
/// http, https.
pub fn parse_scheduler_url(text: &str) -> Result<String, String> {
    let invalid = || {
        format!(
            "`{text}` is not a scheduler URL: expected scheme://host:port with scheme grpc, \
             grpcs, http or https (e.g. {DEFAULT_SCHEDULER_URL})"
        )
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(invalid)?;
    if !matches!(scheme, "grpc" | "grpcs" | "http" | "https") {
        return Err(invalid());
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = authority.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    Ok(text.to_string())
}

/// Parses a byte size: a number with an optional unit, binary (`KiB`,
/// `MiB`, `GiB`, `TiB`) or decimal (`KB`, `MB`, `GB`, `TB`, `B`); case of the
/// unit does not matter. Zero is rejected.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 512MiB, 1GiB, 2GB)"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit: use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB \
                 (e.g. 1GiB)"
            ));
        }
    };
    let bytes = value * multiplier as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a usable memory size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("ballista").chain(args.iter().copied()))
            .map(Cli::into_command)
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_standalone() {
        let Command::Standalone(args) = parse(&[]).unwrap() else {
            panic!("expected standalone")
        };
        assert_eq!(args.executors, 2);
        assert_eq!(args.query.input(), ShellInput::Interactive);
        assert_eq!(args.query.format, OutputFormat::Table);

        let Command::Standalone(args) =
            parse(&["-c", "select 1", "--executors", "3", "--format", "csv"]).unwrap()
        else {
            panic!("expected standalone")
        };
        assert_eq!(args.executors, 3);
        assert_eq!(args.query.input(), ShellInput::Command("select 1".into()));
        assert_eq!(args.query.format, OutputFormat::Csv);
    }

    #[test]
    fn subcommands_parse_their_flags() {
        let Command::Scheduler(args) = parse(&["scheduler", "--port", "0"]).unwrap() else {
            panic!("expected scheduler")
        };
        assert_eq!(args.addr().to_string(), "127.0.0.1:0");
        // The flags' defaults are the scheduler's own.
        let defaults = ballista_scheduler::SchedulerConfig::default();
        assert_eq!(args.executor_timeout, defaults.executor_timeout);
        assert_eq!(args.no_executor_timeout, defaults.no_executor_timeout);
        assert_eq!(
            args.shuffle_compression.to_proto(),
            defaults.shuffle_compression
        );
        assert_eq!(args.runtime_filters, defaults.runtime_filters);
        assert_eq!(args.adaptive_joins, defaults.adaptive_joins);

        let Command::Scheduler(args) = parse(&[
            "scheduler",
            "--executor-timeout",
            "2500ms",
            "--no-executor-timeout",
            "3s",
            "--shuffle-compression",
            "zstd",
            "--runtime-filters",
            "off",
            "--adaptive-joins",
            "off",
        ])
        .unwrap() else {
            panic!("expected scheduler")
        };
        assert!(!args.runtime_filters);
        assert!(!args.adaptive_joins);
        assert!(parse(&["scheduler", "--runtime-filters", "maybe"]).is_err());
        assert_eq!(args.executor_timeout, Duration::from_millis(2500));
        assert_eq!(args.no_executor_timeout, Duration::from_secs(3));
        assert_eq!(args.shuffle_compression, ShuffleCodec::Zstd);
        assert!(parse(&["scheduler", "--shuffle-compression", "snappy"]).is_err());

        let Command::Executor(args) = parse(&[
            "executor",
            "--scheduler",
            "grpc://localhost:50050",
            "--slots",
            "4",
            "--memory-limit",
            "1GiB",
            "--work-dir",
            "/tmp/x",
        ])
        .unwrap() else {
            panic!("expected executor")
        };
        assert_eq!(args.slots().get(), 4);
        assert_eq!(args.memory_limit, Some(1 << 30));
        assert_eq!(args.work_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(args.addr().to_string(), "127.0.0.1:0");
        assert_eq!(args.local_reads, LocalReadsArg::Mmap);
        let Command::Executor(args) = parse(&["executor", "--local-reads", "pread"]).unwrap()
        else {
            panic!("expected executor")
        };
        assert_eq!(args.local_reads, LocalReadsArg::Pread);
        assert!(parse(&["executor", "--local-reads", "direct"]).is_err());

        let Command::Sql(args) = parse(&["sql", "-f", "q.sql"]).unwrap() else {
            panic!("expected sql")
        };
        assert_eq!(args.scheduler, DEFAULT_SCHEDULER_URL);
        assert_eq!(args.query.input(), ShellInput::File("q.sql".into()));

        let Command::Gen(GenCommand::Nyctaxi(args)) =
            parse(&["gen", "nyctaxi", "--rows", "10", "--out", "d"]).unwrap()
        else {
            panic!("expected gen nyctaxi")
        };
        assert_eq!((args.rows, args.files, args.seed), (10, 1, 42));
        let Command::Gen(GenCommand::Tpch(args)) =
            parse(&["gen", "tpch", "--sf", "0.01", "--out", "d", "--parts", "2"]).unwrap()
        else {
            panic!("expected gen tpch")
        };
        assert_eq!((args.sf, args.parts), (0.01, 2));
    }

    #[test]
    fn k8s_arguments_are_passed_on_whole() {
        for args in [
            &["k8s", "status", "--name", "x", "-n", "ns"][..],
            &["k8s", "--help"],
            &["k8s", "run", "--sql", "SELECT 1", "--timeout", "1m"],
        ] {
            let Command::K8s(k8s) = parse(args).unwrap() else {
                panic!("expected k8s")
            };
            assert_eq!(k8s.args, &args[1..], "{args:?}");
        }
    }

    #[test]
    fn bad_flags_are_rejected_with_the_reason() {
        let cases: [(&[&str], &str); 10] = [
            (&["--executors", "0"], "0 is not in 1.."),
            (&["-c", "select 1", "-f", "x.sql"], "cannot be used with"),
            (&["--format", "xml"], "possible values: table, csv, json"),
            (&["scheduler", "--port", "70000"], "70000"),
            (
                &["scheduler", "--executor-timeout", "1s"],
                "must be at least 2s",
            ),
            (
                &["scheduler", "--no-executor-timeout", "soon"],
                "not a duration",
            ),
            (
                &["executor", "--scheduler", "localhost:50050"],
                "not a scheduler URL",
            ),
            (&["executor", "--memory-limit", "1 parsec"], "unknown unit"),
            (
                &["gen", "tpch", "--sf", "0", "--out", "d"],
                "not a positive number",
            ),
            (&["gen", "nyctaxi", "--out", "d"], "--rows"),
        ];
        for (args, expected) in cases {
            let err = parse(args).unwrap_err().to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_byte_size("512mib"), Ok(512 << 20));
        assert_eq!(parse_byte_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_byte_size("1.5 KiB"), Ok(1536));
        assert_eq!(parse_byte_size("4096"), Ok(4096));
        assert!(parse_byte_size("0").is_err());
        assert!(parse_byte_size("GiB").is_err());
        assert!(parse_byte_size("1..2GiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "0s", "", "s", "5 days", "-1s", "1e400"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_executor_timeout("1999ms").is_err());
        assert_eq!(parse_executor_timeout("2s"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn scheduler_urls() {
        assert!(parse_scheduler_url("grpc://127.0.0.1:50050").is_ok());
        assert!(parse_scheduler_url("http://scheduler.svc:50050/").is_ok());
        assert!(parse_scheduler_url("grpc://[::1]:50050").is_ok());
        for bad in [
            "127.0.0.1:50050",
            "ftp://h:1",
            "grpc://h",
            "grpc://:1",
            "grpc://h:x",
        ] {
            assert!(parse_scheduler_url(bad).is_err(), "{bad}");
        }
    }
}
