package dev.ballista.spark;

import dev.ballista.spark.plan.Source;
import dev.ballista.spark.read.BallistaScanBuilder;
import java.util.EnumSet;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** A Ballista table, query or plan as Spark sees it: readable in batch, not writable. */
public final class BallistaTable implements SupportsRead {
  private final BallistaOptions options;
  private final Source source;

  BallistaTable(BallistaOptions options, Source source) {
    this.options = options;
    this.source = source;
  }

  @Override
  public String name() {
    return "ballista." + options.sourceName();
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return source.schema();
  }

  @Override
  public Set<TableCapability> capabilities() {
    return EnumSet.of(TableCapability.BATCH_READ);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap ignored) {
    return new BallistaScanBuilder(options, source);
  }
}
