package dev.ballista.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ballista.proto.v1.JobStatus;
import dev.ballista.proto.v1.ListJobs;
import dev.ballista.proto.v1.ListJobsResult;
import dev.ballista.spark.shaded.com.google.protobuf.InvalidProtocolBufferException;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Action;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightClient;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightDescriptor;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightRuntimeException;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightStatusCode;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Result;
import dev.ballista.spark.shaded.org.apache.arrow.memory.BufferAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.memory.RootAllocator;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * When the connector releases jobs ({@code release_job}): the schema job of {@code load()} at
 * once; a scan's job not while its {@code DataFrame} can still read it (the same {@code
 * DataFrame} run again reads the same job), and once the {@code DataFrame} is gone and the
 * driver has collected it. Released means the scheduler answers NOT_FOUND for the job's results
 * and the executors have deleted its directory. What the scheduler knows is asked over a Flight
 * connection of the test's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseTest {
  /** How long a release may take: a garbage collection, the release, the executors deleting. */
  private static final long WAIT_MS = 30_000;

  private static final String SCHEMA_JOB = "spark: schema of ";

  private BufferAllocator allocator;
  private FlightClient scheduler;

  @BeforeAll
  void start() {
    allocator = new RootAllocator();
    scheduler = FlightClient.builder(allocator, ClusterClient.location(Shared.url())).build();
  }

  @AfterAll
  void stop() throws InterruptedException {
    scheduler.close();
    allocator.close();
  }

  /** @return every job the scheduler lists: id to name */
  private Map<String, String> jobs() {
    Iterator<Result> results =
        scheduler.doAction(new Action("list_jobs", ListJobs.getDefaultInstance().toByteArray()));
    Map<String, String> jobs = new HashMap<>();
    while (results.hasNext()) {
      try {
        for (JobStatus job : ListJobsResult.parseFrom(results.next().getBody()).getJobsList()) {
          jobs.put(job.getJobId(), job.getJobName());
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("list_jobs answered something else than ListJobsResult", e);
      }
    }
    return jobs;
  }

  /** Runs {@code work} and returns the jobs it ran: id to name. */
  private Map<String, String> jobsOf(Runnable work) {
    Map<String, String> before = jobs();
    work.run();
    Map<String, String> added = jobs();
    added.keySet().removeAll(before.keySet());
    return added;
  }

  /** The one job in {@code jobs} that is a scan's (not a schema's). */
  private static String theScanJob(Map<String, String> jobs) {
    List<String> scans =
        jobs.entrySet().stream()
            .filter(j -> !j.getValue().startsWith(SCHEMA_JOB))
            .map(Map.Entry::getKey)
            .collect(Collectors.toList());
    assertEquals(1, scans.size(), "one scan job: " + jobs);
    return scans.get(0);
  }

  /**
   * Whether the scheduler says the job's results were released: {@code PollFlightInfo} on the
   * job's descriptor answers its results while they are kept, NOT_FOUND once released.
   */
  private boolean released(String job) {
    try {
      scheduler.pollInfo(FlightDescriptor.path("ballista-job", job));
      return false;
    } catch (UnsupportedOperationException e) {
      // The scheduler answered with the results' FlightInfo, which carries no descriptor, and
      // Arrow Java 19 refuses to decode a FlightInfo without one: an answer, so not released.
      return false;
    } catch (FlightRuntimeException e) {
      if (e.status().code() == FlightStatusCode.NOT_FOUND && e.getMessage().contains("released")) {
        return true;
      }
      throw e;
    }
  }

  /** The job's directories on the executors that still exist. */
  private static List<Path> jobDirs(String job) {
    return Shared.workDirs().stream()
        .map(d -> d.resolve(job))
        .filter(Files::exists)
        .collect(Collectors.toList());
  }

  /**
   * Waits until the job is released and its directories deleted, collecting garbage meanwhile
   * (a scan's job is released when the driver collects its partitions).
   */
  private void awaitReleased(String job) {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (!released(job) || !jobDirs(job).isEmpty()) {
      if (System.currentTimeMillis() > deadline) {
        fail(
            "job "
                + job
                + (released(job) ? " was released, but the executors still hold " + jobDirs(job) : " was not released")
                + " after "
                + WAIT_MS
                + " ms");
      }
      System.gc();
      sleep(200);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void theSchemaJobOfLoadIsReleasedAtOnce() {
    Map<String, String> jobs = jobsOf(() -> Shared.ballistaTable("region"));
    assertFalse(jobs.isEmpty(), "load() asks the cluster for the schema");
    for (Map.Entry<String, String> job : jobs.entrySet()) {
      assertTrue(job.getValue().startsWith(SCHEMA_JOB), "load() runs no scan: " + jobs);
      // At once: no garbage collection needed.
      assertTrue(released(job.getKey()), "job " + job + " should be released");
    }
  }

  @Test
  void aScanKeepsItsResultsWhileItsDataFrameLives() {
    Dataset<Row> df = Shared.ballistaTable("nation").filter("n_regionkey = 1");
    List<Row>[] first = new List[1];
    String job = theScanJob(jobsOf(() -> first[0] = df.collectAsList()));
    assertEquals(5, first[0].size());
    for (int i = 0; i < 3; i++) {
      System.gc();
      sleep(200);
    }
    assertFalse(released(job), "the DataFrame can still read job " + job);
    assertFalse(jobDirs(job).isEmpty(), "the executors should still hold job " + job);

    // Run again, the same DataFrame reads the same job's results: no new job.
    List<Row>[] again = new List[1];
    Map<String, String> jobs = jobsOf(() -> again[0] = df.collectAsList());
    assertTrue(jobs.isEmpty(), "no new job: " + jobs);
    assertEquals(Shared.canonical(first[0]), Shared.canonical(again[0]));
    Reference.reachabilityFence(df);
  }

  @Test
  void aScanIsReleasedOnceItsDataFrameIsGone() {
    String job = collectAndForget();
    awaitReleased(job);
  }

  /** Collects a scan and lets go of it: nothing here outlives the call. */
  private String collectAndForget() {
    Dataset<Row> df = Shared.ballistaTable("nation").filter("n_regionkey = 2");
    List<Row>[] rows = new List[1];
    String job = theScanJob(jobsOf(() -> rows[0] = df.collectAsList()));
    assertEquals(5, rows[0].size());
    assertFalse(jobDirs(job).isEmpty(), "the executors should hold job " + job);
    return job;
  }
}
