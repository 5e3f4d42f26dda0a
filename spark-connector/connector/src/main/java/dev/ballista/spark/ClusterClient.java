package dev.ballista.spark;

import dev.ballista.client.DataFrame;
import dev.ballista.client.errors.Errors;
import dev.ballista.client.transport.FlightTransport;
import dev.ballista.proto.v1.ExecuteQuery;
import dev.ballista.proto.v1.KeyValue;
import dev.ballista.proto.v1.ReleaseJob;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Action;
import dev.ballista.spark.shaded.org.apache.arrow.flight.CallHeaders;
import dev.ballista.spark.shaded.org.apache.arrow.flight.CallOption;
import dev.ballista.spark.shaded.org.apache.arrow.flight.CallOptions;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightCallHeaders;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightClient;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightDescriptor;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightInfo;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightRuntimeException;
import dev.ballista.spark.shaded.org.apache.arrow.flight.HeaderCallOption;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Location;
import dev.ballista.spark.shaded.org.apache.arrow.memory.BufferAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.memory.RootAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Schema;
import java.net.URI;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Flight calls the connector makes to the scheduler, with the call headers of the options
 * (the token). Failures leave as the Java client's {@code BallistaException}s (its one error
 * translator, {@link Errors}).
 *
 * <p>Why not the client's {@code Session}: the connector needs the {@code FlightInfo} itself (one
 * Spark partition per endpoint, read on Spark's executors) and call headers on every call; the
 * client's session exposes neither yet.
 */
public final class ClusterClient implements AutoCloseable {
  /** How long a release may wait for the scheduler (it runs on Spark's driver, in the background). */
  private static final long RELEASE_TIMEOUT_SECONDS = 10;

  private static final Logger LOG = LoggerFactory.getLogger(ClusterClient.class);

  /** The relocated Arrow allocator of all Flight calls in this JVM. */
  private static final BufferAllocator ROOT = new RootAllocator();

  private final BallistaOptions options;
  private final BufferAllocator allocator;
  private final FlightClient client;

  /**
   * Opens a connection to the scheduler of {@code options}.
   *
   * @param options the validated options
   */
  public ClusterClient(BallistaOptions options) {
    this.options = options;
    this.allocator = ROOT.newChildAllocator("ballista-driver", 0, Long.MAX_VALUE);
    this.client = FlightClient.builder(allocator, location(options.url())).build();
  }

  /**
   * @param uri {@code grpc://host:port}
   * @return the Flight location
   */
  public static Location location(String uri) {
    URI u = URI.create(uri);
    return Location.forGrpcInsecure(u.getHost(), u.getPort());
  }

  /** @return the shared relocated root allocator (children per reader) */
  public static BufferAllocator rootAllocator() {
    return ROOT;
  }

  /**
   * @param headers header names and values
   * @return the call option sending them
   */
  public static CallOption[] headerOptions(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return new CallOption[0];
    }
    CallHeaders h = new FlightCallHeaders();
    headers.forEach(h::insert);
    return new CallOption[] {new HeaderCallOption(h)};
  }

  /**
   * Runs {@code plan} as a job and waits for it: the scheduler answers the result schema and one
   * endpoint per result partition.
   *
   * @param plan the plan
   * @param jobName shown in the cluster's job list
   * @return the FlightInfo
   */
  public FlightInfo execute(DataFrame plan, String jobName) {
    ExecuteQuery.Builder q = ExecuteQuery.newBuilder().setPlan(plan.plan()).setJobName(jobName);
    for (Map.Entry<String, String> s : options.settings().entrySet()) {
      q.addSettings(KeyValue.newBuilder().setKey(s.getKey()).setValue(s.getValue()));
    }
    try {
      return client.getInfo(
          FlightDescriptor.command(q.build().toByteArray()), headerOptions(options.headers()));
    } catch (FlightRuntimeException e) {
      throw Errors.fromFlight(e, "scheduler " + options.url());
    }
  }

  /**
   * The schema of {@code plan}'s result, from the cluster: the plan under {@code LIMIT 0}, which
   * DataFusion plans as an empty relation (nothing is read).
   *
   * @param plan the plan
   * @return its Arrow schema (relocated Arrow)
   */
  public Schema schema(DataFrame plan) {
    FlightInfo info = execute(plan.limit(0), "spark: schema of " + options.sourceName());
    // Only the schema is wanted: nothing will ever read this job's (empty) results.
    FlightTransport.jobId(info).ifPresent(this::release);
    return info.getSchemaOptional().orElse(new Schema(java.util.List.of()));
  }

  /**
   * Asks the scheduler to delete job {@code jobId}'s results on the executors ({@code
   * release_job}), with the options' call headers.
   *
   * <p>Best effort: a failure only leaves the results until the job's TTL, so it is logged (at
   * debug) and never thrown. Releasing twice is harmless.
   *
   * @param jobId the job
   * @return whether the scheduler confirmed
   */
  public boolean release(String jobId) {
    CallOption[] headers = headerOptions(options.headers());
    CallOption[] callOptions = Arrays.copyOf(headers, headers.length + 1);
    callOptions[headers.length] = CallOptions.timeout(RELEASE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    try {
      var results =
          client.doAction(
              new Action("release_job", ReleaseJob.newBuilder().setJobId(jobId).build().toByteArray()),
              callOptions);
      // The call completes when its (empty) result stream has been read.
      results.forEachRemaining(r -> {});
      return true;
    } catch (RuntimeException e) {
      LOG.debug("could not release the results of job {}: {}", jobId, e.toString());
      return false;
    }
  }

  @Override
  public void close() {
    try {
      client.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      allocator.close();
    }
  }
}
