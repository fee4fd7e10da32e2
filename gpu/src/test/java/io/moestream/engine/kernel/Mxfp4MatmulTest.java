package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * gpt-oss's expert layouts: MXFP4 (E2M1 codes with an E8M0 scale per 32 values) against a plain decoding
 * of the OCP format written here, the Vector API kernels against the scalar definition for MXFP4 and for
 * matrices stored transposed, and batch invariance of both vector kernels.
 */
class Mxfp4MatmulTest {
  /** E2M1 values by code, written from the OCP MX spec's table (not from Numerics). */
  private static final float[] FP4 = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

  @Test
  void everyCodeAndScaleDecodesAsTheSpecSays() {
    int rows = 3;
    int cols = 64;
    byte[] blocks = new byte[rows * cols / 2];
    byte[] scales = new byte[rows * 2];
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = (byte) random.nextInt(256);
    }
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (byte) (127 + random.nextInt(-8, 8));
    }
    Matrix w = Matrix.mxfp4("w", rows, cols, direct(blocks), direct(scales));
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int packed = blocks[(r * cols + c) / 2] & 0xFF;
        int code = c % 2 == 0 ? packed & 0xF : packed >> 4;
        double expected = FP4[code] * Math.pow(2, (scales[r * 2 + c / 32] & 0xFF) - 127);
        assertEquals(expected, w.get(r, c), 0.0, r + "," + c);
      }
    }
    assertEquals(rows * cols / 2 + rows * 2, w.byteSize());
    for (int code = 0; code < 16; code++) {
      assertEquals(FP4[code], Numerics.e2m1ToFloat(code), 0f);
      assertEquals(code == 8 ? 0 : code, Numerics.floatToE2m1(FP4[code]) == 8 ? 0 : Numerics.floatToE2m1(FP4[code]));
    }
  }

  @Test
  void quantizationKeepsEachValueWithinHalfAStep() {
    int rows = 5;
    int cols = 96;
    float[] values = random(rows * cols, 1);
    Matrix w = ExpertLayouts.mxfp4FromFloats("w", rows, cols, values);
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < cols / 32; b++) {
        float amax = 0;
        for (int c = b * 32; c < b * 32 + 32; c++) {
          amax = Math.max(amax, Math.abs(values[r * cols + c]));
        }
        for (int c = b * 32; c < b * 32 + 32; c++) {
          // The largest gap between E2M1 values is 2 (4 to 6) at a scale that puts amax within (3, 6].
          assertTrue(Math.abs(w.get(r, c) - values[r * cols + c]) <= amax / 3 + 1e-6f, r + "," + c);
        }
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"1, 32, 1", "7, 64, 5", "40, 96, 4", "33, 320, 9"})
  void mxfp4VectorKernelMatchesScalar(int rows, int cols, int tokens) {
    Matrix w = ExpertLayouts.mxfp4FromFloats("w", rows, cols, random(rows * cols, 2));
    assertKernelsAgree(w, rows, cols, tokens);
  }

  @ParameterizedTest
  @CsvSource({"F32, 1, 8, 1", "F32, 19, 24, 5", "BF16, 40, 33, 4", "BF16, 67, 96, 6", "F16, 9, 16, 2"})
  void transposedVectorKernelMatchesScalar(DType dtype, int rows, int cols, int tokens) {
    float[] values = random(rows * cols, 4);
    Matrix w = ExpertLayouts.transposedFromFloats("w", dtype, rows, cols, values);
    Matrix plain = Matrix.fromFloats("w", dtype, rows, cols, values);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        assertEquals(plain.get(r, c), w.get(r, c), 0f);
      }
    }
    assertKernelsAgree(w, rows, cols, tokens);
  }

  private static void assertKernelsAgree(Matrix w, int rows, int cols, int tokens) {
    MatmulInput x = MatmulInput.of(random(tokens * cols, 3), tokens, cols);
    float[] expected = new float[tokens * rows];
    new ScalarKernels().matmul(w, x, expected, 0, rows);
    float[] actual = new float[tokens * rows];
    Arrays.fill(actual, Float.NaN);
    int split = rows / 3;
    new VectorKernels().matmul(w, x, actual, 0, split);
    new VectorKernels().matmul(w, x, actual, split, rows);
    double maxRef = 0;
    double maxDiff = 0;
    for (int i = 0; i < expected.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(maxDiff <= 1e-5 * Math.max(1, maxRef), "max diff " + maxDiff + " of max " + maxRef);
    // Batch invariance: each token alone gives the bits it got in the batch.
    for (int t = 0; t < tokens; t++) {
      float[] alone = new float[rows];
      new VectorKernels().matmul(w, MatmulInput.of(Arrays.copyOfRange(x.plain, t * cols, (t + 1) * cols), 1, cols),
          alone, 0, rows);
      for (int r = 0; r < rows; r++) {
        assertEquals(actual[t * rows + r], alone[r], 0f, "token " + t + " row " + r);
      }
    }
  }

  private static ByteBuffer direct(byte[] bytes) {
    return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
  }

  private static float[] random(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextDouble(-1, 1);
    }
    return v;
  }
}
