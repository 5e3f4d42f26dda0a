package dev.ballista.client.it;

import dev.ballista.client.Row;
import dev.ballista.client.embedded.NativeReference;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
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
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;

/**
 * Test support: where things are (repository, cargo's target directory, the {@code ballista}
 * binary, TPC-H data and queries), real clusters of {@code ballista} processes, and a canonical
 * form of result rows.
 */
public final class TestSupport {
  private TestSupport() {}

  /** @return the repository root (surefire passes it; the working directory otherwise) */
  public static Path repoRoot() {
    String root = System.getProperty("ballista.root");
    return (root == null ? Path.of("") : Path.of(root)).toAbsolutePath().normalize();
  }

  /** @return {@code $CARGO_TARGET_DIR}, else the repository's {@code target/} */
  public static Path cargoTargetDir() {
    String dir = System.getenv("CARGO_TARGET_DIR");
    return dir == null || dir.isEmpty() ? repoRoot().resolve("target") : Path.of(dir);
  }

  /** @return the {@code ballista} binary built by cargo */
  public static Path ballistaBin() {
    Path bin = cargoTargetDir().resolve("debug/ballista");
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          bin + " is missing: build it with `cargo build -p ballista-cli` (make test-java does)");
    }
    return bin;
  }

  /**
   * TPC-H at scale factor 0.01, generated once by {@code ballista gen tpch} into the cargo target
   * directory (the same data set the Rust tests use) and reused across runs and clones.
   *
   * @return the directory of the eight table directories
   */
  public static synchronized Path tpchData() {
    if (tpch != null) {
      return tpch;
    }
    Path dir = cargoTargetDir().resolve("tpch-data/sf0.01-p2");
    run(
        ballistaBin().toString(),
        "gen",
        "tpch",
        "--sf",
        "0.01",
        "--parts",
        "2",
        "--out",
        dir.toString());
    tpch = dir;
    return dir;
  }

  private static Path tpch;

  /** The eight TPC-H tables. */
  public static final List<String> TPCH_TABLES =
      List.of("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier");

  /**
   * The statements of TPC-H query {@code n} from the shared reference queries ({@code
   * BALLISTA_TPCH_QUERIES}, else {@code ../shared/tpch/queries} beside the repository), split on
   * {@code ;} with {@code --} comment lines dropped (Q15 has three statements).
   *
   * @param n 1..22
   * @return the statements
   */
  public static List<String> tpchQuery(int n) {
    String env = System.getenv("BALLISTA_TPCH_QUERIES");
    Path dir =
        env != null && !env.isEmpty()
            ? Path.of(env)
            : repoRoot().resolve("../shared/tpch/queries").normalize();
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
        out.add(s.toString());
      }
    }
    return out;
  }

  /** @param sql a statement @return whether it returns rows (not DDL) */
  public static boolean isQuery(String sql) {
    String head = sql.strip().toLowerCase(Locale.ROOT);
    return head.startsWith("select") || head.startsWith("with");
  }

  private static void run(String... command) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
      pb.environment().putIfAbsent("RUST_LOG", "warn");
      Process p = pb.start();
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

  /**
   * DataFusion's answer (single process, through the native library) as canonical rows.
   *
   * @param allocator for reading the IPC stream
   * @param tablesDir the tables
   * @param statements the query (last statement's rows are returned)
   * @param ordered keep the rows' order (the query orders them)
   * @return canonical rows
   */
  public static List<String> referenceRows(
      BufferAllocator allocator, Path tablesDir, List<String> statements, boolean ordered) {
    byte[] ipc = NativeReference.sql(tablesDir.toString(), statements.toArray(new String[0]));
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(ipc), allocator)) {
      return canonicalRows(reader, ordered);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Rows as strings, cells joined by {@code |}; floats printed with 6 significant digits (sums
   * added in a different order compare equal), NULL as {@code NULL}. Both the cluster's and
   * DataFusion's answers go through this same code.
   *
   * @param reader the batches
   * @param ordered keep the rows' order; otherwise they are sorted
   * @return the rows
   * @throws IOException if reading fails
   */
  public static List<String> canonicalRows(ArrowReader reader, boolean ordered) throws IOException {
    List<String> rows = new ArrayList<>();
    while (reader.loadNextBatch()) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      for (int i = 0; i < root.getRowCount(); i++) {
        List<String> cells = new ArrayList<>();
        for (FieldVector v : root.getFieldVectors()) {
          cells.add(cell(Row.value(v, i)));
        }
        rows.add(String.join("|", cells));
      }
    }
    if (!ordered) {
      Collections.sort(rows);
    }
    return rows;
  }

  private static String cell(Object v) {
    if (v == null) {
      return "NULL";
    } else if (v instanceof Double || v instanceof Float) {
      return String.format(Locale.ROOT, "%.5e", ((Number) v).doubleValue());
    } else if (v instanceof BigDecimal) {
      return ((BigDecimal) v).toPlainString();
    }
    return v.toString();
  }

  /** A {@code ballista} server process, killed when closed. */
  public static final class Server implements AutoCloseable {
    /** The process. */
    public final Process process;
    /** The port it listens on. */
    public final int port;

    Server(Process process, int port) {
      this.process = process;
      this.port = port;
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Starts {@code ballista <args>} and waits (up to 30 s) for {@code listening on IP:PORT} on its
   * standard output; the rest of its output goes to the test's.
   *
   * @param name for messages
   * @param args the arguments
   * @return the running server
   */
  public static Server spawn(String name, String... args) {
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
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread drain =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (!port.isDone() && line.startsWith("listening on ")) {
                    String addr = line.substring("listening on ".length()).strip();
                    port.complete(Integer.parseInt(addr.substring(addr.lastIndexOf(':') + 1)));
                  } else {
                    System.err.println("[" + name + "] " + line);
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
      return new Server(p, port.get(30, TimeUnit.SECONDS));
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not print `listening on IP:PORT`: " + e, e);
    }
  }

  /** A scheduler and executors as separate {@code ballista} processes on loopback. */
  public static final class ProcessCluster implements AutoCloseable {
    /** The scheduler's URL. */
    public final String url;
    private final List<Server> servers = new ArrayList<>();
    private final List<Path> workDirs = new ArrayList<>();

    /**
     * Starts {@code ballista scheduler --port 0} and {@code executors} × {@code ballista executor
     * --port 0}.
     *
     * @param executors executors
     * @param slots task slots per executor
     */
    public ProcessCluster(int executors, int slots) {
      Server scheduler = spawn("scheduler", "scheduler", "--port", "0");
      servers.add(scheduler);
      url = "grpc://127.0.0.1:" + scheduler.port;
      try {
        for (int i = 0; i < executors; i++) {
          Path work = Files.createTempDirectory("ballista-java-executor");
          workDirs.add(work);
          servers.add(
              spawn(
                  "executor-" + i,
                  "executor",
                  "--scheduler",
                  url,
                  "--port",
                  "0",
                  "--slots",
                  String.valueOf(slots),
                  "--work-dir",
                  work.toString()));
        }
      } catch (IOException | RuntimeException e) {
        close();
        throw new IllegalStateException("cannot start the process cluster: " + e, e);
      }
    }

    /** @return the executors' work directories ({@code --work-dir}), where jobs write results */
    public List<Path> workDirs() {
      return List.copyOf(workDirs);
    }

    /** Stops the scheduler (the executors keep running and serving what they hold). */
    public void stopScheduler() {
      servers.get(0).close();
    }

    @Override
    public void close() {
      for (int i = servers.size() - 1; i >= 0; i--) {
        servers.get(i).close();
      }
      for (Path dir : workDirs) {
        deleteTree(dir);
      }
    }
  }

  static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temp directory left behind is not a test failure.
    }
  }
}
