package dev.ballista.spark.read;

import dev.ballista.client.DataFrame;
import dev.ballista.client.transport.FlightTransport;
import dev.ballista.spark.BallistaOptions;
import dev.ballista.spark.ClusterClient;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightEndpoint;
import dev.ballista.spark.shaded.org.apache.arrow.flight.FlightInfo;
import dev.ballista.spark.shaded.org.apache.arrow.flight.Location;
import dev.ballista.proto.v1.Relation;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.StructType;

/**
 * The pushed plan, run as one Ballista job when Spark plans the scan's partitions: one Spark
 * partition per result endpoint, preferring the executor that holds it.
 *
 * <p>The job runs once per scan (Spark may ask a scan for its batch and partitions several times
 * while planning); its results stay on the executors while the driver can still read them (task
 * retries, the same {@code DataFrame} run again), and are released once the scan's partitions have
 * been garbage collected ({@link JobLease}), at the latest at the scheduler's job TTL.
 */
public final class BallistaScan implements Scan, Batch {
  private final BallistaOptions options;
  private final DataFrame plan;
  private final StructType readSchema;
  private final int columns;
  private final String description;
  private InputPartition[] partitions;

  BallistaScan(
      BallistaOptions options,
      DataFrame plan,
      StructType readSchema,
      int columns,
      String description) {
    this.options = options;
    this.plan = plan;
    this.readSchema = readSchema;
    this.columns = columns;
    this.description = description;
  }

  /** @return the canonical plan this scan runs (what was pushed, as the scheduler receives it) */
  public Relation pushedPlan() {
    return plan.plan();
  }

  @Override
  public StructType readSchema() {
    return readSchema;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public Batch toBatch() {
    return this;
  }

  @Override
  public ColumnarSupportMode columnarSupportMode() {
    return ColumnarSupportMode.SUPPORTED;
  }

  @Override
  public synchronized InputPartition[] planInputPartitions() {
    if (partitions != null) {
      return partitions;
    }
    FlightInfo info;
    try (ClusterClient client = new ClusterClient(options)) {
      info = client.execute(plan, "spark: " + options.sourceName());
    }
    Object lease =
        FlightTransport.jobId(info).map(job -> JobLease.hold(options, job)).orElse(null);
    List<InputPartition> out = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      List<Location> locations = e.getLocations();
      // No location: the scheduler relays the partition.
      String uri = locations.isEmpty() ? options.url() : locations.get(0).getUri().toString();
      String host = locations.isEmpty() ? null : locations.get(0).getUri().getHost();
      out.add(new BallistaInputPartition(e.getTicket().getBytes(), uri, host, lease));
    }
    partitions = out.toArray(new InputPartition[0]);
    return partitions;
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    return new BallistaReaderFactory(options, columns);
  }
}
