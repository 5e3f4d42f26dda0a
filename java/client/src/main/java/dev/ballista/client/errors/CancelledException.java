package dev.ballista.client.errors;

/** The query was cancelled. */
public class CancelledException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public CancelledException(String message, Throwable cause) {
    super(ErrorKind.CANCELLED, message, cause);
  }
}
