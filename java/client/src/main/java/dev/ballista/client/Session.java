package dev.ballista.client;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ballista.client.embedded.EmbeddedCluster;
import dev.ballista.client.errors.Errors;
import dev.ballista.client.errors.InternalException;
import dev.ballista.client.transport.FlightTransport;
import dev.ballista.proto.v1.DropTable;
import dev.ballista.proto.v1.ExecuteQuery;
import dev.ballista.proto.v1.ExplainQuery;
import dev.ballista.proto.v1.ExplainResult;
import dev.ballista.proto.v1.FileFormat;
import dev.ballista.proto.v1.KeyValue;
import dev.ballista.proto.v1.ListJobs;
import dev.ballista.proto.v1.ReadFiles;
import dev.ballista.proto.v1.RegisterTable;
import dev.ballista.proto.v1.StageInfo;
import dev.ballista.proto.v1.TableReference;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.VectorSchemaRootAppender;

/**
 * A session on a Ballista cluster: made by {@link Ballista#connect} or {@link
 * Ballista#standalone}; close it when done (it owns its Arrow allocator, its Flight connections
 * and, for an embedded cluster, the cluster).
 *
 * <p>Queries run when a {@link DataFrame} made here is collected; statements that change the
 * catalog ({@code CREATE EXTERNAL TABLE}, {@code CREATE VIEW}, {@code DROP ...}) run at once in
 * {@link #sql}, as in DataFusion and Spark. Views belong to the session (the scheduler keys them
 * by this session's id); tables are shared by every session of the cluster. A session is safe to
 * use from several threads.
 */
public final class Session implements AutoCloseable {
  private final BufferAllocator allocator;
  private final FlightTransport transport;
  private final EmbeddedCluster cluster;
  private final String sessionId = UUID.randomUUID().toString();
  private final Map<String, String> settings = new LinkedHashMap<>();
  private boolean closed;

  Session(String url, EmbeddedCluster cluster) {
    this.cluster = cluster;
    this.allocator = new RootAllocator();
    try {
      this.transport = new FlightTransport(url, allocator);
    } catch (RuntimeException e) {
      allocator.close();
      throw e;
    }
  }

  /** Fails fast when nothing answers at the scheduler's address. */
  void checkConnection() {
    transport.ping(ListJobs.getDefaultInstance().toByteArray(), 10);
  }

  /** @return the scheduler's URL */
  public String schedulerUrl() {
    return transport.url();
  }

  /** @return this session's id, sent with every query (views are kept per session) */
  public String sessionId() {
    return sessionId;
  }

  /** @return the allocator of this session's result batches */
  public BufferAllocator allocator() {
    return allocator;
  }

  /**
   * Sets a session setting sent with every later query, e.g. {@code
   * datafusion.execution.target_partitions} = {@code 8}.
   *
   * @param key the setting
   * @param value its value
   */
  public synchronized void set(String key, String value) {
    settings.remove(key);
    settings.put(key, value);
  }

  private synchronized ExecuteQuery.Builder query() {
    ExecuteQuery.Builder q = ExecuteQuery.newBuilder().setSessionId(sessionId);
    for (Map.Entry<String, String> s : settings.entrySet()) {
      q.addSettings(KeyValue.newBuilder().setKey(s.getKey()).setValue(s.getValue()));
    }
    return q;
  }

  // ---- data frames -----------------------------------------------------------------------------

  /**
   * A SQL query over the cluster's catalog. {@code CREATE} and {@code DROP} statements run at
   * once (and return an empty frame); queries run when collected.
   *
   * @param sql one statement
   * @return the query
   */
  public DataFrame sql(String sql) {
    String first = sql.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
    if (first.equals("CREATE") || first.equals("DROP")) {
      transport.execute(query().setSql(sql).build().toByteArray());
      return DataFrame.empty(false).bind(this);
    }
    return DataFrame.sql(sql).bind(this);
  }

  /**
   * @param table a table of the cluster's catalog
   * @return a scan of it
   */
  public DataFrame table(String table) {
    return DataFrame.readTable(table).bind(this);
  }

  /**
   * @param paths Parquet files or directories, as the executors see them
   * @return a scan of them (the schema is read from the files)
   */
  public DataFrame readParquet(String... paths) {
    return DataFrame.readParquet(Arrays.asList(paths), ReadOptions.of()).bind(this);
  }

  /**
   * @param paths CSV files or directories
   * @param options such as {@code has_header}
   * @return a scan of them
   */
  public DataFrame readCsv(List<String> paths, ReadOptions options) {
    return DataFrame.readCsv(paths, options).bind(this);
  }

  /**
   * Binds a plan built without a session to this one.
   *
   * @param df the plan
   * @return the same plan, run by this session
   */
  public DataFrame dataframe(DataFrame df) {
    return df.bind(this);
  }

  // ---- catalog ---------------------------------------------------------------------------------

  /**
   * Registers Parquet files or a directory as table {@code name} in the cluster's shared catalog,
   * replacing a table of that name.
   *
   * @param name the table
   * @param path a file or directory, as the executors see it
   */
  public void registerParquet(String name, String path) {
    registerFiles(name, FileFormat.FILE_FORMAT_PARQUET, path, ReadOptions.of());
  }

  /**
   * Registers CSV files or a directory as table {@code name}.
   *
   * @param name the table
   * @param path a file or directory
   * @param options such as {@code has_header}, {@code delimiter}
   */
  public void registerCsv(String name, String path, ReadOptions options) {
    registerFiles(name, FileFormat.FILE_FORMAT_CSV, path, options);
  }

  /**
   * Registers files of any supported format as table {@code name}.
   *
   * @param name the table
   * @param format the format
   * @param path a file or directory
   * @param options format options
   */
  public void registerFiles(String name, FileFormat format, String path, ReadOptions options) {
    ReadFiles source =
        ReadFiles.newBuilder()
            .setFormat(format)
            .addPaths(path)
            .addAllOptions(options.toProto())
            .build();
    RegisterTable req =
        RegisterTable.newBuilder()
            .setTable(TableReference.newBuilder().setTable(name))
            .setSource(source)
            .setReplace(true)
            .build();
    transport.action("register_table", req.toByteArray());
  }

  /**
   * Removes table {@code name} from the catalog.
   *
   * @param name the table
   */
  public void deregisterTable(String name) {
    DropTable req =
        DropTable.newBuilder().setTable(TableReference.newBuilder().setTable(name)).build();
    transport.action("drop_table", req.toByteArray());
  }

  // ---- running ---------------------------------------------------------------------------------

  private FlightInfo execute(dev.ballista.proto.v1.Relation plan) {
    return transport.execute(query().setPlan(plan).build().toByteArray());
  }

  /**
   * Runs {@code df} and returns where its result partitions are, without fetching them; for
   * readers that split a result across tasks or processes ({@link ResultPartition#open}).
   *
   * <p>Unlike {@link DataFrame#collect()} and {@link DataFrame#stream()}, which release the
   * results once read, this cannot know when every reader is done: call {@link
   * #release(QueryResult)} then, or the partitions stay on the executors' disks until the job's
   * TTL (30 minutes by default).
   *
   * @param df the plan
   * @return the schema and the partitions
   */
  public QueryResult execute(DataFrame df) {
    FlightInfo info = execute(df.plan());
    List<ResultPartition> partitions = new ArrayList<>();
    for (FlightEndpoint e : info.getEndpoints()) {
      // Without a location the scheduler relays the partition.
      String location =
          e.getLocations().isEmpty() ? schedulerUrl() : e.getLocations().get(0).getUri().toString();
      partitions.add(new ResultPartition(partitions.size(), location, e.getTicket().getBytes()));
    }
    return new QueryResult(
        info.getSchemaOptional().orElse(new Schema(List.of())),
        partitions,
        info.getRecords(),
        FlightTransport.jobId(info).orElse(null));
  }

  /**
   * Asks the scheduler to delete {@code result}'s partitions on the executors ({@code
   * release_job}): call it once every reader of the partitions is done; opening one afterwards
   * fails with {@link dev.ballista.client.errors.NotFoundException}. Batches already read stay
   * valid.
   *
   * <p>Best effort, as when a stream releases its results: a failure (an unreachable scheduler)
   * only leaves the partitions until the job's TTL, so it is not thrown. Releasing twice is
   * harmless.
   *
   * @param result what {@link #execute(DataFrame)} returned
   * @return whether the scheduler confirmed the release
   */
  public boolean release(QueryResult result) {
    return result.jobId().map(transport::release).orElse(false);
  }

  ArrowReader stream(DataFrame df) {
    return transport.fetch(execute(df.plan()));
  }

  List<Row> collectRows(DataFrame df) {
    List<Row> rows = new ArrayList<>();
    try (ArrowReader reader = stream(df)) {
      while (reader.loadNextBatch()) {
        rows.addAll(Row.of(reader.getVectorSchemaRoot()));
      }
    } catch (IOException e) {
      throw Errors.from(e, "scheduler " + schedulerUrl());
    }
    return rows;
  }

  VectorSchemaRoot collectArrow(DataFrame df) {
    try (ArrowReader reader = stream(df)) {
      VectorSchemaRoot out = VectorSchemaRoot.create(reader.getVectorSchemaRoot().getSchema(), allocator);
      try {
        out.allocateNew();
        out.setRowCount(0);
        while (reader.loadNextBatch()) {
          VectorSchemaRootAppender.append(out, reader.getVectorSchemaRoot());
        }
        return out;
      } catch (RuntimeException e) {
        out.close();
        throw e;
      }
    } catch (IOException e) {
      throw Errors.from(e, "scheduler " + schedulerUrl());
    }
  }

  String explain(DataFrame df) {
    ExplainQuery req = ExplainQuery.newBuilder().setQuery(query().setPlan(df.plan())).build();
    ExplainResult e;
    try {
      e = ExplainResult.parseFrom(transport.action("explain", req.toByteArray()));
    } catch (InvalidProtocolBufferException ex) {
      throw new InternalException("the scheduler's explain reply does not decode: " + ex, ex);
    }
    StringBuilder text = new StringBuilder();
    text.append("== Logical plan ==\n").append(e.getLogicalPlan()).append("\n\n");
    text.append("== Physical plan ==\n").append(e.getPhysicalPlan()).append("\n\n");
    text.append("== Stages ==\n");
    for (StageInfo stage : e.getStagesList()) {
      text.append("Stage ").append(stage.getStageId()).append(" (").append(stage.getPartitions());
      text.append(" tasks");
      if (stage.getInputStagesCount() > 0) {
        text.append(", reads stages ")
            .append(
                stage.getInputStagesList().stream()
                    .map(String::valueOf)
                    .collect(Collectors.joining(", ")));
      }
      text.append("):\n");
      for (String line : stage.getPlanText().split("\n")) {
        text.append("  ").append(line).append('\n');
      }
    }
    return text.toString();
  }

  /**
   * Closes the Flight connections and the allocator, and stops the embedded cluster if this
   * session started one. Result batches still open must be closed first.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      transport.close();
      allocator.close();
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }
}
