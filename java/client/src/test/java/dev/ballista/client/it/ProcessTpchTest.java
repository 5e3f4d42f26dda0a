package dev.ballista.client.it;

import dev.ballista.client.Ballista;
import dev.ballista.client.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * TPC-H on real {@code ballista} processes: {@code ballista scheduler --port 0} and two {@code
 * ballista executor --port 0}, started by the test on loopback.
 */
class ProcessTpchTest extends TpchTestBase {
  private TestSupport.ProcessCluster cluster;
  private Session session;

  @BeforeAll
  void start() {
    cluster = new TestSupport.ProcessCluster(2, 2);
    session = Ballista.connect(cluster.url);
    registerTpch(session);
  }

  @AfterAll
  void stop() {
    try {
      if (session != null) {
        session.close();
      }
    } finally {
      cluster.close();
    }
  }

  @Override
  Session session() {
    return session;
  }
}
