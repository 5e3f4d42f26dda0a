package dev.ballista.spark;

import dev.ballista.client.Ballista;
import dev.ballista.client.Session;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What every test of this JVM shares, started once (Spark and the cluster are slow to start): a
 * real Ballista cluster of {@code ballista} processes on loopback (a scheduler and 2 executors,
 * started from {@code $CARGO_TARGET_DIR/debug/ballista} with {@code --port 0}), TPC-H SF 0.01
 * registered in its catalog, and one Spark {@code local[2]} session. Stopped by a shutdown hook.
 */
public final class Shared {
  private Shared() {}

  /** The eight TPC-H tables. */
  public static final List<String> TPCH_TABLES =
      List.of("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier");

  private static String url;
  private static SparkSession spark;
  private static Session ballista;
  private static Path tpch;
  private static final List<Process> PROCESSES = new ArrayList<>();
  private static final List<Path> WORK_DIRS = new ArrayList<>();

  /** @return the repository root */
  public static Path repoRoot() {
    String root = System.getProperty("ballista.root");
    return (root == null ? Path.of("") : Path.of(root)).toAbsolutePath().normalize();
  }

  /** @return {@code $CARGO_TARGET_DIR}, else the repository's {@code target/} */
  public static Path cargoTargetDir() {
    String dir = System.getenv("CARGO_TARGET_DIR");
    return dir == null || dir.isEmpty() ? repoRoot().resolve("target") : Path.of(dir);
  }

  /** @return the {@code ballista} binary (`make test-spark` builds it) */
  public static Path ballistaBin() {
    Path bin = cargoTargetDir().resolve("debug/ballista");
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(bin + " is missing: build it with `cargo build -p ballista-cli`");
    }
    return bin;
  }

  /** @return TPC-H SF 0.01, generated once into the cargo target directory */
  public static synchronized Path tpch() {
    if (tpch == null) {
      Path dir = cargoTargetDir().resolve("tpch-data/sf0.01-p2");
      run(ballistaBin().toString(), "gen", "tpch", "--sf", "0.01", "--parts", "2", "--out", dir.toString());
      tpch = dir;
    }
    return tpch;
  }

  /** @return the scheduler's URL; starts the cluster and registers TPC-H on first use */
  public static synchronized String url() {
    if (url == null) {
      Path data = tpch();
      int port = spawn("scheduler", "scheduler", "--port", "0");
      String u = "grpc://127.0.0.1:" + port;
      for (int i = 0; i < 2; i++) {
        try {
          Path work = Files.createTempDirectory("ballista-spark-executor");
          WORK_DIRS.add(work);
          spawn("executor-" + i, "executor", "--scheduler", u, "--port", "0", "--slots", "2",
              "--work-dir", work.toString());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      ballista = Ballista.connect(u);
      for (String t : TPCH_TABLES) {
        ballista.registerParquet(t, data.resolve(t).toString());
      }
      url = u;
    }
    return url;
  }

  /** @return the executors' work directories ({@code --work-dir}); a job writes in {@code <dir>/<job id>} */
  public static synchronized List<Path> workDirs() {
    url();
    return List.copyOf(WORK_DIRS);
  }

  /** @return a client session on the cluster (Ballista's own answers) */
  public static synchronized Session ballista() {
    url();
    return ballista;
  }

  /** @return the shared Spark session */
  public static synchronized SparkSession spark() {
    if (spark == null) {
      spark =
          SparkSession.builder()
              .master("local[2]")
              .appName("ballista-spark-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.sql.session.timeZone", "UTC")
              .getOrCreate();
      spark.sparkContext().setLogLevel("WARN");
    }
    return spark;
  }

  /**
   * @param table a TPC-H table
   * @return it read through the connector
   */
  public static Dataset<Row> ballistaTable(String table) {
    return spark().read().format("ballista").option("url", url()).option("table", table).load();
  }

  /**
   * @param table a TPC-H table
   * @return the same Parquet files read by Spark itself
   */
  public static Dataset<Row> parquetTable(String table) {
    return spark().read().parquet(tpch().resolve(table).toString());
  }

  /**
   * Rows as sorted strings, cells joined by {@code |}: floats with 6 significant digits, decimals
   * plain, NULL as {@code NULL}.
   *
   * @param rows Spark rows
   * @return canonical rows
   */
  public static List<String> canonical(List<Row> rows) {
    List<String> out = new ArrayList<>();
    for (Row r : rows) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < r.length(); i++) {
        cells.add(cell(r.get(i)));
      }
      out.add(String.join("|", cells));
    }
    Collections.sort(out);
    return out;
  }

  /**
   * @param rows the Java client's rows
   * @return canonical rows (the same form as {@link #canonical(List)})
   */
  public static List<String> canonicalClient(List<dev.ballista.client.Row> rows) {
    List<String> out = new ArrayList<>();
    for (dev.ballista.client.Row r : rows) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        cells.add(cell(r.get(i)));
      }
      out.add(String.join("|", cells));
    }
    Collections.sort(out);
    return out;
  }

  /** @param v a cell @return its canonical text */
  public static String cell(Object v) {
    if (v == null) {
      return "NULL";
    } else if (v instanceof Double || v instanceof Float) {
      return String.format(Locale.ROOT, "%.5e", ((Number) v).doubleValue());
    } else if (v instanceof BigDecimal) {
      return ((BigDecimal) v).toPlainString();
    }
    return v.toString();
  }

  /**
   * The statements of TPC-H query {@code n} from the shared reference queries ({@code
   * ../shared/tpch/queries}), {@code --} comments dropped.
   *
   * @param n 1..22
   * @return the statements
   */
  public static List<String> tpchQuery(int n) {
    Path dir = repoRoot().resolve("../shared/tpch/queries").normalize();
    String text;
    try {
      text = Files.readString(dir.resolve("q" + n + ".sql"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read TPC-H query " + n + " from " + dir, e);
    }
    List<String> out = new ArrayList<>();
    for (String part : text.split(";")) {
      StringBuilder s = new StringBuilder();
      for (String line : part.split("\n")) {
        if (!line.strip().startsWith("--")) {
          s.append(line).append('\n');
        }
      }
      if (!s.toString().isBlank()) {
        out.add(s.toString().strip());
      }
    }
    return out;
  }

  private static void run(String... command) {
    try {
      Process p = new ProcessBuilder(command).inheritIO().start();
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts {@code ballista <args>} and returns the port of its {@code listening on} line. */
  private static int spawn(String name, String... args) {
    List<String> command = new ArrayList<>();
    command.add(ballistaBin().toString());
    command.addAll(List.of(args));
    Process p;
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
      pb.environment().putIfAbsent("RUST_LOG", "warn");
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
    synchronized (PROCESSES) {
      if (PROCESSES.isEmpty()) {
        Runtime.getRuntime().addShutdownHook(new Thread(Shared::stopAll, "ballista-stop"));
      }
      PROCESSES.add(p);
    }
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread drain =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (!port.isDone() && line.startsWith("listening on ")) {
                    String addr = line.substring("listening on ".length()).strip();
                    port.complete(Integer.parseInt(addr.substring(addr.lastIndexOf(':') + 1)));
                  }
                }
              } catch (IOException | RuntimeException e) {
                port.completeExceptionally(e);
              }
              port.completeExceptionally(new IllegalStateException(name + " exited"));
            },
            "drain-" + name);
    drain.setDaemon(true);
    drain.start();
    try {
      return port.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not print `listening on IP:PORT`: " + e, e);
    }
  }

  /**
   * The shutdown hook: stops the cluster and deletes the executors' work directories. A JVM
   * shutdown hook rather than an {@code @AfterAll}: the cluster is shared by every test class of
   * the JVM (surefire's, and failsafe's for the PySpark example), so only the JVM's end is the
   * end of its use. Each step runs even if the one before failed (a session closed with memory
   * still allocated throws), so that no process and no directory outlives the run.
   */
  private static void stopAll() {
    try {
      if (ballista != null) {
        ballista.close();
      }
    } catch (RuntimeException e) {
      System.err.println("[ballista] closing the test session failed: " + e);
    }
    List<Process> all;
    synchronized (PROCESSES) {
      all = new ArrayList<>(PROCESSES);
    }
    Collections.reverse(all);
    for (Process p : all) {
      p.destroy();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          // Waited for too: an executor still running could write into its directory again.
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Path dir : WORK_DIRS) {
      deleteTree(dir);
    }
  }

  /**
   * Deletes {@code dir} and everything in it. Reported, not thrown, if it cannot: the run's result
   * does not depend on it.
   */
  static void deleteTree(Path dir) {
    for (int attempt = 0; attempt < 2 && Files.exists(dir); attempt++) {
      try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        // An entry vanished during the walk (Files.walk reports it unchecked): walk again.
      }
    }
    if (Files.exists(dir)) {
      System.err.println("[ballista] could not delete " + dir);
    }
  }
}
