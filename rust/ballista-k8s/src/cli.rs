//! The command line of `ballista k8s` (clap derive) and what each command
//! does with [`K8s`].

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::{K8s, Waiting};
use crate::error::{K8sError, Result};
use crate::manifests::{
    ClusterSpec, Cpu, DEFAULT_IMAGE, Memory, RunSource, RunSpec, executor_name, scheduler_name,
    scheduler_url,
};
use crate::yaml;

/// `ballista k8s`: Ballista clusters on Kubernetes.
#[derive(Debug, Parser)]
#[command(
    name = "ballista k8s",
    bin_name = "ballista k8s",
    version,
    about = "Ballista clusters on Kubernetes",
    long_about = "Ballista clusters on Kubernetes: a scheduler Deployment and Service and an \
                  executor Deployment per cluster, query Jobs run against it.\n\n\
                  Uses the current kubeconfig context (KUBECONFIG or ~/.kube/config), or the \
                  in-cluster service account. See docs/kubernetes.md."
)]
pub struct K8sCli {
    /// The command.
    #[command(subcommand)]
    pub command: K8sCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Create a cluster: scheduler Deployment + Service, executor Deployment
    CreateCluster(CreateArgs),
    /// Show a cluster's scheduler, executors, pods and jobs
    Status(TargetArgs),
    /// Change the number of executors
    Scale(ScaleArgs),
    /// Run SQL (or your own application) as a Job against the cluster and follow its log
    Run(RunArgs),
    /// Delete a cluster and everything it owns (executors, service, jobs)
    DeleteCluster(DeleteArgs),
    /// Print the manifests of a cluster (and of a run) as YAML, without applying them
    Render(RenderArgs),
}

/// Which cluster, where.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Cluster name: objects are NAME-scheduler and NAME-executor
    #[arg(
        long,
        value_name = "NAME",
        env = "BALLISTA_K8S_CLUSTER",
        default_value = "ballista"
    )]
    pub name: String,
    /// Namespace [default: the kubeconfig context's namespace]
    #[arg(short = 'n', long, value_name = "NS", env = "BALLISTA_K8S_NAMESPACE")]
    pub namespace: Option<String>,
}

/// The shape of a cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Number of executors
    #[arg(long, value_name = "K", default_value_t = 2, value_parser = clap::value_parser!(i32).range(0..=10_000))]
    pub executors: i32,
    /// Container image with the `ballista` program (see Dockerfile)
    #[arg(long, value_name = "IMAGE", env = "BALLISTA_IMAGE", default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// CPU of each executor (request = limit), e.g. 2, 500m; sets its task slots
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<Cpu>,
    /// Memory of each executor (request = limit), e.g. 4GiB; 3/4 of it is the query memory pool
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<Memory>,
    /// Pod template (YAML) the executor pods are built on: volumes, node selectors, tolerations...
    #[arg(long, value_name = "FILE")]
    pub executor_template: Option<PathBuf>,
    /// Pod template (YAML) the scheduler pod is built on
    #[arg(long, value_name = "FILE")]
    pub scheduler_template: Option<PathBuf>,
}

impl ClusterArgs {
    /// The cluster these flags describe, templates read.
    pub fn spec(&self, name: &str, namespace: Option<String>) -> Result<ClusterSpec> {
        let mut spec = ClusterSpec::new(name, self.executors);
        spec.namespace = namespace;
        spec.image.clone_from(&self.image);
        spec.cpu.clone_from(&self.cpu);
        spec.memory = self.memory;
        spec.executor_template = self
            .executor_template
            .as_deref()
            .map(yaml::read_pod_template)
            .transpose()?;
        spec.scheduler_template = self
            .scheduler_template
            .as_deref()
            .map(yaml::read_pod_template)
            .transpose()?;
        Ok(spec)
    }
}

/// `ballista k8s create-cluster`.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Which cluster
    #[command(flatten)]
    pub target: TargetArgs,
    /// Its shape
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `ballista k8s scale`.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// Which cluster
    #[command(flatten)]
    pub target: TargetArgs,
    /// The new number of executors
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(i32).range(0..=10_000))]
    pub executors: i32,
}

/// What a run runs: exactly one of SQL, a SQL file or a Job template.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct QueryArgs {
    /// SQL statements (separated by `;`), run by `ballista sql` in the image
    #[arg(long, value_name = "SQL")]
    pub sql: Option<String>,
    /// A file of SQL statements, run by `ballista sql` in the image;
    /// repeat it to run several files in order
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Your own Job manifest (YAML), e.g. an application on a Ballista client;
    /// its containers get BALLISTA_SCHEDULER_URL
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
}

impl QueryArgs {
    /// Reads the file or template named.
    pub fn source(&self) -> Result<RunSource> {
        if let Some(sql) = &self.sql {
            return Ok(RunSource::Sql(sql.clone()));
        }
        if !self.file.is_empty() {
            let mut sql = String::new();
            for path in &self.file {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| K8sError::io(format!("cannot read {}", path.display()), e))?;
                sql.push_str(text.trim_end());
                sql.push('\n');
            }
            return Ok(RunSource::Sql(sql));
        }
        match &self.template {
            Some(path) => Ok(RunSource::Template(Box::new(yaml::read_job(path)?))),
            None => Err(K8sError::InvalidArgument(
                "give --sql, -f FILE or --template FILE".into(),
            )),
        }
    }
}

/// `ballista k8s run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which cluster
    #[command(flatten)]
    pub target: TargetArgs,
    /// What to run
    #[command(flatten)]
    pub query: QueryArgs,
    /// Image of the `ballista sql` client (and of template containers naming none)
    #[arg(long, value_name = "IMAGE", env = "BALLISTA_IMAGE", default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// Print the Job's name and return instead of following its log
    #[arg(long)]
    pub detach: bool,
    /// Longest wait for the Job's pod to start, and then to finish, e.g. 5m
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// `ballista k8s delete-cluster`.
#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// Which cluster
    #[command(flatten)]
    pub target: TargetArgs,
    /// Return once deletion is accepted, without waiting for the pods to stop
    #[arg(long)]
    pub no_wait: bool,
    /// Longest wait for the deletion to finish, e.g. 2m
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// `ballista k8s render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Cluster name
    #[arg(
        long,
        value_name = "NAME",
        env = "BALLISTA_K8S_CLUSTER",
        default_value = "ballista"
    )]
    pub name: String,
    /// Namespace written into the manifests [default: none, as `kubectl apply -n NS` expects]
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Its shape
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Also print the Job of a run: SQL
    #[arg(long, value_name = "SQL", conflicts_with_all = ["file", "template"])]
    pub sql: Option<String>,
    /// Also print the Job of a run: SQL files
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "template"
    )]
    pub file: Vec<PathBuf>,
    /// Also print the Job of a run: a Job template
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
}

impl RenderArgs {
    /// The YAML `render` prints.
    pub fn render(&self) -> Result<String> {
        let spec = self.cluster.spec(&self.name, self.namespace.clone())?;
        let manifests = spec.manifests()?;
        let query = QueryArgs {
            sql: self.sql.clone(),
            file: self.file.clone(),
            template: self.template.clone(),
        };
        let job = if query.sql.is_some() || !query.file.is_empty() || query.template.is_some() {
            let run = RunSpec {
                cluster: self.name.clone(),
                namespace: self.namespace.clone(),
                image: self.cluster.image.clone(),
                source: query.source()?,
            };
            Some(run.job()?)
        } else {
            None
        };
        yaml::render(&manifests, job.as_ref())
    }
}

/// Parses a duration: a number with `ms`, `s`, `m` or `h` (a bare number is
/// seconds); zero is rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let invalid = || format!("`{text}` is not a duration (e.g. 30s, 5m)");
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(invalid)
}

impl K8sCommand {
    /// The namespace flag of a command that talks to the API server.
    pub fn namespace(&self) -> Option<String> {
        match self {
            Self::CreateCluster(a) => a.target.namespace.clone(),
            Self::Status(a) => a.namespace.clone(),
            Self::Scale(a) => a.target.namespace.clone(),
            Self::Run(a) => a.target.namespace.clone(),
            Self::DeleteCluster(a) => a.target.namespace.clone(),
            Self::Render(a) => a.namespace.clone(),
        }
    }
}

/// Runs one parsed command line: `render` locally, the others against the
/// API server of the current kubeconfig context.
pub fn run(cli: K8sCli) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if let K8sCommand::Render(args) = &cli.command {
        let text = args.render()?;
        return stdout
            .write_all(text.as_bytes())
            .map_err(|e| K8sError::io("cannot write to stdout", e));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| K8sError::io("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let k8s = K8s::connect(cli.command.namespace()).await?;
        execute(cli.command, &k8s, &mut stdout, Waiting::default()).await
    })
}

/// Runs `command` against `k8s`, writing what it reports to `out`.
/// `waiting` paces the polls (tests make it fast); the `--timeout` flags
/// bound them.
pub async fn execute(
    command: K8sCommand,
    k8s: &K8s,
    out: &mut dyn Write,
    waiting: Waiting,
) -> Result<()> {
    let write_err = |e| K8sError::io("cannot write to stdout", e);
    match command {
        K8sCommand::CreateCluster(args) => {
            let name = &args.target.name;
            let spec = args.cluster.spec(name, Some(k8s.namespace().to_string()))?;
            k8s.create_cluster(&spec).await?;
            writeln!(
                out,
                "created cluster {name} in namespace {}: deployment {}, service {} ({}), \
                 deployment {} ({} executors)\nnext: ballista k8s status --name {name}",
                k8s.namespace(),
                scheduler_name(name),
                scheduler_name(name),
                scheduler_url(name),
                executor_name(name),
                args.cluster.executors
            )
            .map_err(write_err)
        }
        K8sCommand::Status(args) => {
            let status = k8s.status(&args.name).await?;
            write!(out, "{status}").map_err(write_err)
        }
        K8sCommand::Scale(args) => {
            k8s.scale(&args.target.name, args.executors).await?;
            writeln!(
                out,
                "cluster {} scaled to {} executors",
                args.target.name, args.executors
            )
            .map_err(write_err)
        }
        K8sCommand::Run(args) => {
            let run = RunSpec {
                cluster: args.target.name.clone(),
                namespace: None,
                image: args.image.clone(),
                source: args.query.source()?,
            };
            let job = k8s.submit(&run).await?;
            if args.detach {
                return writeln!(out, "{job}").map_err(write_err);
            }
            eprintln!("job {job} created; following its log");
            let waiting = Waiting {
                timeout: args.timeout,
                ..waiting
            };
            k8s.follow(&job, out, waiting).await
        }
        K8sCommand::DeleteCluster(args) => {
            let waiting = (!args.no_wait).then_some(Waiting {
                timeout: args.timeout,
                ..waiting
            });
            k8s.delete_cluster(&args.target.name, waiting).await?;
            writeln!(out, "deleted cluster {}", args.target.name).map_err(write_err)
        }
        K8sCommand::Render(args) => {
            let text = args.render()?;
            out.write_all(text.as_bytes()).map_err(write_err)
        }
    }
}

/// Sends `tracing` logs to stderr, filtered by `RUST_LOG` (default `warn`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<K8sCommand, clap::Error> {
        K8sCli::try_parse_from(std::iter::once("ballista-k8s").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    #[test]
    fn the_definition_is_consistent() {
        K8sCli::command().debug_assert();
    }

    #[test]
    fn commands_parse_their_flags() {
        let K8sCommand::CreateCluster(args) = parse(&[
            "create-cluster",
            "--name",
            "nyctaxi",
            "--executors",
            "3",
            "--cpu",
            "2",
            "--memory",
            "4GiB",
        ])
        .unwrap() else {
            panic!("expected create-cluster")
        };
        assert_eq!(args.target.name, "nyctaxi");
        assert_eq!(args.cluster.executors, 3);
        assert_eq!(args.cluster.cpu.unwrap().slots, 2);
        assert_eq!(args.cluster.memory, Some(Memory(4 << 30)));
        let K8sCommand::Run(args) = parse(&["run", "--name", "x", "-f", "q.sql"]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(args.query.file, [PathBuf::from("q.sql")]);
        assert_eq!(args.timeout, Duration::from_secs(300));
    }

    #[test]
    fn bad_flags_are_rejected_with_the_reason() {
        let cases: [(&[&str], &str); 7] = [
            (
                &["run", "--name", "x"],
                "--sql <SQL>|--file <FILE>|--template",
            ),
            (&["run", "--sql", "s", "-f", "f"], "cannot be used with"),
            (&["scale", "--executors", "-1"], "-1"),
            (&["create-cluster", "--cpu", "lots"], "not a CPU amount"),
            (&["create-cluster", "--memory", "1KiB"], "at least 64MiB"),
            (&["delete-cluster", "--timeout", "soon"], "not a duration"),
            (&["destroy"], "unrecognized subcommand"),
        ];
        for (args, expected) in cases {
            let err = parse(args).unwrap_err().to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
