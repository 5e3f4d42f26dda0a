package dev.ballista.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.spark.shaded.org.apache.arrow.flight.CallHeaders;
import dev.ballista.spark.shaded.org.apache.arrow.flight.CallInfo;
import dev.ballista.spark.shaded.org.apache.arrow.flight.CallStatus;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightServer;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightServerMiddleware;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Location;
import dev.ballista.spark.shaded.org.apache.arrow.flight.NoOpFlightProducer;
import dev.ballista.spark.shaded.org.apache.arrow.flight.RequestContext;
import dev.ballista.spark.shaded.org.apache.arrow.memory.BufferAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.memory.RootAllocator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The {@code token} and {@code header.*} options reach the server as Flight call headers.
 *
 * <p>The one test with a stand-in server: Ballista's scheduler does not read call headers yet, so
 * nothing real could show what arrived. The stand-in is a real Flight server on loopback that
 * records the headers of each call and answers every query with UNIMPLEMENTED.
 */
class HeadersTest {
  @Test
  void tokenAndHeadersAreSentWithEveryCall() throws Exception {
    Map<String, String> seen = new ConcurrentHashMap<>();
    FlightServerMiddleware.Factory<FlightServerMiddleware> recorder =
        (CallInfo info, CallHeaders headers, RequestContext context) -> {
          for (String key : headers.keys()) {
            seen.put(key, headers.get(key));
          }
          return new FlightServerMiddleware() {
            @Override
            public void onBeforeSendingHeaders(CallHeaders outgoing) {}

            @Override
            public void onCallCompleted(CallStatus status) {}

            @Override
            public void onCallErrored(Throwable err) {}
          };
        };
    try (BufferAllocator allocator = new RootAllocator();
        FlightServer server =
            FlightServer.builder(
                    allocator, Location.forGrpcInsecure("127.0.0.1", 0), new NoOpFlightProducer())
                .middleware(FlightServerMiddleware.Key.of("recorder"), recorder)
                .build()
                .start()) {
      String url = "grpc://127.0.0.1:" + server.getPort();
      Exception e =
          assertThrows(
              Exception.class,
              () ->
                  Shared.spark()
                      .read()
                      .format("ballista")
                      .option("url", url)
                      .option("table", "nation")
                      .option("token", "s3cret")
                      .option("header.x-tenant", "acme")
                      .load());
      assertTrue(e.getMessage() != null, "the stand-in refuses the query");
      assertEquals("Bearer s3cret", seen.get("authorization"), seen.toString());
      assertEquals("acme", seen.get("x-tenant"), seen.toString());
    }
  }
}
