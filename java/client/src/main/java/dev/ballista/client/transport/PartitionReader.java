package dev.ballista.client.transport;

import dev.ballista.client.errors.Errors;
import java.io.IOException;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * One result partition streamed batch by batch from the server that holds it ({@code DoGet}),
 * over a connection of its own that closes with the reader. For readers that split a result
 * across processes, such as a Spark data source reading one partition per task.
 */
public final class PartitionReader extends ArrowReader {
  private final FlightClient client;
  private final FlightStream stream;
  private final String peer;
  private long bytes;

  /**
   * Opens the partition.
   *
   * @param allocator where batches are allocated
   * @param location the server holding the partition
   * @param ticket the partition's ticket (an encoded {@code FetchPartition})
   * @param peer the server, named in error messages
   */
  public PartitionReader(BufferAllocator allocator, Location location, Ticket ticket, String peer) {
    super(allocator);
    this.peer = peer;
    this.client = FlightClient.builder(allocator, location).build();
    try {
      this.stream = client.getStream(ticket);
    } catch (RuntimeException e) {
      closeQuietly(client);
      throw Errors.from(e, peer);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Closing after a failure: the failure is what the caller needs to see.
    }
  }

  @Override
  protected Schema readSchema() {
    try {
      return stream.getSchema();
    } catch (FlightRuntimeException e) {
      throw Errors.fromFlight(e, peer);
    }
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    try {
      if (!stream.next()) {
        return false;
      }
    } catch (RuntimeException e) {
      throw Errors.from(e, peer);
    }
    var batch = ResultReader.takeBatch(stream.getRoot(), allocator);
    bytes += batch.computeBodyLength();
    loadRecordBatch(batch);
    return true;
  }

  @Override
  public long bytesRead() {
    return bytes;
  }

  @Override
  protected void closeReadSource() {
    closeQuietly(stream);
    closeQuietly(client);
  }
}
