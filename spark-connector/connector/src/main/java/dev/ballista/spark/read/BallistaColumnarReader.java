package dev.ballista.spark.read;

import dev.ballista.client.errors.Errors;
import dev.ballista.spark.BallistaOptions;
import dev.ballista.spark.ClusterClient;
import dev.ballista.spark.arrow.ArrowBridge;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightClient;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightRuntimeException;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightStream;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * Reads one result partition ({@code DoGet} on the executor holding it) as Spark columnar
 * batches: each Arrow batch received is handed to Spark's vectors without copying ({@link
 * ArrowBridge}).
 */
final class BallistaColumnarReader implements PartitionReader<ColumnarBatch> {
  /** Spark-side (unrelocated) Arrow memory of all readers in this JVM. */
  private static final BufferAllocator SPARK_ROOT = new RootAllocator();

  private final String peer;
  private final dev.ballista.spark.shaded.org.apache.arrow.memory.BufferAllocator flightAllocator;
  private final BufferAllocator sparkAllocator;
  private final FlightClient client;
  private final FlightStream stream;
  private ArrowBridge bridge;
  private ColumnarBatch current;
  private final int columns;

  BallistaColumnarReader(BallistaInputPartition partition, BallistaOptions options, int columns) {
    this.peer = "executor " + partition.uri();
    this.columns = columns;
    this.flightAllocator =
        ClusterClient.rootAllocator().newChildAllocator("ballista-reader", 0, Long.MAX_VALUE);
    this.sparkAllocator = SPARK_ROOT.newChildAllocator("ballista-spark", 0, Long.MAX_VALUE);
    try {
      this.client =
          FlightClient.builder(flightAllocator, ClusterClient.location(partition.uri())).build();
      this.stream =
          client.getStream(
              new Ticket(partition.ticket()), ClusterClient.headerOptions(options.headers()));
    } catch (FlightRuntimeException e) {
      closeQuietly();
      throw Errors.fromFlight(e, peer);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  @Override
  public boolean next() {
    try {
      if (!stream.next()) {
        return false;
      }
      if (bridge == null) {
        bridge = new ArrowBridge(stream.getSchema(), sparkAllocator, columns);
      }
      current = bridge.load(stream.getRoot());
      return true;
    } catch (FlightRuntimeException e) {
      throw Errors.fromFlight(e, peer);
    }
  }

  @Override
  public ColumnarBatch get() {
    return current;
  }

  private void closeQuietly() {
    try {
      close();
    } catch (Exception ignored) {
      // Already failing; the first error is the one to report.
    }
  }

  @Override
  public void close() {
    // Spark's vectors first: they release the relocated buffers they wrap.
    if (bridge != null) {
      bridge.close();
      bridge = null;
    }
    try {
      if (stream != null) {
        stream.close();
      }
      if (client != null) {
        client.close();
      }
    } catch (Exception e) {
      throw Errors.from(e, peer);
    } finally {
      flightAllocator.close();
      sparkAllocator.close();
    }
  }
}
