package dev.ballista.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The PySpark example ({@code spark-connector/examples/ballista_pyspark.py}) with the shaded
 * {@code -all.jar} and the pip {@code pyspark} of the repository's {@code .venv}, against the
 * test cluster: proves the relocated jar loads in a plain Spark distribution and that Spark's own
 * Arrow receives the batches.
 */
class PySparkExampleIT {
  @Test
  void pysparkExampleRunsWithTheShadedJar() throws IOException, InterruptedException {
    Path python = Shared.repoRoot().resolve(".venv/bin/python");
    assertTrue(Files.isExecutable(python), python + " is missing: `make test-spark` creates it");
    Path jar = Path.of(System.getProperty("ballista.spark.jar"));
    assertTrue(Files.isRegularFile(jar), jar + " is missing");
    // Nothing of Arrow, Netty, gRPC or protobuf stays unrelocated in the shaded jar.
    try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
      List<String> clashing =
          j.stream()
              .map(java.util.jar.JarEntry::getName)
              .filter(n -> n.endsWith(".class"))
              .filter(
                  n ->
                      n.startsWith("org/apache/arrow/")
                          || n.startsWith("io/netty/")
                          || n.startsWith("io/grpc/")
                          || n.startsWith("com/google/")
                          || n.startsWith("com/fasterxml/"))
              .toList();
      assertTrue(clashing.isEmpty(), "unrelocated classes in the shaded jar: " + clashing);
      assertTrue(
          j.getEntry("dev/ballista/spark/shaded/org/apache/arrow/flight/FlightClient.class") != null);
      assertTrue(
          j.getEntry("META-INF/services/org.apache.spark.sql.sources.DataSourceRegister") != null);
    }
    ProcessBuilder pb =
        new ProcessBuilder(
                python.toString(),
                Shared.repoRoot().resolve("spark-connector/examples/ballista_pyspark.py").toString(),
                "--url",
                Shared.url(),
                "--jar",
                jar.toString(),
                "--parquet",
                Shared.tpch().toString())
            .redirectErrorStream(true);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the example finished");
    String text = new String(out, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, p.exitValue(), text);
    assertTrue(text.contains("ANSWERS OK"), text);
    assertTrue(text.contains("PushedFilters: [n_regionkey = 1"), text);
    assertTrue(text.contains("PushedAggregation: [COUNT(1), SUM(l_quantity)]")
        || text.contains("PushedAggregation: [COUNT"), text);
  }
}
