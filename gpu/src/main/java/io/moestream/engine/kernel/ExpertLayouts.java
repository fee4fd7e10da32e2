package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import java.nio.ByteBuffer;

/**
 * Writing gpt-oss's expert layouts ({@link Matrix#mxfp4} and {@link Matrix#transposed} read them): MXFP4
 * quantization for test models, and in-memory matrices of both layouts for tests.
 */
public final class ExpertLayouts {
  private ExpertLayouts() {}

  /**
   * Quantizes {@code values} (rows, cols) to MXFP4: each run of 32 values of a row gets the smallest power
   * of two 2^e with amax / 2^e <= 6 (E2M1's largest value), so nothing saturates, and each value its
   * nearest E2M1 code. Writes rows * cols / 2 code bytes (even column in the low nibble) and
   * rows * cols / 32 biased exponents (tests and test models).
   */
  public static void mxfp4Quantize(float[] values, int rows, int cols, byte[] blocks, byte[] scales) {
    int blocksPerRow = cols / Matrix.MXFP4_BLOCK;
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < blocksPerRow; b++) {
        int start = r * cols + b * Matrix.MXFP4_BLOCK;
        float amax = 0;
        for (int i = 0; i < Matrix.MXFP4_BLOCK; i++) {
          amax = Math.max(amax, Math.abs(values[start + i]));
        }
        int exponent = amax == 0 ? 0 : (int) Math.ceil(Math.log(amax / 6.0) / Math.log(2.0));
        while (amax > 0 && amax / Math.scalb(1.0, exponent) > 6.0) {
          exponent++; // log rounding
        }
        exponent = Math.max(-127, Math.min(127, exponent));
        scales[r * blocksPerRow + b] = (byte) (exponent + 127);
        double scale = Math.scalb(1.0, exponent);
        for (int i = 0; i < Matrix.MXFP4_BLOCK; i += 2) {
          int lo = Numerics.floatToE2m1((float) (values[start + i] / scale));
          int hi = Numerics.floatToE2m1((float) (values[start + i + 1] / scale));
          blocks[(start + i) / 2] = (byte) (lo | (hi << 4));
        }
      }
    }
  }

  /** An MXFP4 matrix in direct memory, quantized from {@code values} (rows, cols) (tests). */
  public static Matrix mxfp4FromFloats(String name, int rows, int cols, float[] values) {
    byte[] blocks = new byte[rows * cols / 2];
    byte[] scales = new byte[rows * (cols / Matrix.MXFP4_BLOCK)];
    mxfp4Quantize(values, rows, cols, blocks, scales);
    ByteBuffer blockBuffer = ByteBuffer.allocateDirect(blocks.length).put(blocks).flip();
    ByteBuffer scaleBuffer = ByteBuffer.allocateDirect(scales.length).put(scales).flip();
    return Matrix.mxfp4(name, rows, cols, blockBuffer, scaleBuffer);
  }
  /** As {@link Matrix#fromFloats(String, DType, int, int, float[])}, stored transposed: (cols, rows) row-major (tests). */
  public static Matrix transposedFromFloats(String name, DType dtype, int rows, int cols, float[] values) {
    float[] transpose = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        transpose[c * rows + r] = values[r * cols + c];
      }
    }
    Matrix stored = Matrix.fromFloats(name, dtype, cols, rows, transpose);
    return Matrix.transposed(name, dtype, rows, cols, stored.bytes);
  }
}
