package dev.ballista.client;

import java.util.List;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A finished query whose rows have not been fetched: its schema and its result partitions
 * ({@link Session#execute}). Read them with {@link ResultPartition#open}, in any order and in
 * any process, or all at once with {@link DataFrame#stream()} instead.
 */
public final class QueryResult {
  private final Schema schema;
  private final List<ResultPartition> partitions;
  private final long totalRows;

  QueryResult(Schema schema, List<ResultPartition> partitions, long totalRows) {
    this.schema = schema;
    this.partitions = List.copyOf(partitions);
    this.totalRows = totalRows;
  }

  /** @return the result's Arrow schema */
  public Schema schema() {
    return schema;
  }

  /** @return the result partitions, in order */
  public List<ResultPartition> partitions() {
    return partitions;
  }

  /** @return the number of rows, as counted by the executors (-1 if unknown) */
  public long totalRows() {
    return totalRows;
  }
}
