package dev.ballista.spark.read;

import dev.ballista.spark.BallistaOptions;
import dev.ballista.spark.ClusterClient;
import java.lang.ref.Cleaner;

/**
 * Keeps a scan's Ballista job's results on the executors for as long as the driver can still read
 * them, and releases them ({@code release_job}) after that: when the lease's token has been
 * garbage collected.
 *
 * <p>Why garbage collection: Spark's DataSource V2 tells a batch scan nothing when it is done (a
 * {@code Batch} has no close), and a scan's partitions are read again long after its first job:
 * a task retry, a second action on the same {@code DataFrame} (its physical plan, and so this
 * scan and its partitions, are kept and re-run), a cached {@code DataFrame} recomputing an evicted
 * block. Every such read starts from the driver-side {@link BallistaInputPartition}s, which hold
 * the token; once none can be reached (the {@code DataFrame}, its plans and RDDs are gone), no
 * read can happen and the results can go. Spark cleans its own shuffle files the same way ({@code
 * ContextCleaner}). Releasing per partition is impossible ({@code release_job} deletes the whole
 * job, which other tasks may still be reading), and releasing at the end of a Spark job would
 * break re-running the same {@code DataFrame}.
 *
 * <p>The cost: the release waits for a garbage collection of the driver, so it may come late; the
 * job's TTL (30 minutes by default) remains the upper bound.
 */
final class JobLease {
  /** One daemon thread for the releases of the whole JVM. */
  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "ballista-release");
            t.setDaemon(true);
            return t;
          });

  private JobLease() {}

  /**
   * Leases job {@code jobId}'s results.
   *
   * @param options the scan's options (the scheduler to ask, the call headers)
   * @param jobId the job
   * @return the token: the results are released once it is unreachable
   */
  static Object hold(BallistaOptions options, String jobId) {
    Object token = new Object();
    CLEANER.register(token, new Release(options, jobId));
    return token;
  }

  /** The release, run by the cleaner; it must not refer to the token (it would never go). */
  private static final class Release implements Runnable {
    private final BallistaOptions options;
    private final String jobId;

    Release(BallistaOptions options, String jobId) {
      this.options = options;
      this.jobId = jobId;
    }

    @Override
    public void run() {
      try (ClusterClient client = new ClusterClient(options)) {
        client.release(jobId);
      } catch (RuntimeException e) {
        // Best effort, as ClusterClient.release: the TTL still removes the results. An exception
        // here would only be printed by the cleaner thread.
      }
    }
  }
}
