package dev.ballista.spark.read;

import org.apache.spark.sql.connector.read.InputPartition;

/** One result partition of the job: its Flight ticket and the executor that serves it. */
final class BallistaInputPartition implements InputPartition {
  private static final long serialVersionUID = 1L;

  private final byte[] ticket;
  private final String uri;
  private final String host;

  BallistaInputPartition(byte[] ticket, String uri, String host) {
    this.ticket = ticket;
    this.uri = uri;
    this.host = host;
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
