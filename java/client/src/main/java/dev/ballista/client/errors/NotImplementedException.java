package dev.ballista.client.errors;

/** The cluster does not implement what the query asks for. */
public class NotImplementedException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public NotImplementedException(String message, Throwable cause) {
    super(ErrorKind.NOT_IMPLEMENTED, message, cause);
  }
}
