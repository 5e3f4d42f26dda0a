//! Printing query results: an aligned table, CSV or JSON lines.
//!
//! Formatting is arrow's own (pretty printer, CSV writer, JSON writer), so
//! values look the same as everywhere else in the Arrow ecosystem.

use std::io::Write;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::csv::WriterBuilder as CsvWriterBuilder;
use arrow::datatypes::SchemaRef;
use arrow::json::WriterBuilder as JsonWriterBuilder;
use arrow::json::writer::LineDelimited;
use arrow::util::display::FormatOptions;
use arrow::util::pretty::pretty_format_batches_with_options;

use crate::{CliError, Result};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned table followed by a `N rows in T s` footer.
    #[default]
    Table,
    /// CSV with a header row (printed even when there are no rows).
    Csv,
    /// One JSON object per row and line; nulls are written as `null`.
    Json,
}

/// Writes one statement's result to `out` in `format`; `elapsed` is the
/// statement's run time, shown in the table footer.
///
/// A result without columns (as DDL statements return) prints nothing but
/// the table footer.
pub fn write_result(
    out: &mut dyn Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    elapsed: Duration,
) -> Result<()> {
    let has_columns = !schema.fields().is_empty();
    // Writers print headers from the first batch they see; an empty batch
    // gives a zero-row result its header.
    let empty;
    let batches = if batches.is_empty() {
        empty = [RecordBatch::new_empty(schema.clone())];
        &empty[..]
    } else {
        batches
    };
    let write_error = |e| CliError::io("cannot write the result", e);
    match format {
        OutputFormat::Table => {
            if has_columns {
                let options = FormatOptions::default()
                    .with_null("NULL")
                    .with_display_error(true);
                let table = pretty_format_batches_with_options(batches, &options)?;
                writeln!(out, "{table}").map_err(write_error)?;
            }
            let rows = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(out, "{}", footer(rows, elapsed)).map_err(write_error)?;
        }
        OutputFormat::Csv if has_columns => {
            let mut writer = CsvWriterBuilder::new().with_header(true).build(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
        }
        OutputFormat::Json if has_columns => {
            let mut writer = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(&mut *out);
            writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
            writer.finish()?;
        }
        OutputFormat::Csv | OutputFormat::Json => {}
    }
    out.flush().map_err(write_error)
}

/// The table footer: `1 row in 0.004 s`, `3 rows in 0.412 s`.
pub fn footer(rows: usize, elapsed: Duration) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    format!("{rows} {noun} in {:.3} s", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn sample() -> (SchemaRef, Vec<RecordBatch>) {
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "name",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c,d")])),
            ),
            ("x", Arc::new(Float64Array::from(vec![0.5, 1.0, 2.25]))),
        ])
        .unwrap();
        (batch.schema(), vec![batch])
    }

    fn render(format: OutputFormat, schema: &SchemaRef, batches: &[RecordBatch]) -> String {
        let mut out = Vec::new();
        write_result(
            &mut out,
            format,
            schema,
            batches,
            Duration::from_millis(412),
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_is_aligned_with_a_footer() {
        let (schema, batches) = sample();
        let expected = "\
+----+------+------+
| id | name | x    |
+----+------+------+
| 1  | a    | 0.5  |
| 2  | NULL | 1.0  |
| 3  | c,d  | 2.25 |
+----+------+------+
3 rows in 0.412 s
";
        assert_eq!(render(OutputFormat::Table, &schema, &batches), expected);
    }

    #[test]
    fn csv_has_a_header_and_quotes_where_needed() {
        let (schema, batches) = sample();
        let expected = "id,name,x\n1,a,0.5\n2,,1.0\n3,\"c,d\",2.25\n";
        assert_eq!(render(OutputFormat::Csv, &schema, &batches), expected);
    }

    #[test]
    fn json_is_one_object_per_line() {
        let (schema, batches) = sample();
        let expected = "{\"id\":1,\"name\":\"a\",\"x\":0.5}\n\
                        {\"id\":2,\"name\":null,\"x\":1.0}\n\
                        {\"id\":3,\"name\":\"c,d\",\"x\":2.25}\n";
        assert_eq!(render(OutputFormat::Json, &schema, &batches), expected);
    }

    #[test]
    fn zero_rows_still_show_the_columns() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        assert_eq!(render(OutputFormat::Csv, &schema, &[]), "a,b\n");
        assert_eq!(
            render(OutputFormat::Table, &schema, &[]),
            "+---+---+\n| a | b |\n+---+---+\n+---+---+\n0 rows in 0.412 s\n"
        );
        assert_eq!(render(OutputFormat::Json, &schema, &[]), "");
    }

    #[test]
    fn a_result_without_columns_prints_only_the_footer() {
        let schema = Arc::new(Schema::empty());
        assert_eq!(
            render(OutputFormat::Table, &schema, &[]),
            "0 rows in 0.412 s\n"
        );
        assert_eq!(render(OutputFormat::Csv, &schema, &[]), "");
    }

    #[test]
    fn footer_says_row_or_rows() {
        assert_eq!(footer(1, Duration::from_micros(4_200)), "1 row in 0.004 s");
        assert_eq!(footer(0, Duration::from_secs(2)), "0 rows in 2.000 s");
    }
}
