package dev.ballista.client;

import java.util.List;
import java.util.Optional;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A finished query whose rows have not been fetched: its schema and its result partitions
 * ({@link Session#execute}). Read them with {@link ResultPartition#open}, in any order and in
 * any process, or all at once with {@link DataFrame#stream()} instead.
 *
 * <p>The partitions stay on the executors until {@link Session#release(QueryResult)} is called
 * (once every reader is done with them) or the job's TTL ends (30 minutes by default); reading a
 * partition does not release it, as another task may still need the others, or to read it again.
 */
public final class QueryResult {
  private final Schema schema;
  private final List<ResultPartition> partitions;
  private final long totalRows;
  private final String jobId;

  QueryResult(Schema schema, List<ResultPartition> partitions, long totalRows, String jobId) {
    this.jobId = jobId;
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

  /** @return the job that computed the result (empty if the scheduler did not name it) */
  public Optional<String> jobId() {
    return Optional.ofNullable(jobId);
  }

  /** @return the number of rows, as counted by the executors (-1 if unknown) */
  public long totalRows() {
    return totalRows;
  }
}
