package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.kernel.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
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
}
