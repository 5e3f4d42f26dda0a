package dev.ballista.client.errors;

/** What went wrong, independent of how it travelled (a gRPC status, a native call). */
public enum ErrorKind {
  /** The query is wrong: bad SQL, an unknown column or function, a type error, a bad plan. */
  INVALID_QUERY,
  /** Something named does not exist: a table, a file, a job. */
  NOT_FOUND,
  /** A server cannot be reached, or went away during the query. */
  UNAVAILABLE,
  /** The cluster ran out of memory, disk or slots for the query. */
  RESOURCE_EXHAUSTED,
  /** The cluster does not implement what was asked. */
  NOT_IMPLEMENTED,
  /** The query was cancelled. */
  CANCELLED,
  /** A call exceeded its deadline. */
  TIMED_OUT,
  /** A bug or an unexpected state, in the client or the cluster. */
  INTERNAL
}
