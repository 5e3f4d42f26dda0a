package dev.ballista.client.it;

import dev.ballista.client.Ballista;
import dev.ballista.client.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** TPC-H on an embedded cluster (scheduler and 2 executors in this JVM, through JNI). */
class EmbeddedTpchTest extends TpchTestBase {
  private Session session;

  @BeforeAll
  void start() {
    session = Ballista.standalone(2);
    registerTpch(session);
  }

  @AfterAll
  void stop() {
    session.close();
  }

  @Override
  Session session() {
    return session;
  }
}
