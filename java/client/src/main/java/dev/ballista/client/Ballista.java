package dev.ballista.client;

import dev.ballista.client.embedded.EmbeddedCluster;

/**
 * Where every program starts: a {@link Session} on a remote cluster or on an embedded one.
 *
 * <pre>{@code
 * try (Session session = Ballista.standalone(2)) {
 *   session.registerParquet("trips", "/data/trips/");
 *   session.table("trips").filter(col("fare").gt(lit(5.0))).show();
 * }
 * }</pre>
 */
public final class Ballista {
  private Ballista() {}

  /**
   * Connects to a running scheduler and checks that it answers.
   *
   * @param url {@code grpc://host:port}
   * @return the session; close it when done
   * @throws dev.ballista.client.errors.UnavailableException if nothing answers at {@code url}
   * @throws dev.ballista.client.errors.InvalidQueryException if {@code url} is not a Flight URL
   */
  public static Session connect(String url) {
    Session session = new Session(url, null);
    try {
      session.checkConnection();
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
    return session;
  }

  /**
   * Starts an embedded cluster of two executors in this JVM and connects to it.
   *
   * @return the session; closing it stops the cluster
   */
  public static Session standalone() {
    return standalone(2);
  }

  /**
   * Starts an embedded cluster (a scheduler and {@code executors} executors sharing the
   * machine's cores, on loopback, through the native library) and connects to it.
   *
   * @param executors executors to start
   * @return the session; closing it stops the cluster
   */
  public static Session standalone(int executors) {
    EmbeddedCluster cluster = EmbeddedCluster.start(executors, 0);
    try {
      return new Session(cluster.schedulerUrl(), cluster);
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }
}
