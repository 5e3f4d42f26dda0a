// NYC taxi fare statistics on a Ballista cluster, as SQL and as a DataFrame.
//
// Uses the Java client (java/client, dev.ballista:ballista-client):
// Ballista.standalone() / Ballista.connect(url), session.readParquet,
// df.groupBy(...).agg(...).
//
//   ballista gen nyctaxi --rows 1000000 --files 4 --out /tmp/nyctaxi
//   java -cp <ballista-client jar and its dependencies> examples/nyctaxi/java/NycTaxi.java \
//       /tmp/nyctaxi [grpc://HOST:50050]
//
// On Kubernetes the scheduler comes from BALLISTA_SCHEDULER_URL, which
// `ballista k8s run --template` sets in every container of the Job.

import static dev.ballista.client.expr.Functions.avg;
import static dev.ballista.client.expr.Functions.col;
import static dev.ballista.client.expr.Functions.countAll;
import static dev.ballista.client.expr.Functions.datePart;
import static dev.ballista.client.expr.Functions.max;
import static dev.ballista.client.expr.Functions.min;
import static dev.ballista.client.expr.Functions.round;
import static dev.ballista.client.expr.Functions.sum;

import dev.ballista.client.Ballista;
import dev.ballista.client.DataFrame;
import dev.ballista.client.Row;
import dev.ballista.client.Session;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;

/** The fare statistics of ../fare_stats.sql, as SQL and as a DataFrame. */
public final class NycTaxi {
  private NycTaxi() {}

  /** The SQL version over the trips in {@code dataDir}. */
  static DataFrame fareStatsSql(Session session, String dataDir) throws Exception {
    session.sql(
        "CREATE EXTERNAL TABLE IF NOT EXISTS trips STORED AS PARQUET LOCATION '" + dataDir + "/'");
    // Run from the repository root (or say where the SQL is with -Dnyctaxi.sql=...).
    Path sql = Path.of(System.getProperty("nyctaxi.sql", "examples/nyctaxi/fare_stats.sql"));
    return session.sql(Files.readString(sql));
  }

  /** The same aggregation as a DataFrame: aggregate, then round (aggregates hold calls only). */
  static DataFrame fareStatsDataFrame(Session session, String dataDir) {
    return session
        .readParquet(dataDir)
        .groupBy(
            col("passenger_count"),
            datePart("month", col("tpep_pickup_datetime"))
                .cast(new ArrowType.Int(32, true))
                .alias("pickup_month"))
        .agg(
            countAll().alias("trips"),
            avg(col("fare_amount")).alias("avg_fare"),
            min(col("fare_amount")).alias("min_fare"),
            max(col("fare_amount")).alias("max_fare"),
            avg(col("trip_distance")).alias("avg_distance"),
            sum(col("total_amount")).alias("total_amount"))
        .select(
            col("passenger_count"),
            col("pickup_month"),
            col("trips"),
            round(col("avg_fare"), 2).alias("avg_fare"),
            col("min_fare"),
            col("max_fare"),
            round(col("avg_distance"), 2).alias("avg_distance"),
            round(col("total_amount"), 2).alias("total_amount"))
        // ORDER BY passenger_count NULLS LAST, pickup_month
        .sort(col("passenger_count").sort(true, false), col("pickup_month").asc());
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: NycTaxi DATA_DIR [SCHEDULER_URL]");
      System.exit(2);
    }
    String url = args.length > 1 ? args[1] : System.getenv("BALLISTA_SCHEDULER_URL");
    try (Session session = url != null ? Ballista.connect(url) : Ballista.standalone()) {
      DataFrame bySql = fareStatsSql(session, args[0]);
      List<Row> sqlRows = bySql.collect();
      List<Row> dataFrameRows = fareStatsDataFrame(session, args[0]).collect();
      bySql.show(100);
      if (!sqlRows.equals(dataFrameRows)) {
        System.err.println("the SQL and DataFrame versions disagree");
        System.exit(1);
      }
    }
  }
}
