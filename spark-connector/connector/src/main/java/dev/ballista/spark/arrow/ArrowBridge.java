package dev.ballista.spark.arrow;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * Hands record batches from the client's Arrow (relocated under {@code
 * dev.ballista.spark.shaded}) to Spark's own Arrow, without copying the data.
 *
 * <p>Why two Arrows: Spark's {@link ArrowColumnVector} takes Spark's {@code
 * org.apache.arrow.vector.ValueVector}, while the Flight client (and its Netty and gRPC) is
 * relocated so that it never clashes with the Arrow, Netty and protobuf versions a given Spark
 * release ships. Both are the same Arrow columnar format in off-heap memory, so the hand-over
 * moves <em>ownership</em>, not bytes: each buffer of the received batch is retained and wrapped
 * as a Spark-side {@link ArrowBuf} over the same address ({@link
 * BufferAllocator#wrapForeignAllocation}); when Spark's vector lets go of it, the wrapper releases
 * the relocated buffer. Only the schema is converted, through its IPC bytes.
 *
 * <p>One bridge serves one partition reader; the {@link ColumnarBatch} it returns is valid until
 * the next {@link #load} or {@link #close}, as Spark's {@code PartitionReader} contract says.
 */
public final class ArrowBridge implements AutoCloseable {
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final int columns;

  /**
   * @param schema the stream's schema (relocated Arrow)
   * @param allocator Spark-side allocator that accounts the wrapped buffers
   * @param columns how many leading columns Spark reads (a scan of no columns reads a stand-in)
   */
  public ArrowBridge(
      dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Schema schema,
      BufferAllocator allocator,
      int columns) {
    this.allocator = allocator;
    this.root = VectorSchemaRoot.create(sparkSchema(schema), allocator);
    this.columns = columns;
  }

  /**
   * The same schema in Spark's Arrow classes, through the IPC encoding both read.
   *
   * @param schema a relocated Arrow schema
   * @return Spark's Arrow schema
   */
  public static Schema sparkSchema(
      dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Schema schema) {
    return Schema.deserializeMessage(ByteBuffer.wrap(schema.serializeAsMessage()));
  }

  /**
   * Moves the current batch of {@code source} into Spark's vectors.
   *
   * @param source the Flight stream's root, holding the batch just received
   * @return the batch as Spark reads it
   */
  public ColumnarBatch load(
      dev.ballista.spark.shaded.org.apache.arrow.vector.VectorSchemaRoot source) {
    List<ArrowBuf> wrapped = new ArrayList<>();
    try (dev.ballista.spark.shaded.org.apache.arrow.vector.ipc.message.ArrowRecordBatch batch =
        new dev.ballista.spark.shaded.org.apache.arrow.vector.VectorUnloader(source)
            .getRecordBatch()) {
      List<ArrowFieldNode> nodes = new ArrayList<>();
      for (dev.ballista.spark.shaded.org.apache.arrow.vector.ipc.message.ArrowFieldNode n :
          batch.getNodes()) {
        nodes.add(new ArrowFieldNode(n.getLength(), n.getNullCount()));
      }
      for (dev.ballista.spark.shaded.org.apache.arrow.memory.ArrowBuf b : batch.getBuffers()) {
        wrapped.add(wrap(b));
      }
      try (ArrowRecordBatch target = new ArrowRecordBatch(batch.getLength(), nodes, wrapped)) {
        new VectorLoader(root).load(target);
      }
    } finally {
      // The vectors hold their own references now.
      wrapped.forEach(ArrowBuf::close);
    }
    ColumnVector[] vectors = new ColumnVector[columns];
    List<FieldVector> fields = root.getFieldVectors();
    for (int i = 0; i < columns; i++) {
      vectors[i] = new ArrowColumnVector(fields.get(i));
    }
    return new ColumnarBatch(vectors, root.getRowCount());
  }

  private ArrowBuf wrap(dev.ballista.spark.shaded.org.apache.arrow.memory.ArrowBuf source) {
    long size = source.capacity();
    if (size == 0) {
      return allocator.getEmpty();
    }
    source.getReferenceManager().retain();
    try {
      return allocator.wrapForeignAllocation(
          new ForeignAllocation(size, source.memoryAddress()) {
            @Override
            protected void release0() {
              source.getReferenceManager().release();
            }
          });
    } catch (RuntimeException e) {
      source.getReferenceManager().release();
      throw e;
    }
  }

  /** Releases the last batch (and with it the relocated buffers it wraps). */
  @Override
  public void close() {
    root.close();
  }
}
