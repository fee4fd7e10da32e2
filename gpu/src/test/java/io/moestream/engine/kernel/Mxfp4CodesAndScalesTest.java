package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.engine.format.Numerics;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The MXFP4 kernels over the whole format: all 16 E2M1 codes in both nibble positions of a byte (all 256
 * bytes) and every E8M0 scale the format allows (0..254; 255 is NaN and refused at load, see
 * Mxfp4NanScaleTest), the Vector API kernel against its scalar twin and against a plain decoding written
 * here from the OCP MX spec's table.
 *
 * <p>Tolerance: none. The inputs are chosen so every sum is exact in float (activations are multiples of
 * 2^-17 no larger than 2^-12, so a row's products are multiples of 2^-18 and its sums stay below 1: 18
 * significant bits; the scale multiplies by a power of two, which is exact from 2^-145 to 2^127 for these
 * values), so the two kernels and the plain decoding must agree to the bit, whatever their summation
 * order. Summation-order differences under rounding are covered at 1e-5 by Mxfp4MatmulTest.
 */
class Mxfp4CodesAndScalesTest {
  /** E2M1 values by code, from the OCP MX spec's table (not from Numerics). */
  private static final double[] FP4 = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};
  private static final int MAX_SCALE = 254;

  /**
   * One-hot activations read single weights back: row r is 32 copies of byte r (codes r & 15 in the even
   * columns, r >> 4 in the odd ones) at scale 7r mod 255 (a permutation of 0..254 over rows 0..254), so
   * every code in both nibbles and every scale is decoded by the kernel alone, no sum to hide it.
   *
   * <p>At scales 253 and 254 the larger codes exceed float (2 * 2^127 = 2^128): all three give the
   * overflow, +-Infinity (the scalar twin holds MXFP4 weights in double, so zero activations times such a
   * weight stay 0, not NaN). No released checkpoint comes near: their scales sit around 127.
   */
  @ParameterizedTest
  @ValueSource(ints = {32, 35})
  void oneHotInputsReadEveryCodeInBothNibblesAtEveryScale(int tokens) {
    int rows = 256;
    int cols = Matrix.MXFP4_BLOCK;
    byte[] blocks = new byte[rows * cols / 2];
    byte[] scales = new byte[rows];
    for (int r = 0; r < rows; r++) {
      Arrays.fill(blocks, r * cols / 2, (r + 1) * cols / 2, (byte) r);
      scales[r] = (byte) (7 * r % 255);
    }
    Matrix w = Matrix.mxfp4("w", rows, cols, direct(blocks), direct(scales));
    float[] x = new float[tokens * cols];
    for (int t = 0; t < tokens; t++) {
      x[t * cols + t % cols] = 1; // tokens past 32 repeat, through the kernel's one-token tile
    }
    float[] vector = run(new VectorKernels(), w, x, tokens);
    float[] scalar = run(new ScalarKernels(), w, x, tokens);
    for (int t = 0; t < tokens; t++) {
      int c = t % cols;
      for (int r = 0; r < rows; r++) {
        int code = c % 2 == 0 ? r & 0xF : r >> 4;
        float expected = (float) (FP4[code] * Math.pow(2, (7 * r % 255) - 127));
        String at = "row " + r + " col " + c + " code " + code + " scale " + (7 * r % 255);
        assertEquals(expected, w.get(r, c), 0f, at);
        assertEquals(expected, vector[t * rows + r], 0f, "vector kernel, " + at);
        assertEquals(expected, scalar[t * rows + r], 0f, "scalar twin, " + at);
      }
    }
  }

  /**
   * Row r holds every byte value (a rotation of 0..255 per row, so every code pair sits at several block
   * positions) under scale r in all its 16 blocks; the rows cover scales 0..254. Sums of real (random)
   * activations, both kernel tiles (4 tokens and 1), rows split between two calls.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 4, 7})
  void everyByteUnderEveryScaleSumsExactly(int tokens) {
    int rows = MAX_SCALE + 1;
    int cols = 512;
    int blocksPerRow = cols / Matrix.MXFP4_BLOCK;
    byte[] blocks = new byte[rows * cols / 2];
    byte[] scales = new byte[rows * blocksPerRow];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < cols / 2; j++) {
        blocks[r * cols / 2 + j] = (byte) (j + 37 * r);
      }
      Arrays.fill(scales, r * blocksPerRow, (r + 1) * blocksPerRow, (byte) r);
    }
    Matrix w = Matrix.mxfp4("w", rows, cols, direct(blocks), direct(scales));
    SplittableRandom random = new SplittableRandom(11);
    float[] x = new float[tokens * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.scalb((float) random.nextInt(-32, 33), -17);
    }
    float[] vector = run(new VectorKernels(), w, x, tokens);
    float[] scalar = run(new ScalarKernels(), w, x, tokens);
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        double plain = 0;
        for (int c = 0; c < cols; c++) {
          int packed = blocks[(r * cols + c) / 2] & 0xFF;
          plain += FP4[c % 2 == 0 ? packed & 0xF : packed >> 4] * Math.pow(2, r - 127) * x[t * cols + c];
        }
        assertEquals((float) plain, scalar[t * rows + r], 0f, "scalar twin, token " + t + " row/scale " + r);
        assertEquals((float) plain, vector[t * rows + r], 0f, "vector kernel, token " + t + " row/scale " + r);
        assertEquals(plain, (float) plain, 0.0, "the plain sum must be exact in float for this test to hold");
      }
    }
  }

  /** Every E8M0 byte decodes to 2^(e - 127) exactly; 0xFF is NaN, which the loader's scan finds anywhere. */
  @ParameterizedTest
  @ValueSource(ints = {1, 7, 8, 9, 64, 1001})
  void scaleDecodingAndTheNanScan(int length) {
    for (int e = 0; e <= MAX_SCALE; e++) {
      assertEquals(Math.pow(2, e - 127), Numerics.e8m0ToFloat((byte) e), 0.0, "scale " + e);
    }
    assertEquals(Float.NaN, Numerics.e8m0ToFloat((byte) Numerics.E8M0_NAN));
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (i % 255); // every allowed byte, 0xFE included, never 0xFF
    }
    assertEquals(-1, Numerics.firstNanE8m0(direct(bytes)));
    for (int at = 0; at < length; at++) {
      byte[] corrupt = bytes.clone();
      corrupt[at] = (byte) 0xFF;
      if (at + 1 < length) {
        corrupt[length - 1] = (byte) 0xFF; // a later one must not be reported first
      }
      assertEquals(at, Numerics.firstNanE8m0(direct(corrupt)), "NaN at " + at + " of " + length);
    }
  }

  private static float[] run(Kernels kernels, Matrix w, float[] x, int tokens) {
    float[] out = new float[tokens * w.rows()];
    Arrays.fill(out, Float.NaN);
    MatmulInput input = MatmulInput.of(x, tokens, w.cols());
    int split = w.rows() / 3;
    kernels.matmul(w, input, out, 0, split);
    kernels.matmul(w, input, out, split, w.rows());
    return out;
  }

  private static ByteBuffer direct(byte[] bytes) {
    return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
  }
}
