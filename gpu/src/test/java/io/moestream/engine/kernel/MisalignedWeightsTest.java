package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * 16-bit weights whose data does not start on a 64-byte boundary (the usual case in a mapped
 * safetensors file) are read in aligned chunks for interior rows; the result must still equal the
 * scalar reference for every misalignment, token count and row range. Tolerance: |diff| <= 1e-5 x the
 * sum of |w x| over the row (the scale of float rounding in a dot product; the reference accumulates in
 * double).
 */
class MisalignedWeightsTest {
  private final Kernels vector = new VectorKernels();
  private final Kernels scalar = new ScalarKernels();

  @Test
  void everyEvenMisalignmentMatchesTheScalarReference() {
    SplittableRandom random = new SplittableRandom(7);
    int block = MatmulInput.PAIR_BLOCK;
    for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
      for (int misalignment = 0; misalignment < 64; misalignment += 2) {
        for (int rows : new int[] {3, 5, 17}) {
          for (int cols : new int[] {block, 2 * block, 3 * block}) {
            float[] values = randomFloats(random, rows * cols);
            Matrix w = Matrix.fromFloats("w", dtype, rows, cols, values, misalignment);
            assertEquals(misalignment, w.misalignment(), "the test must place the data where it says");
            for (int tokens : new int[] {1, 3, 4, 5}) {
              MatmulInput x = MatmulInput.of(randomFloats(random, tokens * cols), tokens, cols);
              check(w, x, 0, rows, dtype + " misalignment " + misalignment + " " + rows + "x" + cols + " tokens " + tokens);
              check(w, x, 1, rows - 1, dtype + " interior rows, misalignment " + misalignment);
            }
          }
        }
      }
    }
  }

  private void check(Matrix w, MatmulInput x, int rowStart, int rowEnd, String what) {
    int size = x.numTokens() * w.rows();
    float[] expected = new float[size];
    float[] actual = new float[size];
    Arrays.fill(expected, Float.NaN);
    Arrays.fill(actual, Float.NaN);
    scalar.matmul(w, x, expected, rowStart, rowEnd);
    vector.matmul(w, x, actual, rowStart, rowEnd);
    for (int t = 0; t < x.numTokens(); t++) {
      for (int r = 0; r < w.rows(); r++) {
        int i = t * w.rows() + r;
        if (r < rowStart || r >= rowEnd) {
          assertTrue(Float.isNaN(actual[i]), what + ": row " + r + " outside the range was written");
          continue;
        }
        assertTrue(Float.isFinite(actual[i]), what + ": row " + r + " token " + t + " not written");
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
          magnitude += Math.abs(w.get(r, c) * x.plain[t * w.cols() + c]);
        }
        assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-5 * magnitude,
            what + ": row " + r + " token " + t + " differs by " + Math.abs(expected[i] - actual[i])
                + " (sum |w x| = " + magnitude + ")");
      }
    }
  }

  private static float[] randomFloats(SplittableRandom random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextDouble(-1, 1);
    }
    return v;
  }
}
