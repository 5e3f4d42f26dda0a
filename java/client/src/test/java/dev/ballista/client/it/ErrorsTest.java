package dev.ballista.client.it;

import static dev.ballista.client.expr.Functions.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.client.Ballista;
import dev.ballista.client.DataFrame;
import dev.ballista.client.Session;
import dev.ballista.client.errors.BallistaException;
import dev.ballista.client.errors.ErrorKind;
import dev.ballista.client.errors.InvalidQueryException;
import dev.ballista.client.errors.NotFoundException;
import dev.ballista.client.errors.UnavailableException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bad input gives a clear exception of the right class, naming what was wrong, on a real
 * (embedded) cluster; and the session keeps working afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorsTest {
  private Session session;

  @BeforeAll
  void start() {
    session = Ballista.standalone(2);
    session.registerParquet("nation", TestSupport.tpchData().resolve("nation").toString());
  }

  @AfterAll
  void stop() {
    session.close();
  }

  private static void assertMentions(BallistaException e, String what) {
    assertTrue(
        e.getMessage().toLowerCase().contains(what.toLowerCase()),
        "the message should name `" + what + "`: " + e.getMessage());
  }

  private void stillWorks() {
    assertEquals(25, session.table("nation").count());
  }

  @Test
  void badSql() {
    InvalidQueryException e =
        assertThrows(InvalidQueryException.class, () -> session.sql("SELEC n_name FROM nation").collect());
    assertEquals(ErrorKind.INVALID_QUERY, e.kind());
    assertMentions(e, "SELEC");
    stillWorks();
  }

  @Test
  void unknownColumn() {
    InvalidQueryException e =
        assertThrows(
            InvalidQueryException.class,
            () -> session.table("nation").select(col("no_such_column")).collect());
    assertMentions(e, "no_such_column");
    InvalidQueryException inSql =
        assertThrows(
            InvalidQueryException.class,
            () -> session.sql("SELECT no_such_column FROM nation").collect());
    assertMentions(inSql, "no_such_column");
    stillWorks();
  }

  @Test
  void unknownTable() {
    // The scheduler reports it as a bad plan, listing the tables there are.
    InvalidQueryException e =
        assertThrows(InvalidQueryException.class, () -> session.table("no_such_table").collect());
    assertMentions(e, "no_such_table");
    assertMentions(e, "nation");
    stillWorks();
  }

  @Test
  void missingFile() throws IOException {
    Path dir = Files.createTempDirectory("ballista-java-missing");
    try {
      // Reading a path that does not exist fails at planning (the scheduler cannot infer a
      // schema from nothing; it reports that as a bad plan), naming the path.
      String missing = dir.resolve("no_such_file.parquet").toString();
      BallistaException e =
          assertThrows(BallistaException.class, () -> session.readParquet(missing).collect());
      assertTrue(
          e instanceof NotFoundException || e instanceof InvalidQueryException, e.toString());
      assertMentions(e, "no_such_file.parquet");

      // A registered table whose files were deleted since: NOT_FOUND, naming the file.
      Path table = Files.createDirectory(dir.resolve("doomed"));
      try (var files = Files.list(TestSupport.tpchData().resolve("nation"))) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, table.resolve(f.getFileName()));
        }
      }
      session.registerParquet("doomed", table.toString());
      assertEquals(25, session.table("doomed").count());
      try (var files = Files.list(table)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.delete(f);
        }
      }
      NotFoundException gone =
          assertThrows(NotFoundException.class, () -> session.table("doomed").collect());
      assertEquals(ErrorKind.NOT_FOUND, gone.kind());
      assertMentions(gone, "doomed");
      session.deregisterTable("doomed");
    } finally {
      TestSupport.deleteTree(dir);
    }
    stillWorks();
  }

  @Test
  void unreachableScheduler() throws IOException {
    int port;
    // A port that was free a moment ago: nothing listens there.
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String url = "grpc://127.0.0.1:" + port;
    UnavailableException e = assertThrows(UnavailableException.class, () -> Ballista.connect(url));
    assertMentions(e, "127.0.0.1:" + port);
  }

  @Test
  void notAFlightUrl() {
    InvalidQueryException e =
        assertThrows(InvalidQueryException.class, () -> Ballista.connect("http://localhost"));
    assertMentions(e, "http://localhost");
  }

  @Test
  void aPlanWithoutSessionSaysHowToRunIt() {
    InvalidQueryException e =
        assertThrows(InvalidQueryException.class, () -> DataFrame.readTable("nation").collect());
    assertMentions(e, "session.dataframe");
    assertEquals(25, session.dataframe(DataFrame.readTable("nation")).count());
  }

  @Test
  void builderMisuse() {
    InvalidQueryException e =
        assertThrows(InvalidQueryException.class, () -> col("x").over(dev.ballista.client.expr.Window.empty()));
    assertMentions(e, "over()");
    assertThrows(
        InvalidQueryException.class,
        () -> session.table("nation").join(session.table("nation"), dev.ballista.client.JoinType.INNER, List.of("a"), List.of()));
  }
}
