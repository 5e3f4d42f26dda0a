package dev.ballista.client.errors;

/**
 * Every error of the Ballista client. Unchecked, as in Spark and Arrow Java: a failed query is
 * reported where it is run ({@code collect()}, {@code count()}, ...). Catch a subclass for one
 * kind of failure, or this class and look at {@link #kind()}.
 */
public class BallistaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  /**
   * An error of the given kind.
   *
   * @param kind what went wrong
   * @param message says what was wrong, naming it (the table, the column, the server)
   * @param cause the underlying exception, or null
   */
  public BallistaException(ErrorKind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /**
   * What went wrong.
   *
   * @return the kind of the error
   */
  public ErrorKind kind() {
    return kind;
  }
}
