package dev.ballista.client.it;

import static dev.ballista.client.expr.Functions.*;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ballista.client.Ballista;
import dev.ballista.client.DataFrame;
import dev.ballista.client.QueryResult;
import dev.ballista.client.ResultPartition;
import dev.ballista.client.Session;
import dev.ballista.client.errors.NotFoundException;
import dev.ballista.proto.v1.JobStatus;
import dev.ballista.proto.v1.ListJobs;
import dev.ballista.proto.v1.ListJobsResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fetched results are released ({@code release_job}): after {@code collect} and friends, after a
 * stream is read to the end or closed early, and after {@code session.release(result)}, the
 * scheduler answers NOT_FOUND for the job's results and the executors have deleted its
 * directory. A release that fails is not thrown.
 *
 * <p>On {@code ballista} processes (a scheduler and two executors) so that the executors' work
 * directories are known and a job's files can be looked at. What the scheduler knows is asked
 * over a Flight connection of the test's own, not through the client under test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseTest {
  /** How long the executors may take to delete a released job's files (the scheduler tells them
   * in the background). */
  private static final long DELETE_WAIT_MS = 10_000;

  private TestSupport.ProcessCluster cluster;
  private Session session;
  private RootAllocator allocator;
  private FlightClient scheduler;
  private long lineitemRows;

  @BeforeAll
  void start() {
    cluster = new TestSupport.ProcessCluster(2, 2);
    session = Ballista.connect(cluster.url);
    session.registerParquet("lineitem", TestSupport.tpchData().resolve("lineitem").toString());
    allocator = new RootAllocator();
    scheduler = FlightClient.builder(allocator, new Location(java.net.URI.create(cluster.url))).build();
    lineitemRows = session.table("lineitem").count();
  }

  @AfterAll
  void stop() throws InterruptedException {
    try {
      scheduler.close();
      allocator.close();
      session.close();
    } finally {
      cluster.close();
    }
  }

  /** Enough rows for several batches in each of several partitions. */
  private DataFrame lineitem() {
    return session.table("lineitem").selectColumns("l_orderkey", "l_partkey", "l_quantity");
  }

  private Set<String> jobIds() {
    Iterator<Result> results =
        scheduler.doAction(new Action("list_jobs", ListJobs.getDefaultInstance().toByteArray()));
    Set<String> ids = new HashSet<>();
    while (results.hasNext()) {
      try {
        for (JobStatus job : ListJobsResult.parseFrom(results.next().getBody()).getJobsList()) {
          ids.add(job.getJobId());
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("list_jobs answered something else than ListJobsResult", e);
      }
    }
    return ids;
  }

  /** Runs {@code work} and returns the one job it ran. */
  private String theJobOf(Runnable work) {
    Set<String> before = jobIds();
    work.run();
    Set<String> added = jobIds();
    added.removeAll(before);
    assertEquals(1, added.size(), "one job should have run, not " + added);
    return added.iterator().next();
  }

  /**
   * Whether the scheduler says the job's results were released: {@code PollFlightInfo} on the
   * job's descriptor answers its results while they are kept, NOT_FOUND once released.
   */
  private boolean released(String job) {
    try {
      scheduler.pollInfo(FlightDescriptor.path("ballista-job", job));
      return false;
    } catch (FlightRuntimeException e) {
      if (e.status().code() == FlightStatusCode.NOT_FOUND && e.getMessage().contains("released")) {
        return true;
      }
      throw e;
    }
  }

  /** The job's directories on the executors that still exist. */
  private List<Path> jobDirs(String job) {
    return cluster.workDirs().stream()
        .map(d -> d.resolve(job))
        .filter(Files::exists)
        .collect(Collectors.toList());
  }

  private void assertReleased(String job) {
    assertTrue(released(job), "the scheduler should say job " + job + " was released");
    long deadline = System.currentTimeMillis() + DELETE_WAIT_MS;
    while (!jobDirs(job).isEmpty()) {
      if (System.currentTimeMillis() > deadline) {
        fail("the executors still hold " + jobDirs(job) + " " + DELETE_WAIT_MS + " ms after the release");
      }
      sleep(100);
    }
  }

  private void assertKept(String job) {
    assertFalse(released(job), "job " + job + " should not be released yet");
    assertFalse(jobDirs(job).isEmpty(), "the executors should still hold job " + job);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static Stream<Arguments> waysToGetRows() {
    return Stream.of(
        Arguments.of("collect", (Consumer<DataFrame>) DataFrame::collect),
        Arguments.of("collectArrow", (Consumer<DataFrame>) df -> df.collectArrow().close()),
        Arguments.of("count", (Consumer<DataFrame>) DataFrame::count),
        Arguments.of("showString", (Consumer<DataFrame>) df -> df.showString(5)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("waysToGetRows")
  void gettingRowsReleasesThem(String name, Consumer<DataFrame> getRows) {
    String job = theJobOf(() -> getRows.accept(lineitem()));
    assertReleased(job);
  }

  @Test
  void aStreamReadToTheEndReleasesBeforeItIsClosed() throws IOException {
    long rows = 0;
    String job;
    try (ArrowReader reader = theReaderOf(lineitem())) {
      job = lastJob;
      while (reader.loadNextBatch()) {
        rows += reader.getVectorSchemaRoot().getRowCount();
      }
      assertEquals(lineitemRows, rows);
      assertReleased(job);
      // Reading past the end again does not fail.
      assertFalse(reader.loadNextBatch());
    }
    assertTrue(released(job));
  }

  @Test
  void aStreamClosedEarlyReleases() throws IOException {
    String job;
    try (ArrowReader reader = theReaderOf(lineitem())) {
      job = lastJob;
      assertTrue(reader.loadNextBatch());
      VectorSchemaRoot first = reader.getVectorSchemaRoot();
      assertTrue(first.getRowCount() < lineitemRows, "the stream should have more batches");
      // Nothing is released while the stream is being read.
      assertKept(job);
    }
    assertReleased(job);
  }

  @Test
  void aStreamClosedBeforeItsFirstBatchReleases() throws IOException {
    String job;
    try (ArrowReader reader = theReaderOf(lineitem())) {
      job = lastJob;
      assertKept(job);
    }
    assertReleased(job);
  }

  private String lastJob;

  /** Opens a stream and remembers its job in {@link #lastJob}. */
  private ArrowReader theReaderOf(DataFrame df) {
    ArrowReader[] reader = new ArrowReader[1];
    lastJob = theJobOf(() -> reader[0] = df.stream());
    return reader[0];
  }

  @Test
  void executeKeepsResultsUntilTheyAreReleased() throws IOException {
    QueryResult[] out = new QueryResult[1];
    String job = theJobOf(() -> out[0] = session.execute(lineitem()));
    QueryResult result = out[0];
    assertEquals(job, result.jobId().orElseThrow());
    assertTrue(result.partitions().size() > 1, "several partitions: " + result.partitions());

    // Reading every partition does not release them: another task may still need them.
    long rows = 0;
    for (ResultPartition p : result.partitions()) {
      try (ArrowReader reader = p.open(allocator)) {
        while (reader.loadNextBatch()) {
          rows += reader.getVectorSchemaRoot().getRowCount();
        }
      }
    }
    assertEquals(lineitemRows, rows);
    assertKept(job);

    assertTrue(session.release(result));
    assertReleased(job);
    ResultPartition first = result.partitions().get(0);
    NotFoundException e =
        assertThrows(
            NotFoundException.class,
            () -> {
              try (ArrowReader reader = first.open(allocator)) {
                reader.loadNextBatch();
              }
            });
    assertTrue(e.getMessage().contains(job), e.getMessage());
    // Releasing twice is harmless.
    assertTrue(session.release(result));
  }

  @Test
  void aReleaseThatFailsIsNotThrown() throws IOException {
    try (TestSupport.ProcessCluster own = new TestSupport.ProcessCluster(1, 1);
        Session s = Ballista.connect(own.url)) {
      s.registerParquet("lineitem", TestSupport.tpchData().resolve("lineitem").toString());
      DataFrame df = s.table("lineitem").selectColumns("l_orderkey");
      QueryResult result = s.execute(df);
      ArrowReader reader = s.dataframe(df).stream();
      assertTrue(reader.loadNextBatch());
      // The executor still serves the rows; the scheduler, which releases, is gone.
      own.stopScheduler();
      assertDoesNotThrow(() -> reader.close());
      assertFalse(s.release(result));
      s.close();
      // After the session is closed too.
      assertFalse(s.release(result));
    }
  }
}
