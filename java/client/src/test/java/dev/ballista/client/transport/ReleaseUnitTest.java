package dev.ballista.client.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ballista.proto.v1.FetchPartition;
import dev.ballista.proto.v1.JobStatus;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;

/**
 * Without a cluster: which job a {@code FlightInfo} names, that a release the scheduler cannot
 * answer returns false instead of throwing, and that a result reader releases exactly once however
 * it ends. ({@code it/ReleaseTest} shows the releases on a real cluster.)
 */
class ReleaseUnitTest {
  private static final Schema EMPTY = new Schema(List.of());

  private static FlightInfo info(List<FlightEndpoint> endpoints, byte[] appMetadata) {
    return new FlightInfo(
        EMPTY, FlightDescriptor.path("q"), endpoints, -1, -1, true, IpcOption.DEFAULT, appMetadata);
  }

  private static FlightEndpoint endpoint(String job) {
    byte[] ticket = FetchPartition.newBuilder().setJobId(job).setPath("/w/" + job).build().toByteArray();
    return new FlightEndpoint(new Ticket(ticket), Location.forGrpcInsecure("127.0.0.1", 1));
  }

  @Test
  void theJobIsTheOneOfTheStatusElseOfTheFirstTicket() {
    byte[] status = JobStatus.newBuilder().setJobId("from-status").build().toByteArray();
    assertEquals(
        Optional.of("from-status"), FlightTransport.jobId(info(List.of(endpoint("t")), status)));
    // A scheduler that sends no status: the tickets name the job.
    assertEquals(
        Optional.of("t1"),
        FlightTransport.jobId(info(List.of(endpoint("t1"), endpoint("t2")), new byte[0])));
    // A CREATE or DROP statement runs no job.
    assertEquals(Optional.empty(), FlightTransport.jobId(info(List.of(), new byte[0])));
    // Not a Ballista answer: no job, and no exception.
    assertEquals(
        Optional.empty(),
        FlightTransport.jobId(info(List.of(), new byte[] {(byte) 0xff, (byte) 0xff})));
  }

  @Test
  void aReleaseNobodyAnswersReturnsFalse() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (BufferAllocator allocator = new RootAllocator();
        FlightTransport transport = new FlightTransport("grpc://127.0.0.1:" + port, allocator)) {
      assertFalse(transport.release(info(List.of(endpoint("j")), new byte[0])));
      assertFalse(transport.release("j"));
      // Nothing to release: no call at all.
      assertFalse(transport.release(info(List.of(), new byte[0])));
    }
  }

  @Test
  void aReaderReleasesOnceWhetherItEndsOrIsClosed() throws IOException {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (BufferAllocator allocator = new RootAllocator()) {
      Location nowhere = Location.forGrpcInsecure("127.0.0.1", 1);
      FlightInfo noPartitions = info(List.of(), new byte[0]);

      AtomicInteger releases = new AtomicInteger();
      ResultReader read =
          new ResultReader(allocator, noPartitions, nowhere, "x", pool, releases::incrementAndGet);
      assertEquals(0, releases.get(), "opening does not release");
      assertFalse(read.loadNextBatch());
      assertEquals(1, releases.get(), "released at the end of the stream");
      assertFalse(read.loadNextBatch());
      read.close();
      read.close();
      assertEquals(1, releases.get(), "released once");

      AtomicInteger closedReleases = new AtomicInteger();
      ResultReader closed =
          new ResultReader(
              allocator, noPartitions, nowhere, "x", pool, closedReleases::incrementAndGet);
      closed.close();
      assertEquals(1, closedReleases.get(), "released when closed before the end");
    } finally {
      pool.shutdownNow();
    }
  }
}
