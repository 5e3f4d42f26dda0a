package dev.ballista.client.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ballista.client.errors.Errors;
import dev.ballista.client.errors.InvalidQueryException;
import dev.ballista.proto.v1.FetchPartition;
import dev.ballista.proto.v1.JobStatus;
import dev.ballista.proto.v1.ReleaseJob;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.CallOptions;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Arrow Flight to a Ballista scheduler and its executors: the only wire the client speaks.
 *
 * <p>A query is one {@code GetFlightInfo} with an {@code ExecuteQuery} command: the scheduler
 * runs the job and answers with the result schema and one endpoint per result partition; {@link
 * #fetch} then reads the partitions from the executors that hold them ({@code DoGet}), several
 * at a time. Catalog calls and {@code explain} are {@code DoAction}s. Every failure leaves this
 * class as a {@link dev.ballista.client.errors.BallistaException} (see {@link Errors}), except
 * from {@link #release}, which never fails.
 *
 * <p>Once a result has been fetched, {@link #release} asks the scheduler to delete it on the
 * executors ({@code release_job}); otherwise it stays on their disks until the job's TTL (30
 * minutes by default), which fills them when many queries run.
 */
public final class FlightTransport implements AutoCloseable {
  /** Result partitions fetched at once, as the Rust client does. */
  static final int PARALLEL_FETCHES = 4;

  /**
   * How long a release may wait for the scheduler: it runs when a reader is closed, which must not
   * hang on a scheduler that stopped answering.
   */
  static final long RELEASE_TIMEOUT_SECONDS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(FlightTransport.class);
  private static final AtomicInteger POOL_ID = new AtomicInteger();

  private final String url;
  private final Location location;
  private final BufferAllocator allocator;
  private final FlightClient scheduler;
  private final ExecutorService fetchPool;

  /**
   * Opens a (lazy) connection to the scheduler at {@code url}.
   *
   * @param url {@code grpc://host:port}
   * @param allocator where result batches are allocated
   * @throws InvalidQueryException if {@code url} is not a Flight URL
   */
  public FlightTransport(String url, BufferAllocator allocator) {
    this.url = url;
    this.location = parse(url);
    this.allocator = allocator;
    this.scheduler = FlightClient.builder(allocator, location).build();
    int id = POOL_ID.incrementAndGet();
    AtomicInteger thread = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "ballista-fetch-" + id + "-" + thread.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.fetchPool = Executors.newFixedThreadPool(PARALLEL_FETCHES, factory);
  }

  static Location parse(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new InvalidQueryException("not a scheduler URL (grpc://host:port): " + url, e);
    }
    String scheme = uri.getScheme();
    if (scheme == null
        || !(scheme.equals("grpc") || scheme.equals("grpc+tcp"))
        || uri.getHost() == null
        || uri.getPort() < 0) {
      throw new InvalidQueryException("not a scheduler URL (grpc://host:port): " + url, null);
    }
    return Location.forGrpcInsecure(uri.getHost(), uri.getPort());
  }

  /** @return the scheduler's URL */
  public String url() {
    return url;
  }

  /**
   * Runs a query: {@code GetFlightInfo} with the command, which returns when the job has ended.
   *
   * @param command an encoded {@code ballista.v1.ExecuteQuery}
   * @return the schema and the result endpoints
   */
  public FlightInfo execute(byte[] command) {
    try {
      return scheduler.getInfo(FlightDescriptor.command(command));
    } catch (FlightRuntimeException e) {
      throw Errors.fromFlight(e, "scheduler " + url);
    }
  }

  /**
   * A {@code DoAction} on the scheduler.
   *
   * @param type the action, e.g. {@code "register_table"}
   * @param body the encoded request
   * @param options call options, such as a timeout
   * @return the body of the first result, or an empty array when there is none
   */
  public byte[] action(String type, byte[] body, CallOption... options) {
    try {
      Iterator<Result> results = scheduler.doAction(new Action(type, body), options);
      byte[] first = new byte[0];
      boolean seen = false;
      while (results.hasNext()) {
        Result r = results.next();
        if (!seen) {
          first = r.getBody();
          seen = true;
        }
      }
      return first;
    } catch (FlightRuntimeException e) {
      throw Errors.fromFlight(e, "scheduler " + url);
    }
  }

  /**
   * Checks that the scheduler answers (a {@code list_jobs} action), so that a wrong address
   * fails at connect time with the address in the message.
   *
   * @param body an encoded {@code ballista.v1.ListJobs}
   * @param timeoutSeconds how long to wait
   */
  public void ping(byte[] body, long timeoutSeconds) {
    action("list_jobs", body, CallOptions.timeout(timeoutSeconds, TimeUnit.SECONDS));
  }

  /**
   * The rows of a finished query, as a stream that reads up to {@value #PARALLEL_FETCHES}
   * partitions ahead, each over a connection of its own, and yields batches in partition order.
   *
   * <p>The job's results are {@linkplain #release released} once, when the last partition has
   * been fetched or the reader is closed, whichever comes first: a reader closed early releases
   * them too (nothing can read them through it any more).
   *
   * @param info what {@link #execute} returned
   * @return the reader; closing it releases every batch not yet read, and the job's results
   */
  public ArrowReader fetch(FlightInfo info) {
    return new ResultReader(allocator, info, location, url, fetchPool, () -> release(info));
  }

  /**
   * The job whose results {@code info} describes: from the {@code JobStatus} the scheduler puts
   * in its app metadata, else from its first endpoint's ticket (a {@code FetchPartition}).
   *
   * @param info what {@link #execute} (or a {@code GetFlightInfo} of another client) returned
   * @return the job id; empty when {@code info} names no job (a {@code CREATE} or {@code DROP}
   *     statement runs none)
   */
  public static Optional<String> jobId(FlightInfo info) {
    try {
      byte[] metadata = info.getAppMetadata();
      if (metadata != null && metadata.length > 0) {
        String id = JobStatus.parseFrom(metadata).getJobId();
        if (!id.isEmpty()) {
          return Optional.of(id);
        }
      }
      if (!info.getEndpoints().isEmpty()) {
        byte[] ticket = info.getEndpoints().get(0).getTicket().getBytes();
        String id = FetchPartition.parseFrom(ticket).getJobId();
        if (!id.isEmpty()) {
          return Optional.of(id);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      // Not a Ballista scheduler's answer: there is no job to name.
      LOG.debug("no job id in the FlightInfo: {}", e.toString());
    }
    return Optional.empty();
  }

  /**
   * Asks the scheduler to delete the results of {@code info}'s job on the executors (the {@code
   * release_job} action): they have been fetched. Batches already read stay valid (they are in
   * this process's memory).
   *
   * <p>Best effort: a failure only leaves the results until the job's TTL, so it is logged (at
   * debug) and never thrown; callers run it while closing, where an exception would hide the
   * caller's own. Releasing twice is harmless (the scheduler ignores the second one).
   *
   * @param info what {@link #execute} returned
   * @return whether the scheduler confirmed; false when it failed or {@code info} names no job
   */
  public boolean release(FlightInfo info) {
    return jobId(info).map(this::release).orElse(false);
  }

  /**
   * Asks the scheduler to delete job {@code jobId}'s results; best effort, as {@link
   * #release(FlightInfo)}.
   *
   * @param jobId the job
   * @return whether the scheduler confirmed
   */
  public boolean release(String jobId) {
    try {
      action(
          "release_job",
          ReleaseJob.newBuilder().setJobId(jobId).build().toByteArray(),
          CallOptions.timeout(RELEASE_TIMEOUT_SECONDS, TimeUnit.SECONDS));
      return true;
    } catch (RuntimeException e) {
      // Also a closed session (IllegalStateException from Flight): see the Javadoc.
      LOG.debug("could not release the results of job {}: {}", jobId, e.toString());
      return false;
    }
  }

  @Override
  public void close() {
    fetchPool.shutdownNow();
    try {
      scheduler.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      fetchPool.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
