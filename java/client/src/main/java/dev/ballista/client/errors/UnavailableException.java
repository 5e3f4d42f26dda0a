package dev.ballista.client.errors;

/** A scheduler or executor cannot be reached, or went away during the query. */
public class UnavailableException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public UnavailableException(String message, Throwable cause) {
    super(ErrorKind.UNAVAILABLE, message, cause);
  }
}
