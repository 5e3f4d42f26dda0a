package dev.ballista.spark.read;

import dev.ballista.spark.BallistaOptions;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/** Shipped to Spark's executors: opens a columnar reader per partition (rows are never read). */
final class BallistaReaderFactory implements PartitionReaderFactory {
  private static final long serialVersionUID = 1L;

  private final BallistaOptions options;
  private final int columns;

  BallistaReaderFactory(BallistaOptions options, int columns) {
    this.options = options;
    this.columns = columns;
  }

  @Override
  public boolean supportColumnarReads(InputPartition partition) {
    return true;
  }

  @Override
  public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
    return new BallistaColumnarReader((BallistaInputPartition) partition, options, columns);
  }

  @Override
  public PartitionReader<InternalRow> createReader(InputPartition partition) {
    throw new UnsupportedOperationException("the ballista source reads columnar batches only");
  }
}
