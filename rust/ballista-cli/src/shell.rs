//! The SQL shell: interactive (rustyline, history in `~/.ballista_history`)
//! or a script from `-c SQL` / `-f FILE`.
//!
//! Statements end with `;` and may span lines; semicolons inside quotes and
//! comments do not count. Interactively, a failed statement prints its error
//! and the shell goes on; a script stops at the first failure and the error
//! names the statement, so the process exits non-zero.
//!
//! The shell runs SQL only through [`SqlRunner`]; it knows nothing of
//! clusters.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::format::{OutputFormat, write_result};
use crate::progress::{Progress, SHOW_AFTER};
use crate::{CliError, Result, SqlRunner};

/// Where the shell's SQL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellInput {
    /// Read statements from the terminal until `\q` or end of input.
    Interactive,
    /// Run these statements (`-c SQL`) and exit.
    Command(String),
    /// Run the statements of this file (`-f FILE`) and exit.
    File(PathBuf),
}

/// Help printed by `\?`.
pub const HELP: &str = "\
Statements end with `;` and may span several lines.
  \\q   quit (Ctrl-D also quits; Ctrl-C clears the statement being typed)
  \\?   this help";

/// Runs the shell on `input`, printing results to stdout in `format`.
pub async fn run(runner: &dyn SqlRunner, input: ShellInput, format: OutputFormat) -> Result<()> {
    let mut stdout = std::io::stdout();
    match input {
        ShellInput::Interactive => interactive(runner, format).await,
        ShellInput::Command(sql) => run_script(runner, &sql, format, &mut stdout).await,
        ShellInput::File(path) => {
            let sql = std::fs::read_to_string(&path)
                .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))?;
            run_script(runner, &sql, format, &mut stdout).await
        }
    }
}

/// Runs every statement of `script` in order, printing each result to `out`;
/// stops at the first failure, whose error names the statement and its line.
pub async fn run_script(
    runner: &dyn SqlRunner,
    script: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<()> {
    for (index, statement) in split_statements(script).into_iter().enumerate() {
        execute(runner, &statement.sql, format, out)
            .await
            .map_err(|e| CliError::Statement {
                number: index + 1,
                line: statement.line,
                source: Box::new(e),
            })?;
    }
    Ok(())
}

/// Runs one statement and prints its result, with a progress bar on stderr
/// when it is a terminal and the statement takes a while.
pub async fn execute(
    runner: &dyn SqlRunner,
    sql: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let start = Instant::now();
    let progress = Progress::new(std::io::stderr().is_terminal());
    let result = {
        let callback = |done, total| progress.update(done, total);
        let mut run = std::pin::pin!(runner.run(sql, &callback));
        match tokio::time::timeout(SHOW_AFTER, &mut run).await {
            Ok(result) => result,
            Err(_) => {
                progress.show();
                run.await
            }
        }
    };
    progress.finish();
    let (schema, batches) = result?;
    write_result(out, format, &schema, &batches, start.elapsed())
}

/// Whether the shell should go on reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// The user asked to quit.
    Quit,
}

/// The interactive shell's state between lines: the statement being typed.
pub struct Session<'a> {
    runner: &'a dyn SqlRunner,
    format: OutputFormat,
    pending: String,
}

impl<'a> Session<'a> {
    /// A session running statements on `runner`, printing results in `format`.
    pub fn new(runner: &'a dyn SqlRunner, format: OutputFormat) -> Self {
        Self {
            runner,
            format,
            pending: String::new(),
        }
    }

    /// Whether a statement has been started but not ended with `;`.
    pub fn in_statement(&self) -> bool {
        !is_blank(&self.pending)
    }

    /// Forgets the statement being typed (Ctrl-C).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Handles one line of input: a meta command (`\q`, `\?`) if the whole
    /// line is one, otherwise SQL, running every statement the line
    /// completes. Results go to `out`; errors go to `err` and do not end the
    /// session.
    pub async fn feed_line(
        &mut self,
        line: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<Flow> {
        let write_error = |e| CliError::io("cannot write to the terminal", e);
        let trimmed = line.trim();
        if trimmed.starts_with('\\') {
            match trimmed {
                "\\q" => return Ok(Flow::Quit),
                "\\?" | "\\h" => writeln!(out, "{HELP}").map_err(write_error)?,
                other => writeln!(err, "unknown command {other}; \\? lists the commands")
                    .map_err(write_error)?,
            }
            return Ok(Flow::Continue);
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        let (complete, rest) = split_complete(&self.pending);
        self.pending = self.pending[rest..].to_string();
        for statement in complete {
            if let Err(e) = execute(self.runner, &statement.sql, self.format, out).await {
                writeln!(err, "error: {e}").map_err(write_error)?;
            }
        }
        Ok(Flow::Continue)
    }
}

/// The path of the shell's history file, `~/.ballista_history`.
pub fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".ballista_history"))
}

async fn interactive(runner: &dyn SqlRunner, format: OutputFormat) -> Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history = history_path();
    if let Some(path) = &history {
        // A missing history file is normal on first use.
        let _ = editor.load_history(path);
    }
    eprintln!("Ballista SQL shell. End statements with `;`; \\? for help, \\q to quit.");
    let mut session = Session::new(runner, format);
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    loop {
        let prompt = if session.in_statement() {
            "      -> "
        } else {
            "ballista> "
        };
        // Reading blocks: do it off the async runtime's worker threads, which
        // the embedded cluster shares.
        let (returned, line) = tokio::task::spawn_blocking(move || {
            let line = editor.readline(prompt);
            (editor, line)
        })
        .await
        .map_err(|e| CliError::io("line editor thread failed", std::io::Error::other(e)))?;
        editor = returned;
        match line {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if session.feed_line(&line, &mut stdout, &mut stderr).await? == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => session.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &history
        && let Err(e) = editor.save_history(path)
    {
        tracing::warn!("cannot save shell history to {}: {e}", path.display());
    }
    Ok(())
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text without the closing `;`, trimmed.
    pub sql: String,
    /// The line (from 1) where the statement's first code starts.
    pub line: usize,
}

/// Splits `script` into statements at semicolons outside quotes and
/// comments; a last statement without `;` counts too. Statements holding
/// only comments or blanks are dropped.
pub fn split_statements(script: &str) -> Vec<Statement> {
    let (mut statements, rest) = split_complete(script);
    if let Some(last) = statement(script, rest, script.len()) {
        statements.push(last);
    }
    statements
}

/// The statements of `text` ended by `;`, and the byte offset where the
/// unfinished remainder starts.
fn split_complete(text: &str) -> (Vec<Statement>, usize) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        SingleQuote,
        DoubleQuote,
        LineComment,
        BlockComment,
    }
    let bytes = text.as_bytes();
    let mut state = State::Code;
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Only ASCII bytes are compared, so multi-byte UTF-8 passes through.
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        match (state, bytes[i]) {
            (State::Code, b'\'') => state = State::SingleQuote,
            (State::Code, b'"') => state = State::DoubleQuote,
            (State::Code, b'-') if next == Some(b'-') => {
                state = State::LineComment;
                i += 1;
            }
            (State::Code, b'/') if next == Some(b'*') => {
                state = State::BlockComment;
                i += 1;
            }
            (State::Code, b';') => {
                statements.extend(statement(text, start, i));
                start = i + 1;
            }
            // A doubled quote inside a literal leaves and re-enters it.
            (State::SingleQuote, b'\'') | (State::DoubleQuote, b'"') => state = State::Code,
            (State::LineComment, b'\n') => state = State::Code,
            (State::BlockComment, b'*') if next == Some(b'/') => {
                state = State::Code;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (statements, start)
}

/// The statement in `text[start..end]`, unless it holds no code.
fn statement(text: &str, start: usize, end: usize) -> Option<Statement> {
    let sql = &text[start..end];
    let code_at = first_code(sql)?;
    let line = 1 + text[..start + code_at].matches('\n').count();
    Some(Statement {
        sql: sql.trim().to_string(),
        line,
    })
}

/// Whether `sql` holds nothing but blanks and comments.
fn is_blank(sql: &str) -> bool {
    first_code(sql).is_none()
}

/// Byte offset of the first character of `sql` that is neither blank nor
/// inside a comment.
fn first_code(sql: &str) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            _ => return Some(i),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use arrow::array::RecordBatch;
    use arrow::datatypes::SchemaRef;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// A real DataFusion session behind the shell.
    #[async_trait::async_trait]
    impl SqlRunner for SessionContext {
        async fn run(
            &self,
            sql: &str,
            progress: &(dyn Fn(u32, u32) + Send + Sync),
        ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
            let frame = self.sql(sql).await.map_err(CliError::query)?;
            let schema = frame.schema().inner().clone();
            let batches = frame.collect().await.map_err(CliError::query)?;
            progress(1, 1);
            Ok((schema, batches))
        }
    }

    fn sqls(script: &str) -> Vec<(String, usize)> {
        split_statements(script)
            .into_iter()
            .map(|s| (s.sql, s.line))
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let script = "select 1;\n\
                      select 'a;b', \"c;d\" from t; -- trailing; comment\n\
                      /* block; comment */ select 'it''s;' ;\n\
                      select 2";
        assert_eq!(
            sqls(script),
            vec![
                ("select 1".to_string(), 1),
                ("select 'a;b', \"c;d\" from t".to_string(), 2),
                (
                    "-- trailing; comment\n/* block; comment */ select 'it''s;'".to_string(),
                    3
                ),
                ("select 2".to_string(), 4),
            ]
        );
    }

    #[test]
    fn drops_statements_without_code() {
        assert_eq!(sqls("  ;\n-- only a comment\n;/* and */ ; "), vec![]);
        assert_eq!(
            sqls("-- header\n\nselect 1;\n-- footer\n"),
            vec![("-- header\n\nselect 1".to_string(), 3)]
        );
        assert!(sqls("").is_empty());
    }

    #[test]
    fn an_open_quote_keeps_the_statement_open() {
        let (complete, rest) = split_complete("select 'a;\n");
        assert!(complete.is_empty());
        assert_eq!(rest, 0);
    }

    #[tokio::test]
    async fn a_script_runs_every_statement_in_order() {
        let ctx = SessionContext::new();
        let mut out = Vec::new();
        let script = "create table t as values (1, 'x'), (2, 'y');\n\
                      -- the rows, in CSV\n\
                      select column1 as n, column2 as s from t order by n;";
        run_script(&ctx, script, OutputFormat::Csv, &mut out)
            .await
            .unwrap();
        // The DDL statement has no columns, so CSV prints nothing for it.
        assert_eq!(String::from_utf8(out).unwrap(), "n,s\n1,x\n2,y\n");
    }

    #[tokio::test]
    async fn a_script_stops_at_the_first_failure_and_names_it() {
        let ctx = SessionContext::new();
        let mut out = Vec::new();
        let script = "select 1 as a;\n\nselect nope from nowhere;\nselect 3 as c;";
        let err = run_script(&ctx, script, OutputFormat::Csv, &mut out)
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("statement 2 (line 3) failed:"),
            "{message}"
        );
        assert!(message.contains("nowhere"), "{message}");
        // The first statement ran; the third did not.
        assert_eq!(String::from_utf8(out).unwrap(), "a\n1\n");
    }

    #[tokio::test]
    async fn interactive_lines_build_statements_and_errors_do_not_end_the_session() {
        let ctx = SessionContext::new();
        let mut session = Session::new(&ctx, OutputFormat::Json);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        for line in ["select 1 as a,", "  2 as b"] {
            let flow = session.feed_line(line, &mut out, &mut err).await.unwrap();
            assert_eq!(flow, Flow::Continue);
        }
        assert!(session.in_statement());
        assert!(out.is_empty());
        session.feed_line(";", &mut out, &mut err).await.unwrap();
        assert!(!session.in_statement());
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"a\":1,\"b\":2}\n"
        );

        // Two statements on one line, the first failing: both run.
        out.clear();
        session
            .feed_line(
                "select x from missing; select 'ok' as s;",
                &mut out,
                &mut err,
            )
            .await
            .unwrap();
        let errors = String::from_utf8(err.clone()).unwrap();
        assert!(
            errors.starts_with("error: ") && errors.contains("missing"),
            "{errors}"
        );
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "{\"s\":\"ok\"}\n");

        // Meta commands.
        out.clear();
        session.feed_line("\\?", &mut out, &mut err).await.unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), format!("{HELP}\n"));
        err.clear();
        session.feed_line("\\x", &mut out, &mut err).await.unwrap();
        assert!(
            String::from_utf8(err.clone())
                .unwrap()
                .contains("unknown command \\x")
        );
        let flow = session
            .feed_line(" \\q ", &mut out, &mut err)
            .await
            .unwrap();
        assert_eq!(flow, Flow::Quit);
    }

    #[tokio::test]
    async fn ctrl_c_clears_the_pending_statement() {
        let ctx = SessionContext::new();
        let mut session = Session::new(&ctx, OutputFormat::Csv);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        session
            .feed_line("select broken", &mut out, &mut err)
            .await
            .unwrap();
        session.clear();
        session
            .feed_line("select 1 as one;", &mut out, &mut err)
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "one\n1\n");
        assert!(err.is_empty());
    }

    #[tokio::test]
    async fn table_output_ends_with_the_row_count() {
        let ctx = SessionContext::new();
        let mut out = Vec::new();
        run_script(
            &ctx,
            "select * from (values (1), (2), (3)) t(x)",
            OutputFormat::Table,
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let last = text.lines().last().unwrap();
        assert!(
            last.starts_with("3 rows in ") && last.ends_with(" s"),
            "{text}"
        );
        assert!(text.contains("| x |"), "{text}");
    }

    #[tokio::test]
    async fn the_nyc_taxi_demo_query_runs_on_generated_trips() {
        let dir = std::env::temp_dir().join(format!("ballista-cli-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ballista_datagen::nyctaxi::generate(&dir, 20_000, 2, 1).unwrap();
        let ctx = SessionContext::new();
        let mut out = Vec::new();
        let register = format!(
            "CREATE EXTERNAL TABLE trips STORED AS PARQUET LOCATION '{}/';",
            dir.display()
        );
        let query = include_str!("../../../examples/nyctaxi/fare_stats.sql");
        run_script(
            &ctx,
            &format!("{register}\n{query}"),
            OutputFormat::Csv,
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines[0],
            "passenger_count,pickup_month,trips,avg_fare,min_fare,max_fare,avg_distance,total_amount"
        );
        // Passenger counts 0 to 6 and unknown (null), each in all 12 months.
        assert_eq!(lines.len(), 1 + 8 * 12, "{text}");
        assert!(lines[1].starts_with("0,1,"), "{text}");
        assert!(lines[96].starts_with(",12,"), "{text}");
        let trips: u64 = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(trips, 20_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A runner whose query takes longer than the progress delay and reports
    /// progress as it goes: the shell still returns its result.
    struct SlowRunner(SessionContext);

    #[async_trait::async_trait]
    impl SqlRunner for SlowRunner {
        async fn run(
            &self,
            sql: &str,
            progress: &(dyn Fn(u32, u32) + Send + Sync),
        ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
            for done in 0..3 {
                progress(done, 3);
                tokio::time::sleep(SHOW_AFTER / 2).await;
            }
            self.0.run(sql, progress).await
        }
    }

    #[tokio::test]
    async fn a_slow_query_still_prints_its_result() {
        let runner = SlowRunner(SessionContext::new());
        let mut out = Vec::new();
        execute(&runner, "select 42 as answer", OutputFormat::Csv, &mut out)
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "answer\n42\n");
    }
}
