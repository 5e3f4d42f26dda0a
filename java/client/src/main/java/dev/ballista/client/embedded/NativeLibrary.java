package dev.ballista.client.embedded;

import dev.ballista.client.errors.NotImplementedException;
import dev.ballista.client.errors.UnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libballista_jni.so}, the Rust library of the embedded cluster, once per JVM.
 *
 * <p>The jar carries it as the resource {@value #RESOURCE} (linux-x86_64 only); it is extracted
 * to a temporary file, which is deleted when the JVM exits, and loaded with {@link System#load}.
 * The system property {@code ballista.native.lib} names a library file to load instead (for a
 * library built by hand).
 */
public final class NativeLibrary {
  /** Where the jar keeps the library. */
  public static final String RESOURCE = "/native/linux-x86_64/libballista_jni.so";

  private static boolean loaded;

  private NativeLibrary() {}

  /**
   * Loads the library unless it is loaded already.
   *
   * @throws NotImplementedException on a platform without a packaged library
   * @throws UnavailableException if the library cannot be extracted or loaded
   */
  public static synchronized void load() {
    if (loaded) {
      return;
    }
    String override = System.getProperty("ballista.native.lib");
    if (override != null && !override.isEmpty()) {
      loadFile(Path.of(override));
      loaded = true;
      return;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new NotImplementedException(
          "the embedded cluster is packaged for linux-x86_64 only, this is "
              + os
              + "-"
              + arch
              + ": connect to a cluster with Ballista.connect(\"grpc://host:port\") instead",
          null);
    }
    try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new UnavailableException(
            "this ballista-client jar has no native library ("
                + RESOURCE
                + "): build it with `make test-java` (cargo build -p ballista-jni, then mvn"
                + " package), or set -Dballista.native.lib=/path/to/libballista_jni.so",
            null);
      }
      Path file = Files.createTempFile("libballista_jni", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      loadFile(file);
    } catch (IOException e) {
      throw new UnavailableException("cannot extract the native library: " + e, e);
    }
    loaded = true;
  }

  private static void loadFile(Path file) {
    try {
      System.load(file.toAbsolutePath().toString());
    } catch (UnsatisfiedLinkError e) {
      throw new UnavailableException("cannot load the native library " + file + ": " + e, e);
    }
  }
}
