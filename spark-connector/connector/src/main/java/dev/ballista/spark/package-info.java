/**
 * Ballista's Apache Spark connector: a DataSource V2 registered as {@code "ballista"}.
 *
 * <p>Layers, each in its own package, dependencies pointing down:
 *
 * <ul>
 *   <li>{@code dev.ballista.spark} — the entry points Spark finds ({@link
 *       dev.ballista.spark.BallistaDataSource}, the table) and the options;
 *   <li>{@code dev.ballista.spark.read} — scan building with pushdown, the scan, its partitions and
 *       the columnar reader that runs on Spark's executors;
 *   <li>{@code dev.ballista.spark.plan} — Spark's filters and aggregates translated into the
 *       canonical plan with the Java client's builders (never SQL text);
 *   <li>{@code dev.ballista.spark.arrow} — Arrow types to Spark types, and the zero-copy hand-over
 *       of record batches from the client's relocated Arrow to Spark's own Arrow;
 *   <li>{@link dev.ballista.spark.ClusterClient} — the Flight calls to the scheduler.
 * </ul>
 *
 * <p>The connector never glues SQL strings: what Spark pushes becomes {@code ballista.v1.Relation}
 * nodes over the source the user named (a table, a SQL query or a serialized plan).
 */
package dev.ballista.spark;
