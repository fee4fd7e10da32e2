package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.kernel.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class Bf16ConversionTest {

  @Test
  void bf16IsCopiedBitForBitAndOthersRoundToNearest() {
    Random random = new Random(3);
    int rows = 5;
    int cols = 12;
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
      Matrix m = Matrix.fromFloats("w", dtype, rows, cols, values);
      ByteBuffer out = ByteBuffer.allocate(2 * (rows - 1) * cols).order(ByteOrder.LITTLE_ENDIAN);
      Bf16Conversion.rows(m, 1, rows, out, new float[cols]);
      out.flip();
      for (int r = 1; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          assertEquals(Numerics.floatToBf16(m.get(r, c)), out.getShort(), dtype + " (" + r + ", " + c + ")");
        }
      }
    }
  }

  @Test
  void fp8IsRefusedWithTheBackendToUse() {
    Matrix fp8 = Matrix.fp8FromFloats("w", 2, 2, new float[] {1, 2, 3, 4}, 1, 1);
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> Bf16Conversion.checkSupported(fp8));
    assertEquals(true, e.getMessage().contains("--backend cpu"));
  }

  @Test
  void chunksHoldWholeRows() {
    Matrix m = Matrix.fromFloats("w", DType.BF16, 10, 1000, new float[10_000]);
    assertEquals(3, Bf16Conversion.rowsPerChunk(m, 6000));
    assertEquals(1, Bf16Conversion.rowsPerChunk(m, 10));
    assertEquals(10, Bf16Conversion.rowsPerChunk(m, 1 << 20));
  }

  @Test
  void theParallelConversionIsBitwiseTheSequentialOne() throws Exception {
    Random random = new Random(11);
    int rows = 37; // not a multiple of the thread count: uneven ranges
    int cols = 24;
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian() * (i % 7 == 0 ? 1e30f : 1f); // some values round up at the edges
    }
    values[5] = Float.NaN;
    values[6] = Float.NEGATIVE_INFINITY;
    values[7] = -0f;
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
        Matrix m = Matrix.fromFloats("w", dtype, rows, cols, values);
        for (int[] range : new int[][] {{0, rows}, {3, 29}, {36, 37}}) {
          int n = range[1] - range[0];
          ByteBuffer sequential = ByteBuffer.allocate(8 + 2 * n * cols).order(ByteOrder.LITTLE_ENDIAN);
          ByteBuffer parallel = ByteBuffer.allocateDirect(8 + 2 * n * cols).order(ByteOrder.LITTLE_ENDIAN);
          sequential.position(8); // a chunk starts where the pinned buffer's position is
          parallel.position(8);
          Bf16Conversion.rows(m, range[0], range[1], sequential, new float[cols]);
          for (int threads : new int[] {1, 3, 4, 64}) {
            parallel.position(8);
            Bf16Conversion.rowsParallel(m, range[0], range[1], parallel, pool, threads);
            assertEquals(sequential.position(), parallel.position(), dtype + " position, " + threads + " threads");
            for (int i = 8; i < sequential.position(); i += 2) {
              assertEquals(sequential.getShort(i), parallel.getShort(i), dtype + " byte " + i + ", " + threads
                  + " threads, rows " + range[0] + ".." + range[1]);
            }
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void bf16RowsAreTheCheckpointsBytes() {
    Matrix m = Matrix.fromFloats("w", DType.BF16, 4, 8, new float[] {
        1, -2, 3.5f, 0, 1e-3f, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33});
    ByteBuffer out = ByteBuffer.allocate(2 * 2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    m.copyRawRows(1, 3, out);
    assertEquals(out.capacity(), out.position());
    for (int i = 0; i < 16; i++) {
      assertEquals(m.get(1 + i / 8, i % 8), Numerics.bf16ToFloat(out.getShort(2 * i)));
    }
  }
}
