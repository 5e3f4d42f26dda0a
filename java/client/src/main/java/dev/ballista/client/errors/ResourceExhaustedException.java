package dev.ballista.client.errors;

/** The cluster ran out of memory, disk or task slots for the query. */
public class ResourceExhaustedException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public ResourceExhaustedException(String message, Throwable cause) {
    super(ErrorKind.RESOURCE_EXHAUSTED, message, cause);
  }
}
