package dev.ballista.spark.read;

import org.apache.spark.sql.connector.read.InputPartition;

/**
 * One result partition of the job: its Flight ticket and the executor that serves it. On the
 * driver it also holds the job's {@link JobLease} token, so the job's results stay while Spark can
 * still schedule a read of this partition.
 */
final class BallistaInputPartition implements InputPartition {
  private static final long serialVersionUID = 1L;

  private final byte[] ticket;
  private final String uri;
  private final String host;

  /**
   * Not sent to Spark's executors: only the driver's copies can start reads, so only they keep the
   * results (a copy deserialized by a task holds null).
   */
  @SuppressWarnings("unused")
  private final transient Object lease;

  BallistaInputPartition(byte[] ticket, String uri, String host, Object lease) {
    this.ticket = ticket;
    this.uri = uri;
    this.host = host;
    this.lease = lease;
  }

  byte[] ticket() {
    return ticket;
  }

  /** @return the Flight URI to fetch from (the executor, or the scheduler relaying) */
  String uri() {
    return uri;
  }

  @Override
  public String[] preferredLocations() {
    return host == null ? new String[0] : new String[] {host};
  }
}
