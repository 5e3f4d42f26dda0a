package dev.ballista.spark;

import dev.ballista.spark.plan.Source;
import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The data source Spark finds as {@code format("ballista")} (listed in {@code
 * META-INF/services/org.apache.spark.sql.sources.DataSourceRegister}).
 *
 * <pre>{@code
 * spark.read.format("ballista")
 *     .option("url", "grpc://scheduler:50050")
 *     .option("table", "lineitem")          // or "query" (SQL) or "plan" (base64 Relation)
 *     .load()
 * }</pre>
 *
 * <p>The schema is the cluster's (a user-given schema is refused); see {@link BallistaOptions}
 * for every option.
 */
public final class BallistaDataSource implements TableProvider, DataSourceRegister {
  private Map<String, String> lastOptions;
  private Source lastSource;

  /** Made by Spark through the service loader. */
  public BallistaDataSource() {}

  @Override
  public String shortName() {
    return "ballista";
  }

  /** Spark asks for the schema and then for the table with the same options: ask the cluster once. */
  private synchronized Source source(Map<String, String> options) {
    if (lastSource != null && options.equals(lastOptions)) {
      return lastSource;
    }
    BallistaOptions parsed = BallistaOptions.parse(options);
    try (ClusterClient client = new ClusterClient(parsed)) {
      lastSource = Source.of(client, parsed.source());
    }
    lastOptions = Map.copyOf(options);
    return lastSource;
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return source(options.asCaseSensitiveMap()).schema();
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    BallistaOptions parsed = BallistaOptions.parse(properties);
    return new BallistaTable(parsed, source(properties));
  }

  @Override
  public boolean supportsExternalMetadata() {
    return false;
  }
}
