package dev.ballista.client.embedded;

/**
 * Test support: single-process DataFusion, from the native library ({@code
 * rust/ballista-jni/src/reference.rs}), for the reference answers that cluster results are
 * compared with. The JVM has no DataFusion of its own; the answer comes back as an Arrow IPC
 * stream that Arrow Java reads, so both sides are compared by the same Java code.
 */
public final class NativeReference {
  private NativeReference() {}

  /**
   * Runs SQL on a fresh DataFusion session (2 target partitions) where every subdirectory of
   * {@code tablesDir} is a Parquet table of that name.
   *
   * @param tablesDir a directory of table directories
   * @param statements run in order (TPC-H Q15 has three)
   * @return the rows of the last statement, as an Arrow IPC stream
   */
  public static byte[] sql(String tablesDir, String... statements) {
    NativeLibrary.load();
    return runSql(tablesDir, statements);
  }

  private static native byte[] runSql(String tablesDir, String[] statements);
}
