package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's Q8_0 scheme ({@code quantize_row_q8_0_ref} in ggml-quants.c), which {@code --weights int8} applies to
 * 16- and 32-bit weights at load: each run of 32 consecutive values of a row shares one scale
 * {@code d = max|x| / 127}, rounded to FP16 as ggml stores it, and each value becomes
 * {@code q = roundf(x * (1 / d))} (half away from zero), an int8 in [-127, 127]. W[r, c] = q * d.
 *
 * <p>Why d is rounded to FP16 but held as a float32: rounding it as ggml does makes the codes and scales
 * bit-identical to llama.cpp's q8_0 of the same checkpoint, so the two engines are compared on the same
 * weights; holding it as a float32 saves the kernel a conversion per block, at 4 instead of 2 bytes per
 * 32 weights (1.125 instead of 1.0625 bytes a weight). As ggml, the codes are computed with the reciprocal
 * of the unrounded d. Every product q * d is exact in float (7 + 11 significant bits), so {@link Matrix#get}
 * is the exact dequantized value and the scalar kernel sums exact weights.
 *
 * <p>Rows must be a whole number of blocks: a matrix whose column count is not a multiple of 32 is an
 * error naming it (every projection of the supported model families is), rather than a ragged tail
 * block whose layout no other engine shares.
 */
public final class Q8Blocks {
  /** Values of a row sharing one scale. */
  public static final int BLOCK = 32;

  private Q8Blocks() {}

  /** Bytes a (rows, cols) Q8_0 matrix holds in memory: one code a value and one float32 scale a block. */
  public static long bytes(long rows, long cols) {
    return rows * cols + rows * (cols / BLOCK) * Float.BYTES;
  }

  /**
   * A zeroed (rows, cols) Q8_0 matrix in direct memory, codes and scales each starting on a 64-byte
   * boundary, to be filled by {@link #quantizeRows}.
   *
   * @throws IllegalArgumentException naming the matrix when cols is not a multiple of 32 or the codes
   *     exceed one buffer (2 GiB)
   */
  public static Matrix allocate(String name, int rows, int cols) {
    if (cols % BLOCK != 0) {
      throw new IllegalArgumentException(name + ": int8 (Q8_0) weights need a column count divisible by " + BLOCK
          + ", found " + rows + "x" + cols + " (load this model with weights: checkpoint)");
    }
    long codeBytes = (long) rows * cols;
    long scaleBytes = (long) rows * (cols / BLOCK) * Float.BYTES;
    long alignedCodes = (codeBytes + 63) & ~63L;
    long alignedScales = (scaleBytes + 63) & ~63L; // alignedSlice also rounds the end down to 64 bytes
    if (alignedCodes + alignedScales + 64 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " is too large for one int8 buffer ("
          + codeBytes + " bytes; at most 2 GiB a matrix)");
    }
    ByteBuffer block;
    try {
      block = ByteBuffer.allocateDirect((int) (alignedCodes + alignedScales + 64)).alignedSlice(64);
    } catch (OutOfMemoryError e) {
      throw new OutOfMemoryError(name + ": no direct memory for its " + (alignedCodes + scaleBytes)
          + " int8 bytes (" + e.getMessage() + "); raise -XX:MaxDirectMemorySize");
    }
    ByteBuffer codes = block.slice(0, (int) codeBytes).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer scales = block.slice((int) alignedCodes, (int) scaleBytes).order(ByteOrder.LITTLE_ENDIAN);
    return Matrix.q8(name, rows, cols, codes, scales);
  }

  /** {@code source} quantized whole, on the calling thread (tests, small matrices). */
  public static Matrix quantize(Matrix source) {
    Matrix target = allocate(source.name(), source.rows(), source.cols());
    quantizeRows(source, target, 0, source.rows());
    return target;
  }

  /** A (rows, cols) Q8_0 matrix of {@code values} (tests). */
  public static Matrix fromFloats(String name, int rows, int cols, float[] values) {
    return quantize(Matrix.fromFloats(name, DType.F32, rows, cols, values));
  }

  /**
   * Quantizes rows [rowStart, rowEnd) of {@code source} (any dtype {@link Matrix#copyRow} reads) into the
   * same rows of {@code target} (from {@link #allocate}). Threads may fill disjoint row ranges at once.
   *
   * @throws IllegalArgumentException naming the matrix, row and column of a value that is not finite
   */
  public static void quantizeRows(Matrix source, Matrix target, int rowStart, int rowEnd) {
    int cols = source.cols();
    if (target.dtype() != DType.Q8_0 || target.rows() != source.rows() || target.cols() != cols) {
      throw new IllegalArgumentException(target + " cannot hold " + source + " quantized");
    }
    float[] row = new float[cols];
    byte[] codes = new byte[cols];
    float[] scales = new float[cols / BLOCK];
    ByteBuffer codeBuffer = target.bytes.duplicate();
    ByteBuffer scaleBuffer = target.q8Scales.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int r = rowStart; r < rowEnd; r++) {
      source.copyRow(r, row, 0);
      quantizeRow(row, 0, cols, codes, 0, scales, 0);
      for (int b = 0; b < scales.length; b++) {
        if (!Float.isFinite(scales[b])) { // a NaN or infinite value, or max|x| / 127 beyond FP16's 65504
          throw notQuantizable(source, r, b, row);
        }
      }
      codeBuffer.put(r * cols, codes);
      for (int b = 0; b < scales.length; b++) {
        scaleBuffer.putFloat((r * scales.length + b) * Float.BYTES, scales[b]);
      }
    }
  }

  private static IllegalArgumentException notQuantizable(Matrix source, int r, int block, float[] row) {
    for (int c = block * BLOCK; c < (block + 1) * BLOCK; c++) {
      if (!Float.isFinite(row[c])) {
        return new IllegalArgumentException(source.name() + ": value " + row[c] + " at row " + r + ", column " + c
            + " cannot be quantized to int8");
      }
    }
    return new IllegalArgumentException(source.name() + ": row " + r + ", columns " + block * BLOCK + ".."
        + (block * BLOCK + BLOCK - 1) + " exceed " + 127 * Numerics.halfToFloat((short) 0x7BFF)
        + ", the largest magnitude an int8 block's FP16 scale holds");
  }

  /**
   * ggml's {@code quantize_row_q8_0_ref}: values[offset, offset + n) (n a multiple of 32) to n codes at
   * codes[codeOffset] and n / 32 scales at scales[scaleOffset], each scale already rounded to FP16.
   */
  public static void quantizeRow(float[] values, int offset, int n, byte[] codes, int codeOffset, float[] scales,
      int scaleOffset) {
    for (int block = 0; block < n / BLOCK; block++) {
      int start = offset + block * BLOCK;
      float amax = 0;
      for (int j = 0; j < BLOCK; j++) {
        amax = Math.max(amax, Math.abs(values[start + j]));
      }
      float d = amax / 127;
      float id = d != 0 ? 1.0f / d : 0.0f;
      scales[scaleOffset + block] = Numerics.halfToFloat(Numerics.floatToHalf(d));
      for (int j = 0; j < BLOCK; j++) {
        codes[codeOffset + block * BLOCK + j] = (byte) roundHalfAwayFromZero(values[start + j] * id);
      }
    }
  }

  /** C's {@code roundf}: to the nearest integer, halves away from zero ({@link Math#round} rounds -2.5 to -2). */
  static int roundHalfAwayFromZero(float x) {
    // x +- 0.5 is exact in double for |x| < 2^28 (here |x| <= 127), and the cast truncates toward zero.
    return (int) ((double) x + Math.copySign(0.5, x));
  }
}
