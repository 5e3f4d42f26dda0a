package dev.ballista.client.errors;

/** A call exceeded its deadline. */
public class TimedOutException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public TimedOutException(String message, Throwable cause) {
    super(ErrorKind.TIMED_OUT, message, cause);
  }
}
