package dev.ballista.client;

import dev.ballista.client.transport.PartitionReader;
import java.io.Serializable;
import java.net.URI;
import java.util.Arrays;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;

/**
 * Where one partition of a finished query's result is: the server holding it and its ticket.
 * Serializable, so a result can be split across processes (a Spark data source hands one
 * partition to each task, which reads it with {@link #open}).
 */
public final class ResultPartition implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int index;
  private final String location;
  private final byte[] ticket;

  ResultPartition(int index, String location, byte[] ticket) {
    this.index = index;
    this.location = location;
    this.ticket = ticket.clone();
  }

  /** @return the partition's position in the result (batches of a query come in this order) */
  public int index() {
    return index;
  }

  /** @return the URL of the server holding the partition: an executor, or the scheduler relaying it */
  public String location() {
    return location;
  }

  /** @return the ticket for {@code DoGet} (an encoded {@code ballista.v1.FetchPartition}) */
  public byte[] ticket() {
    return ticket.clone();
  }

  /**
   * Streams the partition's batches from the server holding it, over a connection that closes
   * with the reader. Needs no session.
   *
   * @param allocator where batches are allocated
   * @return the reader; close it
   */
  public ArrowReader open(BufferAllocator allocator) {
    return new PartitionReader(
        allocator, new Location(URI.create(location)), new Ticket(ticket), location);
  }

  @Override
  public String toString() {
    return "ResultPartition(" + index + " at " + location + ", ticket " + Arrays.hashCode(ticket) + ")";
  }
}
