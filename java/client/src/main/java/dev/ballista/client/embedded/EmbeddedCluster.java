package dev.ballista.client.embedded;

import dev.ballista.client.errors.Errors;
import dev.ballista.client.errors.NativeException;

/**
 * A Ballista cluster inside this JVM: the Rust scheduler and executors of {@code ballista
 * standalone}, started through JNI, each serving Arrow Flight on its own loopback port. Nothing
 * is short-circuited: the client talks Flight to it exactly as to a remote cluster. Closing it
 * stops the servers and removes the executors' work directories.
 */
public final class EmbeddedCluster implements AutoCloseable {
  private final long id;
  private final String url;
  private boolean closed;

  private EmbeddedCluster(long id, String url) {
    this.id = id;
    this.url = url;
  }

  /**
   * Starts a scheduler and {@code executors} executors and waits until all have registered.
   *
   * @param executors executors to start (at least 1)
   * @param slotsPerExecutor task slots of each, or 0 to share the machine's cores among them
   * @return the running cluster
   */
  public static EmbeddedCluster start(int executors, int slotsPerExecutor) {
    NativeLibrary.load();
    long id;
    try {
      id = NativeCluster.start(executors, slotsPerExecutor);
    } catch (NativeException e) {
      throw Errors.fromNative(e);
    }
    try {
      return new EmbeddedCluster(id, NativeCluster.schedulerUrl(id));
    } catch (NativeException e) {
      NativeCluster.stop(id);
      throw Errors.fromNative(e);
    }
  }

  /** @return the scheduler's URL, {@code grpc://127.0.0.1:PORT} */
  public String schedulerUrl() {
    return url;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      NativeCluster.stop(id);
    } catch (NativeException e) {
      throw Errors.fromNative(e);
    }
  }
}
