package dev.ballista.client.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.client.Ballista;
import dev.ballista.client.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * No thread or native-memory leak: 100 embedded sessions opened, used for a query and closed.
 * Threads and RSS are read from {@code /proc/self/status} (native threads and memory included)
 * after a warm-up (which loads the library and starts its shared runtime), and again after the
 * 100 cycles; the figures are printed and written to {@code target/leak-report.txt}.
 */
class LeakTest {
  private static final int CYCLES = 100;

  private static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
      }
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
  }

  private static void cycle() {
    try (Session s = Ballista.standalone(2)) {
      assertEquals(3, s.sql("SELECT * FROM (VALUES (1), (2), (3)) AS t(x)").count());
    }
  }

  private static void settle() throws InterruptedException {
    // gRPC releases its shared event loops a second after the last channel closes.
    System.gc();
    Thread.sleep(2500);
    System.gc();
  }

  @Test
  void hundredOpenCloseCyclesLeakNoThreadsOrMemory() throws Exception {
    for (int i = 0; i < 5; i++) {
      cycle();
    }
    settle();
    long rssBefore = status("VmRSS");
    long threadsBefore = status("Threads");
    long start = System.nanoTime();
    for (int i = 0; i < CYCLES; i++) {
      cycle();
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    settle();
    long rssAfter = status("VmRSS");
    long threadsAfter = status("Threads");
    String report =
        String.format(
            "%d embedded open/query/close cycles in %d ms: RSS %d MiB -> %d MiB, threads %d -> %d%n",
            CYCLES, millis, rssBefore / 1024, rssAfter / 1024, threadsBefore, threadsAfter);
    System.out.print(report);
    Files.writeString(Path.of(System.getProperty("ballista.root"), "java/client/target/leak-report.txt"), report);
    // A leak of one thread or 1 MiB per cycle would exceed these bounds.
    assertTrue(threadsAfter <= threadsBefore + 10, report);
    assertTrue(rssAfter - rssBefore < 64 * 1024, report);
  }
}
