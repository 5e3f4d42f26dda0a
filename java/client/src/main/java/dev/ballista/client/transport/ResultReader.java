package dev.ballista.client.transport;

import dev.ballista.client.errors.Errors;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.util.TransferPair;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The rows of a finished query: an {@link ArrowReader} over its result partitions.
 *
 * <p>Up to {@link FlightTransport#PARALLEL_FETCHES} partitions are fetched at once, each over a
 * connection of its own (HTTP/2 streams sharing a connection share its flow-control window, so a
 * partition waiting to be read would stall the one being read; the Rust client does the same).
 * Batches come out in partition order. Closing the reader releases every fetched batch, including
 * those of fetches still running.
 *
 * <p>The job's results on the executors are released ({@code release}, once) as soon as every
 * partition has been fetched, or when the reader is closed before that: both mean nothing will be
 * read from them again.
 */
final class ResultReader extends ArrowReader {
  private final Schema schema;
  private final List<FlightEndpoint> endpoints;
  private final Location scheduler;
  private final String schedulerUrl;
  private final ExecutorService pool;
  private final Runnable release;
  private final AtomicBoolean released = new AtomicBoolean();
  private final List<CompletableFuture<List<ArrowRecordBatch>>> fetches = new ArrayList<>();
  private final ArrayDeque<ArrowRecordBatch> current = new ArrayDeque<>();
  private int next;
  private long bytes;
  private volatile boolean closed;

  ResultReader(
      BufferAllocator allocator,
      FlightInfo info,
      Location scheduler,
      String schedulerUrl,
      ExecutorService pool,
      Runnable release) {
    super(allocator);
    this.schema = info.getSchemaOptional().orElse(new Schema(List.of()));
    this.endpoints = info.getEndpoints();
    this.scheduler = scheduler;
    this.schedulerUrl = schedulerUrl;
    this.pool = pool;
    this.release = release;
  }

  /**
   * Releases the job's results the first time it is called; {@code release} itself never throws
   * ({@link FlightTransport#release(FlightInfo)}).
   */
  private void releaseOnce() {
    if (released.compareAndSet(false, true)) {
      release.run();
    }
  }

  @Override
  protected Schema readSchema() {
    return schema;
  }

  private void startFetches() {
    while (fetches.size() < endpoints.size()
        && fetches.size() < next + FlightTransport.PARALLEL_FETCHES) {
      FlightEndpoint endpoint = endpoints.get(fetches.size());
      fetches.add(CompletableFuture.supplyAsync(() -> fetch(endpoint), pool));
    }
  }

  /** Reads one whole partition; runs on the fetch pool. */
  private List<ArrowRecordBatch> fetch(FlightEndpoint endpoint) {
    List<ArrowRecordBatch> batches = new ArrayList<>();
    if (closed) {
      return batches;
    }
    // Without a location the scheduler relays the partition.
    Location location =
        endpoint.getLocations().isEmpty() ? scheduler : endpoint.getLocations().get(0);
    String peer =
        endpoint.getLocations().isEmpty()
            ? "scheduler " + schedulerUrl
            : "executor " + location.getUri();
    try (FlightClient client = FlightClient.builder(allocator, location).build();
        FlightStream stream = client.getStream(endpoint.getTicket())) {
      VectorSchemaRoot root = stream.getRoot();
      while (!closed && stream.next()) {
        batches.add(takeBatch(root, allocator));
      }
      if (closed) {
        stream.cancel("reader closed", null);
      }
    } catch (Exception e) {
      batches.forEach(ArrowRecordBatch::close);
      throw Errors.from(e, peer);
    }
    return batches;
  }

  /**
   * The stream's current batch, moved to this reader's allocator: the stream's buffers belong to
   * its client's allocator, which is closed with the client once the partition is read.
   */
  static ArrowRecordBatch takeBatch(VectorSchemaRoot root, BufferAllocator allocator) {
    List<FieldVector> moved = new ArrayList<>();
    for (FieldVector v : root.getFieldVectors()) {
      TransferPair pair = v.getTransferPair(allocator);
      pair.transfer();
      moved.add((FieldVector) pair.getTo());
    }
    try (VectorSchemaRoot owned = new VectorSchemaRoot(moved)) {
      owned.setRowCount(root.getRowCount());
      return new VectorUnloader(owned).getRecordBatch();
    }
  }

  @Override
  public boolean loadNextBatch() throws java.io.IOException {
    prepareLoadNextBatch();
    while (current.isEmpty()) {
      if (next >= endpoints.size()) {
        // Every partition is in memory now: the files are not needed even if the reader stays
        // open for a while.
        releaseOnce();
        return false;
      }
      startFetches();
      List<ArrowRecordBatch> batches;
      try {
        batches = fetches.get(next).get();
      } catch (ExecutionException | InterruptedException e) {
        throw Errors.from(e, "scheduler " + schedulerUrl);
      }
      next++;
      current.addAll(batches);
      // Keep the pipeline full while this partition is read.
      startFetches();
    }
    ArrowRecordBatch batch = current.poll();
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
    closed = true;
    // First, so that a reader closed early gives the job's files back even if freeing the batches
    // below failed. Fetches still running may then fail on the executors (the files are being
    // deleted); their errors are dropped with their batches.
    releaseOnce();
    current.forEach(ArrowRecordBatch::close);
    current.clear();
    // Partitions already handed out were released above; the rest are released when their fetch
    // ends (at once for those done).
    for (int i = next; i < fetches.size(); i++) {
      fetches.get(i).whenComplete((batches, error) -> {
        if (batches != null) {
          batches.forEach(ArrowRecordBatch::close);
        }
      });
    }
  }
}
