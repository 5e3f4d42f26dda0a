package dev.ballista.client.embedded;

/**
 * The JNI functions of {@code rust/ballista-jni/src/cluster.rs}. Use {@link EmbeddedCluster}.
 * Failures are thrown as {@link dev.ballista.client.errors.NativeException}.
 */
final class NativeCluster {
  private NativeCluster() {}

  /** Starts a scheduler and executors on loopback; returns the cluster's id. */
  static native long start(int executors, int slotsPerExecutor);

  /** The scheduler URL of a running cluster. */
  static native String schedulerUrl(long id);

  /** Stops a cluster; a second call is a no-op. */
  static native void stop(long id);
}
