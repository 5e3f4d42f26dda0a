package dev.ballista.client.errors;

import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;

/**
 * The one place where failures become {@link BallistaException}s: Flight (gRPC) statuses, errors
 * of the native library, and everything else the client catches.
 *
 * <p>Status codes follow {@code proto/ballista/v1/flight.proto}: INVALID_ARGUMENT (bad plan or
 * SQL) is {@link InvalidQueryException}, NOT_FOUND {@link NotFoundException}, UNAVAILABLE {@link
 * UnavailableException}, RESOURCE_EXHAUSTED {@link ResourceExhaustedException}, UNIMPLEMENTED
 * {@link NotImplementedException}, CANCELLED {@link CancelledException}, TIMED_OUT {@link
 * TimedOutException}, and the rest {@link InternalException}.
 */
public final class Errors {
  private Errors() {}

  /**
   * Maps a failed Flight call.
   *
   * @param e the exception Arrow Flight threw
   * @param peer the server called (its URL), named in the message where the failure is about
   *     reaching it
   * @return the exception to throw
   */
  public static BallistaException fromFlight(FlightRuntimeException e, String peer) {
    CallStatus status = e.status();
    String description = status.description();
    if (description == null || description.isEmpty()) {
      description = e.getMessage() == null ? status.code().toString() : e.getMessage();
    }
    FlightStatusCode code = status.code();
    switch (code) {
      case INVALID_ARGUMENT:
        return new InvalidQueryException(description, e);
      case NOT_FOUND:
        return new NotFoundException(description, e);
      case UNAVAILABLE:
        return new UnavailableException("cannot reach " + peer + ": " + description, e);
      case RESOURCE_EXHAUSTED:
        return new ResourceExhaustedException(description, e);
      case UNIMPLEMENTED:
        return new NotImplementedException(description, e);
      case CANCELLED:
        return new CancelledException(description, e);
      case TIMED_OUT:
        return new TimedOutException(peer + " did not answer in time: " + description, e);
      default:
        return new InternalException(code + " from " + peer + ": " + description, e);
    }
  }

  /**
   * Maps an error of the native library by the kind its message starts with (the texts of the
   * Rust {@code BallistaError}).
   *
   * @param e what the native library threw
   * @return the exception to throw
   */
  public static BallistaException fromNative(NativeException e) {
    String m = e.getMessage() == null ? "native call failed" : e.getMessage();
    if (m.startsWith("Invalid argument") || m.startsWith("Plan error")) {
      return new InvalidQueryException(m, e);
    } else if (m.startsWith("Not found")) {
      return new NotFoundException(m, e);
    } else if (m.startsWith("Unavailable")) {
      return new UnavailableException(m, e);
    } else if (m.startsWith("Resources exhausted")) {
      return new ResourceExhaustedException(m, e);
    } else if (m.startsWith("Not implemented")) {
      return new NotImplementedException(m, e);
    } else if (m.startsWith("Cancelled")) {
      return new CancelledException(m, e);
    }
    return new InternalException(m, e);
  }

  /**
   * Maps any other failure: Ballista and Flight exceptions as above, interruption as {@link
   * CancelledException}, the rest as {@link InternalException}.
   *
   * @param e the failure
   * @param peer the server involved, for the message
   * @return the exception to throw
   */
  public static BallistaException from(Throwable e, String peer) {
    Throwable t = e;
    // Unwrap the wrappers of java.util.concurrent.
    while ((t instanceof java.util.concurrent.ExecutionException
            || t instanceof java.util.concurrent.CompletionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof BallistaException) {
      return (BallistaException) t;
    } else if (t instanceof FlightRuntimeException) {
      return fromFlight((FlightRuntimeException) t, peer);
    } else if (t instanceof NativeException) {
      return fromNative((NativeException) t);
    } else if (t instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return new CancelledException("interrupted while waiting for " + peer, t);
    }
    return new InternalException(t.toString(), t);
  }
}
