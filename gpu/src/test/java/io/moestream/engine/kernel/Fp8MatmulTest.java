package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * FP8 E4M3 weights with block scales: dequantization against a float reference of the block scheme,
 * the Vector API kernel against the scalar one, and the in-register decoding of all 256 codes.
 */
class Fp8MatmulTest {

  /** real[r][c] = e4m3(code[r][c]) * scale[r / blockRows][c / blockCols], for partial edge blocks too. */
  @Test
  void dequantizationFollowsTheBlockScheme() {
    int rows = 130;
    int cols = 200;
    float[] values = random(rows * cols, 1);
    byte[] codes = new byte[rows * cols];
    int blockRows = 128;
    int blockCols = 128;
    float[] scales = new float[2 * 2];
    Matrix.fp8Quantize(values, rows, cols, blockRows, blockCols, codes, scales);
    Matrix w = Matrix.fp8("w", rows, cols, direct(codes), scales, blockRows, blockCols);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        float expected = Numerics.e4m3ToFloat(codes[r * cols + c]) * scales[(r / 128) * 2 + c / 128];
        assertEquals(expected, w.get(r, c), 0f);
        // E4M3 keeps 3 mantissa bits: within half a step (1/16 relative) of the value, or of the block's smallest step.
        float step = Math.max(Math.abs(values[r * cols + c]) / 16, scales[(r / 128) * 2 + c / 128] * 0x1p-9f);
        assertTrue(Math.abs(w.get(r, c) - values[r * cols + c]) <= step * 1.0001f, r + "," + c);
      }
    }
    assertEquals((long) rows * cols + 4 * Float.BYTES, w.byteSize());
  }

  @ParameterizedTest
  @CsvSource({"1, 128, 128, 128, 128", "130, 200, 128, 128, 5", "37, 96, 16, 32, 3", "9, 50, 4, 20, 6", "64, 256, 128, 128, 4"})
  void vectorKernelMatchesScalar(int rows, int cols, int blockRows, int blockCols, int tokens) {
    Matrix w = Matrix.fp8FromFloats("w", rows, cols, random(rows * cols, 2), blockRows, blockCols);
    MatmulInput x = MatmulInput.of(random(tokens * cols, 3), tokens, cols);
    float[] expected = new float[tokens * rows];
    new ScalarKernels().matmul(w, x, expected, 0, rows);
    float[] actual = new float[tokens * rows];
    java.util.Arrays.fill(actual, Float.NaN);
    int split = rows / 3;
    new VectorKernels().matmul(w, x, actual, 0, split);
    new VectorKernels().matmul(w, x, actual, split, rows);
    double maxRef = 0;
    double maxDiff = 0;
    for (int i = 0; i < expected.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(maxDiff <= 1e-5 * maxRef, "max diff " + maxDiff + " of " + maxRef);
    // A token's result does not depend on the other tokens of its batch (tiles of 4 and of 1 agree).
    float[] alone = new float[rows];
    MatmulInput last = MatmulInput.of(java.util.Arrays.copyOfRange(x.plain, (tokens - 1) * cols, tokens * cols), 1, cols);
    new VectorKernels().matmul(w, last, alone, 0, rows);
    for (int r = 0; r < rows; r++) {
      assertEquals(actual[(tokens - 1) * rows + r], alone[r], 0f);
    }
  }

  /** Every non-NaN code decodes in the vector kernel exactly as {@link Numerics#e4m3ToFloat}. */
  @Test
  void vectorDecodingOfEveryCode() {
    int cols = 64;
    byte[] codes = new byte[256 * cols];
    for (int code = 0; code < 256; code++) {
      boolean nan = (code & 0x7F) == 0x7F;
      codes[code * cols] = (byte) (nan ? 0 : code);
    }
    Matrix w = Matrix.fp8("codes", 256, cols, direct(codes), new float[] {1f, 1f}, 128, 128);
    float[] x = new float[cols];
    x[0] = 1f;
    float[] out = new float[256];
    new VectorKernels().matmul(w, MatmulInput.of(x, 1, cols), out, 0, 256);
    for (int code = 0; code < 256; code++) {
      if ((code & 0x7F) != 0x7F) {
        assertEquals(Numerics.e4m3ToFloat((byte) code), out[code], 0f, "code " + code);
      }
    }
  }

  @Test
  void quantizerRoundsToNearestCode() {
    for (int code = 0; code < 256; code++) {
      if ((code & 0x7F) == 0x7F) {
        continue;
      }
      float value = Numerics.e4m3ToFloat((byte) code);
      if (value != 0f || code == 0) {
        assertEquals((byte) code, Numerics.floatToE4m3(value), "code " + code);
      }
    }
    assertEquals(448f, Numerics.e4m3ToFloat(Numerics.floatToE4m3(1e6f)), 0f);
    assertEquals(DType.F8_E4M3, Matrix.fp8FromFloats("w", 2, 2, new float[4], 128, 128).dtype());
  }

  /** copyRow (the fast row decode latent attention uses) gives exactly get's values, for every dtype. */
  @Test
  void copyRowEqualsGet() {
    int rows = 7;
    int cols = 300;
    float[] values = random(rows * cols, 4);
    Matrix[] matrices = {Matrix.fp8FromFloats("f8", rows, cols, values, 4, 128),
        Matrix.fromFloats("f32", DType.F32, rows, cols, values), Matrix.fromFloats("bf16", DType.BF16, rows, cols, values),
        Matrix.fromFloats("f16", DType.F16, rows, cols, values)};
    for (Matrix w : matrices) {
      float[] row = new float[cols + 3];
      for (int r = 0; r < rows; r++) {
        w.copyRow(r, row, 3);
        for (int c = 0; c < cols; c++) {
          assertEquals(w.get(r, c), row[3 + c], 0f, w.name() + " " + r + "," + c);
        }
      }
    }
  }

  private static float[] random(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextDouble(-1, 1);
    }
    return values;
  }

  private static ByteBuffer direct(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(bytes).flip();
    return buffer;
  }
}
