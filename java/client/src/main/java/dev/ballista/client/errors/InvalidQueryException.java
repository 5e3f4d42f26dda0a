package dev.ballista.client.errors;

/** The query is wrong: bad SQL, an unknown column, table-less name or function, a type error or a malformed plan. */
public class InvalidQueryException extends BallistaException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was wrong
   * @param cause the underlying exception, or null
   */
  public InvalidQueryException(String message, Throwable cause) {
    super(ErrorKind.INVALID_QUERY, message, cause);
  }
}
