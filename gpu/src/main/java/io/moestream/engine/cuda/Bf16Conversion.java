package io.moestream.engine.cuda;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.kernel.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Weights go to the device as BF16, whatever the checkpoint stores: BF16 unchanged (bit for bit), F16
 * and F32 rounded to nearest even. FP8 (DeepSeek-V3) has its own kernels in a later step.
 */
final class Bf16Conversion {
  private Bf16Conversion() {}

  static void checkSupported(Matrix m) {
    if (m.dtype() != DType.BF16 && m.dtype() != DType.F16 && m.dtype() != DType.F32) {
      throw new UnsupportedOperationException(m.name() + ": the CUDA backend uploads BF16, F16 and F32 weights; "
          + m.dtype() + " kernels are not written yet (use --backend cpu)");
    }
  }

  /**
   * Rows [rowStart, rowEnd) of {@code m} as little-endian BF16 into {@code out} from its position on.
   *
   * @param scratch at least m.cols() floats
   */
  static void rows(Matrix m, int rowStart, int rowEnd, ByteBuffer out, float[] scratch) {
    ByteBuffer target = out.order(ByteOrder.LITTLE_ENDIAN);
    for (int r = rowStart; r < rowEnd; r++) {
      m.copyRow(r, scratch, 0);
      for (int c = 0; c < m.cols(); c++) {
        target.putShort(Numerics.floatToBf16(scratch[c]));
      }
    }
  }

  /** Rows per upload chunk so one chunk stays near {@code chunkBytes}. */
  static int rowsPerChunk(Matrix m, long chunkBytes) {
    return (int) Math.max(1, Math.min(m.rows(), chunkBytes / (2L * m.cols())));
  }
}
