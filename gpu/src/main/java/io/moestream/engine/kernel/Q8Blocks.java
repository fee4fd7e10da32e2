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
 *
 * <p>In memory the codes are interleaved by groups of 16 rows (the rows padded with zero codes and scales to a
 * multiple of 16): per group and block of 32 columns, 8 runs of 64 bytes, run k holding columns 4k..4k+3 of
 * the group's 16 rows, row after row; the scales per group and block as 16 floats, one a row. Why: a 64-byte
 * vector then holds 4 codes of each of 16 rows, so kernels keep one row per int lane and add each row's blocks
 * in order without a horizontal sum (the same per-row order for every kernel and batch), and it is the layout
 * AMX reads as a B tile, so the tile unit multiplies weights by however many tokens a step has (1 to 16 rows
 * of A) instead of 16 weight rows by 16 token slots mostly empty. The codes of a whole group are one
 * contiguous stream.
 */
public final class Q8Blocks {
  /** Values of a row sharing one scale. */
  public static final int BLOCK = 32;

  private Q8Blocks() {}

  /** Rows interleaved in memory (see the class comment): a 64-byte vector's 16 int lanes, an AMX B tile's 16 columns. */
  public static final int GROUP_ROWS = 16;
  /** Consecutive codes of one row stored together: one int lane, one VNNI dword. */
  static final int RUN = 4;

  /** {@code rows} rounded up to whole groups: the rows a Q8_0 matrix holds in memory. */
  public static long paddedRows(long rows) {
    return (rows + GROUP_ROWS - 1) / GROUP_ROWS * GROUP_ROWS;
  }

  /** Bytes a (rows, cols) Q8_0 matrix holds in memory: one code a value and one float32 scale a block, rows padded to groups of 16. */
  public static long bytes(long rows, long cols) {
    return codeBytes(rows, cols) + scaleBytes(rows, cols);
  }

  /** The codes of a (rows, cols) Q8_0 matrix: one byte a value, rows padded to groups of 16. */
  static long codeBytes(long rows, long cols) {
    return paddedRows(rows) * cols;
  }

  /** The scales of a (rows, cols) Q8_0 matrix: one float32 a block of 32, rows padded to groups of 16. */
  static long scaleBytes(long rows, long cols) {
    return paddedRows(rows) * (cols / BLOCK) * Float.BYTES;
  }

  /** What a (rows, cols) Q8_0 matrix takes of a {@link Q8Arena} block: its codes and its scales, each to 64 bytes. */
  public static long blockBytes(int rows, int cols) {
    return Q8Arena.align(codeBytes(rows, cols)) + Q8Arena.align(scaleBytes(rows, cols));
  }

  /** Byte offset of W[row, col]'s code in a matrix of {@code cols} columns (the class comment's layout). */
  static int codeIndex(int row, int col, int cols) {
    return (row / GROUP_ROWS) * GROUP_ROWS * cols + (col / BLOCK) * BLOCK * GROUP_ROWS
        + ((col % BLOCK) / RUN) * RUN * GROUP_ROWS + (row % GROUP_ROWS) * RUN + col % RUN;
  }

  /** Float offset of the scale of block {@code block} of row {@code row} in a matrix of {@code blocks} blocks a row. */
  static int scaleIndex(int row, int block, int blocks) {
    return ((row / GROUP_ROWS) * blocks + block) * GROUP_ROWS + row % GROUP_ROWS;
  }

  /**
   * A zeroed (rows, cols) Q8_0 matrix in direct memory, codes and scales each starting on a 64-byte
   * boundary, to be filled by {@link #quantizeRows}.
   *
   * @throws IllegalArgumentException naming the matrix when cols is not a multiple of 32 or the codes
   *     exceed one buffer (2 GiB)
   */
  public static Matrix allocate(String name, int rows, int cols) {
    checkSize(name, rows, cols);
    return Q8Arena.direct(blockBytes(rows, cols), name).allocate(name, rows, cols);
  }

  /** @throws IllegalArgumentException naming the matrix when cols is not a multiple of 32 */
  static void checkColumns(String name, int rows, int cols) {
    if (cols % BLOCK != 0) {
      throw new IllegalArgumentException(name + ": int8 (Q8_0) weights need a column count divisible by " + BLOCK
          + ", found " + rows + "x" + cols + " (load this model with weights: checkpoint)");
    }
  }

  /** @throws IllegalArgumentException naming the matrix when it does not fit one int8 buffer (2 GiB) */
  public static void checkSize(String name, int rows, int cols) {
    checkColumns(name, rows, cols);
    if (blockBytes(rows, cols) + 64 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " is too large for one int8 buffer ("
          + codeBytes(rows, cols) + " bytes; at most 2 GiB a matrix)");
    }
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
      for (int c = 0; c < cols; c += RUN) {
        codeBuffer.put(codeIndex(r, c, cols), codes, c, RUN);
      }
      for (int b = 0; b < scales.length; b++) {
        scaleBuffer.putFloat(scaleIndex(r, b, scales.length) * Float.BYTES, scales[b]);
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
