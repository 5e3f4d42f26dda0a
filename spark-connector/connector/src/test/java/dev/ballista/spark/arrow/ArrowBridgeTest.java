package dev.ballista.spark.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.spark.shaded.org.apache.arrow.memory.BufferAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.memory.RootAllocator;
import dev.ballista.spark.shaded.org.apache.arrow.vector.BigIntVector;
import dev.ballista.spark.shaded.org.apache.arrow.vector.VarCharVector;
import dev.ballista.spark.shaded.org.apache.arrow.vector.VectorSchemaRoot;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.junit.jupiter.api.Test;

/**
 * The hand-over from the relocated Arrow to Spark's: same memory (no copy), values intact after
 * the source lets go, and every buffer given back when Spark's side closes.
 */
class ArrowBridgeTest {
  @Test
  void batchesMoveWithoutCopyAndAreReleased() {
    try (BufferAllocator relocated = new RootAllocator();
        org.apache.arrow.memory.BufferAllocator spark = new org.apache.arrow.memory.RootAllocator()) {
      BigIntVector ids = new BigIntVector("id", relocated);
      VarCharVector names = new VarCharVector("name", relocated);
      ids.allocateNew(3);
      names.allocateNew(3);
      for (int i = 0; i < 3; i++) {
        ids.set(i, 10L * i);
        if (i != 1) {
          names.set(i, ("n" + i).getBytes(StandardCharsets.UTF_8));
        }
      }
      ids.setValueCount(3);
      names.setValueCount(3);
      VectorSchemaRoot source = new VectorSchemaRoot(List.of(ids, names));
      source.setRowCount(3);
      long idsAddress = ids.getDataBuffer().memoryAddress();

      ArrowBridge bridge = new ArrowBridge(source.getSchema(), spark, 2);
      ColumnarBatch batch = bridge.load(source);
      // The source lets go first (as a Flight stream does when the next batch arrives).
      source.close();
      assertTrue(relocated.getAllocatedMemory() > 0, "Spark's vectors keep the buffers alive");

      FieldVector sparkIds = (FieldVector) ((ArrowColumnVector) batch.column(0)).getValueVector();
      assertEquals(idsAddress, sparkIds.getDataBuffer().memoryAddress(), "same memory, no copy");
      assertEquals(3, batch.numRows());
      assertEquals(20L, batch.column(0).getLong(2));
      assertEquals("n0", batch.column(1).getUTF8String(0).toString());
      assertTrue(batch.column(1).isNullAt(1));
      assertEquals("n2", batch.column(1).getUTF8String(2).toString());

      bridge.close();
      assertEquals(0, relocated.getAllocatedMemory(), "every relocated buffer released");
      assertEquals(0, spark.getAllocatedMemory(), "every Spark-side wrapper released");
    }
  }
}
