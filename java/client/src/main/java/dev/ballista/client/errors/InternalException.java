package dev.ballista.client.errors;

/** A bug or an unexpected state in the client or the cluster; the message says where. */
public class InternalException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public InternalException(String message, Throwable cause) {
    super(ErrorKind.INTERNAL, message, cause);
  }
}
