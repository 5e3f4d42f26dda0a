package dev.ballista.spark;

import dev.ballista.client.DataFrame;
import dev.ballista.proto.v1.Relation;
import dev.ballista.spark.shaded.com.google.protobuf.InvalidProtocolBufferException;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options of {@code spark.read.format("ballista")}, validated once on the driver.
 *
 * <ul>
 *   <li>{@code url} (required): the scheduler, {@code grpc://host:port};
 *   <li>exactly one source: {@code table} (a table of the cluster's catalog), {@code query} (one
 *       SQL statement run by Ballista) or {@code plan} (a canonical plan: base64 of the binary
 *       {@code ballista.v1.Relation}, e.g. {@code df.plan().toByteArray()} of the Java client);
 *   <li>{@code token}: sent with every Flight call as {@code authorization: Bearer <token>};
 *   <li>{@code header.<name>}: sent with every Flight call as header {@code <name>};
 *   <li>{@code setting.<key>}: a session setting sent with the query, e.g. {@code
 *       setting.datafusion.execution.target_partitions}.
 * </ul>
 *
 * <p>Serializable: the reader factory ships the headers to Spark's executors.
 */
public final class BallistaOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The option naming the scheduler. */
  public static final String URL = "url";
  /** The option naming a catalog table. */
  public static final String TABLE = "table";
  /** The option holding SQL text. */
  public static final String QUERY = "query";
  /** The option holding a base64 serialized plan. */
  public static final String PLAN = "plan";
  /** The option holding a bearer token. */
  public static final String TOKEN = "token";
  /** Prefix of options sent as Flight call headers. */
  public static final String HEADER_PREFIX = "header.";
  /** Prefix of options sent as session settings. */
  public static final String SETTING_PREFIX = "setting.";

  private final String url;
  private final String table;
  private final String query;
  private final byte[] plan;
  private final Map<String, String> headers;
  private final Map<String, String> settings;

  private BallistaOptions(
      String url,
      String table,
      String query,
      byte[] plan,
      Map<String, String> headers,
      Map<String, String> settings) {
    this.url = url;
    this.table = table;
    this.query = query;
    this.plan = plan;
    this.headers = headers;
    this.settings = settings;
  }

  /**
   * Validates Spark's options.
   *
   * @param options the options as Spark passes them (keys in any case)
   * @return the options
   * @throws IllegalArgumentException naming the option that is missing or wrong
   */
  public static BallistaOptions parse(Map<String, String> options) {
    Map<String, String> lower = new LinkedHashMap<>();
    Map<String, String> headers = new LinkedHashMap<>();
    Map<String, String> settings = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : options.entrySet()) {
      String key = e.getKey().toLowerCase(Locale.ROOT);
      if (key.startsWith(HEADER_PREFIX)) {
        headers.put(key.substring(HEADER_PREFIX.length()), e.getValue());
      } else if (key.startsWith(SETTING_PREFIX)) {
        settings.put(e.getKey().substring(SETTING_PREFIX.length()), e.getValue());
      } else {
        lower.put(key, e.getValue());
      }
    }
    String url = lower.get(URL);
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "the ballista data source needs option `url` (the scheduler, grpc://host:port)");
    }
    checkUrl(url);
    String table = blankToNull(lower.get(TABLE));
    String query = blankToNull(lower.get(QUERY));
    String planText = blankToNull(lower.get(PLAN));
    int sources = (table != null ? 1 : 0) + (query != null ? 1 : 0) + (planText != null ? 1 : 0);
    if (sources != 1) {
      throw new IllegalArgumentException(
          "the ballista data source needs exactly one of the options `table`, `query` or `plan`"
              + " (got "
              + (sources == 0 ? "none" : sources + " of them")
              + ")");
    }
    byte[] plan = null;
    if (planText != null) {
      try {
        plan = Base64.getDecoder().decode(planText.strip());
        Relation.parseFrom(plan);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "option `plan` is not base64 (it must be the base64 of a binary ballista.v1.Relation): "
                + e.getMessage(),
            e);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalArgumentException(
            "option `plan` does not decode as a ballista.v1.Relation: " + e.getMessage(), e);
      }
    }
    String token = blankToNull(lower.get(TOKEN));
    if (token != null) {
      headers.put("authorization", "Bearer " + token);
    }
    return new BallistaOptions(url, table, query, plan, headers, settings);
  }

  private static void checkUrl(String url) {
    try {
      URI uri = new URI(url);
      if (!List.of("grpc", "grpc+tcp").contains(uri.getScheme())
          || uri.getHost() == null
          || uri.getPort() < 0) {
        throw new IllegalArgumentException(
            "option `url` must be grpc://host:port (the scheduler's address), got `" + url + "`");
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "option `url` must be grpc://host:port (the scheduler's address), got `" + url + "`", e);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** @return the scheduler's URL */
  public String url() {
    return url;
  }

  /** @return Flight call headers (lower-case names), including the token's */
  public Map<String, String> headers() {
    return headers;
  }

  /** @return session settings sent with each query */
  public Map<String, String> settings() {
    return settings;
  }

  /** @return the source the user named, as a plan built with the client's builders */
  public DataFrame source() {
    if (table != null) {
      return DataFrame.readTable(table);
    } else if (query != null) {
      return DataFrame.sql(query);
    }
    try {
      return DataFrame.fromPlan(Relation.parseFrom(plan));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("validated in parse()", e);
    }
  }

  /** @return a short name of the source for Spark's plans: the table, or "query" / "plan" */
  public String sourceName() {
    if (table != null) {
      return table;
    }
    return query != null ? "query" : "plan";
  }

  /** @return the source as shown by explain */
  public String describeSource() {
    if (table != null) {
      return "table=" + table;
    } else if (query != null) {
      String q = query.strip().replaceAll("\\s+", " ");
      return "query=" + (q.length() > 80 ? q.substring(0, 77) + "..." : q);
    }
    return "plan=<" + plan.length + " bytes>";
  }
}
