package dev.ballista.client.errors;

/**
 * What the native library (the embedded cluster) throws; {@link Errors#fromNative} turns it into
 * the specific exception by the kind its message starts with. Users never see this class.
 */
public final class NativeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Created by the native library through JNI.
   *
   * @param message the Rust error's text, e.g. {@code "Not found: ..."}
   */
  public NativeException(String message) {
    super(message);
  }
}
