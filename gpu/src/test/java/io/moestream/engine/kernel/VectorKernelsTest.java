package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.moestream.engine.format.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link VectorKernels} held to {@link ScalarKernels}, the plain reference (which accumulates in double).
 *
 * <p>Tolerances: matmul max|vector - scalar| / max|scalar| <= 1e-5 over every (token, row) of a case;
 * dot within 1e-5 of sum |a b|; rmsNorm and siluMul within 1e-5 relative per element; axpy within 2 ulp
 * of |y| + |alpha x| (the vector version fuses the multiply-add). Every output buffer is poisoned with NaN
 * first: each element a kernel must write is checked written, each element outside its range untouched.
 */
class VectorKernelsTest {
  private static final int[] ROWS = {1, 3, 4, 5, 17, 64};
  /** Around the float vector length, the 16-bit pair block (2 x lanes) and their tails. */
  private static final int[] COLS = {8, 31, 32, 33, 64, 100, 512};
  private static final int[] TOKENS = {1, 2, 3, 4, 5, 8, 9};
  private static final double MATMUL_TOLERANCE = 1e-5;

  private final Kernels scalar = new ScalarKernels();
  private final Kernels vector = new VectorKernels();

  @Test
  void shapesCoverTheVectorTailAndThePairedLayout() {
    // The column list is only meaningful if it straddles a full 16-bit pair block and a float vector.
    int block = MatmulInput.PAIR_BLOCK;
    int lanes = MatmulInput.LANES;
    assertTrue(Arrays.stream(COLS).anyMatch(c -> c > block && c % block != 0), "a column count with a pair-block tail");
    assertTrue(Arrays.stream(COLS).anyMatch(c -> c % block == 0), "a column count of whole pair blocks");
    assertTrue(Arrays.stream(COLS).anyMatch(c -> c < lanes || c % lanes != 0), "a column count with a float-vector tail");
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void matmulMatchesScalarOverShapesAndRowRanges(DType dtype) {
    SplittableRandom random = new SplittableRandom(7 + dtype.ordinal());
    List<String> failures = new ArrayList<>();
    int cases = 0;
    for (int rows : ROWS) {
      for (int cols : COLS) {
        Matrix w = Matrix.fromFloats("w", dtype, rows, cols, uniform(random, rows * cols, 1.0));
        for (int tokens : TOKENS) {
          MatmulInput x = MatmulInput.of(uniform(random, tokens * cols, 1.0), tokens, cols);
          for (int[] range : rowRanges(rows)) {
            String label = dtype + " rows=" + rows + " cols=" + cols + " tokens=" + tokens
                + " range=[" + range[0] + "," + range[1] + ")";
            compareMatmul(w, x, range[0], range[1], label, failures);
            cases++;
          }
        }
      }
    }
    assertTrue(cases > 500, "ran " + cases + " cases");
    assertTrue(failures.isEmpty(), failures.size() + " of " + cases + " cases failed:\n" + String.join("\n", failures));
  }

  /** Whole, leading, trailing, interior and unaligned row ranges, and the empty one. */
  private static List<int[]> rowRanges(int rows) {
    List<int[]> ranges = new ArrayList<>();
    ranges.add(new int[] {0, rows});
    if (rows >= 3) {
      ranges.add(new int[] {1, rows - 1});
      ranges.add(new int[] {0, rows / 2});
      ranges.add(new int[] {rows / 2, rows});
    }
    if (rows >= 17) {
      ranges.add(new int[] {4, 9});
      ranges.add(new int[] {rows - 1, rows});
    }
    ranges.add(new int[] {rows / 2, rows / 2});
    return ranges;
  }

  private void compareMatmul(Matrix w, MatmulInput x, int rowStart, int rowEnd, String label, List<String> failures) {
    int rows = w.rows();
    int size = x.numTokens() * rows;
    float[] expected = poisoned(size);
    float[] actual = poisoned(size);
    scalar.matmul(w, x, expected, rowStart, rowEnd);
    vector.matmul(w, x, actual, rowStart, rowEnd);
    double maxDiff = 0;
    double maxRef = 0;
    for (int t = 0; t < x.numTokens(); t++) {
      for (int r = 0; r < rows; r++) {
        int i = t * rows + r;
        boolean inRange = r >= rowStart && r < rowEnd;
        if (!inRange) {
          if (!isPoison(actual[i])) {
            failures.add(label + ": wrote row " + r + " of token " + t + " outside its range: " + actual[i]);
            return;
          }
          continue;
        }
        if (!Float.isFinite(actual[i]) || !Float.isFinite(expected[i])) {
          failures.add(label + ": row " + r + " token " + t + " not written (vector " + actual[i]
              + ", scalar " + expected[i] + ")");
          return;
        }
        maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
        maxRef = Math.max(maxRef, Math.abs(expected[i]));
      }
    }
    if (maxDiff > MATMUL_TOLERANCE * maxRef) {
      failures.add(label + ": max|diff| " + maxDiff + " / max|ref| " + maxRef + " = " + maxDiff / maxRef);
    }
  }

  @Test
  void f16MatmulWidensSubnormalAndNegativeWeights() {
    // Half subnormals are below 2^-14 (6.1e-5); the vector kernel widens them with a rebias that must
    // agree with the scalar definition, signs included.
    SplittableRandom random = new SplittableRandom(3);
    int rows = 9;
    for (int cols : new int[] {33, 64, 100}) {
      float[] values = new float[rows * cols];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) ((random.nextDouble() * 2 - 1) * 6e-5); // subnormal or smallest normal halves
      }
      values[0] = -0f;
      values[1] = 65504f; // largest half
      values[2] = -65504f;
      Matrix w = Matrix.fromFloats("subnormal", DType.F16, rows, cols, values);
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          boolean negative = Float.floatToRawIntBits(values[r * cols + c]) < 0;
          assertEquals(negative, Float.floatToRawIntBits(w.get(r, c)) < 0, "sign of (" + r + "," + c + ")");
        }
      }
      for (int tokens : new int[] {1, 4, 5}) {
        MatmulInput x = MatmulInput.of(uniform(random, tokens * cols, 1.0), tokens, cols);
        List<String> failures = new ArrayList<>();
        compareMatmul(w, x, 0, rows, "f16 subnormal cols=" + cols + " tokens=" + tokens, failures);
        // Rows 1.. hold only subnormals: compare them on their own scale, not against row 0's 65504.
        compareMatmul(w, x, 1, rows, "f16 subnormal rows 1.. cols=" + cols + " tokens=" + tokens, failures);
        float[] out = new float[tokens * rows];
        vector.matmul(w, x, out, 1, rows);
        for (int i = 0; i < out.length; i++) {
          if (i % rows != 0) {
            assertTrue(Math.abs(out[i]) < 1e-2 && out[i] != 0, "subnormal row sum " + out[i] + " at " + i);
          }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
      }
    }
  }

  /**
   * Tiles of 4 tokens and single tokens accumulate each (row, token) in the same order, so a token's
   * result does not depend on the batch around it: bitwise, for every dtype and data placement.
   */
  @Test
  void aTokensResultDoesNotDependOnItsBatch() {
    SplittableRandom random = new SplittableRandom(23);
    for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
      for (int misalignment : new int[] {0, 2, 40}) {
        for (int cols : new int[] {33, 64, 512}) {
          int rows = 6;
          Matrix w = Matrix.fromFloats("w", dtype, rows, cols, uniform(random, rows * cols, 1.0), misalignment);
          int tokens = 9;
          float[] xs = uniform(random, tokens * cols, 1.0);
          float[] batched = new float[tokens * rows];
          vector.matmul(w, MatmulInput.of(xs, tokens, cols), batched, 0, rows);
          for (int t = 0; t < tokens; t++) {
            float[] alone = new float[rows];
            vector.matmul(w, MatmulInput.of(Arrays.copyOfRange(xs, t * cols, (t + 1) * cols), 1, cols), alone, 0, rows);
            for (int r = 0; r < rows; r++) {
              assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batched[t * rows + r]),
                  dtype + " misalignment " + misalignment + " cols " + cols + ": token " + t + " row " + r);
            }
          }
        }
      }
    }
  }

  /**
   * A (row, token) result of a 16-bit matmul is bitwise the same alone, in a batch of 11 (two 4-token tiles
   * and three single tokens), and in any row range a thread is given, on a wide matrix (4,096 columns).
   */
  @Test
  void rowBlocksAndRowPairsKeepEveryResultIndependentOfBatchAndRange() {
    SplittableRandom random = new SplittableRandom(29);
    int rows = 67;
    int cols = 4096;
    int tokens = 11;
    for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
      for (int misalignment : new int[] {0, 6}) {
        Matrix w = Matrix.fromFloats("w", dtype, rows, cols, uniform(random, rows * cols, 1.0), misalignment);
        float[] xs = uniform(random, tokens * cols, 1.0);
        MatmulInput batch = MatmulInput.of(xs, tokens, cols);
        float[] whole = new float[tokens * rows];
        vector.matmul(w, batch, whole, 0, rows);
        float[] split = new float[tokens * rows];
        for (int[] range : new int[][] {{0, 1}, {1, 34}, {34, 35}, {35, rows}}) {
          vector.matmul(w, batch, split, range[0], range[1]);
        }
        for (int t = 0; t < tokens; t++) {
          float[] alone = new float[rows];
          vector.matmul(w, MatmulInput.of(Arrays.copyOfRange(xs, t * cols, (t + 1) * cols), 1, cols), alone, 0, rows);
          for (int r = 0; r < rows; r++) {
            String where = dtype + " misalignment " + misalignment + ": token " + t + " row " + r;
            assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(whole[t * rows + r]), where);
            assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(split[t * rows + r]), where + " (split)");
          }
        }
        List<String> failures = new ArrayList<>();
        compareMatmul(w, batch, 0, rows, dtype + " rows=" + rows + " cols=" + cols, failures);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
      }
    }
  }

  /**
   * {@code out[r]} depends on row r of W only: an infinite weight in one row gives an infinite or NaN
   * result in that row and leaves its neighbours finite, wherever the data sits in memory.
   */
  @Test
  void aNonFiniteWeightStaysInItsOwnRow() {
    for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
      for (int misalignment : new int[] {0, 2, 40}) {
        int rows = 5;
        int cols = 64;
        float[] values = new float[rows * cols];
        Arrays.fill(values, 0.5f);
        values[2 * cols - 1] = Float.POSITIVE_INFINITY; // last weight of row 1
        values[3 * cols + 0] = Float.POSITIVE_INFINITY; // first weight of row 3
        Matrix w = Matrix.fromFloats("w", dtype, rows, cols, values, misalignment);
        float[] x = new float[cols];
        Arrays.fill(x, 1f);
        float[] out = new float[rows];
        vector.matmul(w, MatmulInput.of(x, 1, cols), out, 0, rows);
        for (int r : new int[] {0, 2, 4}) {
          assertEquals(32f, out[r], dtype + " misalignment " + misalignment + ": row " + r + " = " + out[r]
              + " picked up a neighbouring row's weight");
        }
        assertTrue(Float.isInfinite(out[1]) && Float.isInfinite(out[3]), Arrays.toString(out));
      }
    }
  }

  @Test
  void matmulRejectsAnInputOfTheWrongWidth() {
    Matrix w = Matrix.fromFloats("w", DType.F32, 2, 8, new float[16]);
    MatmulInput x = MatmulInput.of(new float[9], 1, 9);
    try {
      vector.matmul(w, x, new float[2], 0, 2);
      fail("expected an error for 9 input columns against 8");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().contains("9") && e.getMessage().contains("8"), e.getMessage());
    }
  }

  private static final int[] LENGTHS = {1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 513};

  @Test
  void dotMatchesScalar() {
    SplittableRandom random = new SplittableRandom(11);
    for (int n : LENGTHS) {
      for (int offset : new int[] {0, 3}) {
        float[] a = uniform(random, n + 4, 2.0);
        float[] b = uniform(random, n + 4, 2.0);
        int bOffset = offset == 0 ? 1 : 0; // a and b at different offsets
        float expected = scalar.dot(a, offset, b, bOffset, n);
        float actual = vector.dot(a, offset, b, bOffset, n);
        double scale = 0;
        for (int i = 0; i < n; i++) {
          scale += Math.abs((double) a[offset + i] * b[bOffset + i]);
        }
        assertTrue(Math.abs(actual - expected) <= 1e-5 * scale,
            "dot n=" + n + " offset=" + offset + ": " + actual + " vs " + expected);
      }
    }
  }

  @Test
  void axpyRowsIsBitwiseItsLoopOfAxpysAndTouchesOnlyItsRange() {
    SplittableRandom random = new SplittableRandom(14);
    for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 100, 512, 513}) {
      for (int count : new int[] {1, 2, 16, 17}) {
        int yOffset = 3;
        float[] alphas = uniform(random, count + 2, 2.0);
        float[] rows = uniform(random, count * n + 5, 1.0);
        float[] looped = poisoned(n + 2 * yOffset);
        float[] init = uniform(random, n, 1.0);
        System.arraycopy(init, 0, looped, yOffset, n);
        float[] blocked = looped.clone();
        for (int i = 0; i < count; i++) {
          vector.axpy(alphas[2 + i], rows, 5 + i * n, looped, yOffset, n);
        }
        vector.axpyRows(alphas, 2, rows, 5, count, blocked, yOffset, n);
        for (int i = 0; i < blocked.length; i++) {
          assertEquals(Float.floatToRawIntBits(looped[i]), Float.floatToRawIntBits(blocked[i]),
              "axpyRows n=" + n + " count=" + count + " at " + i + ": " + blocked[i] + ", axpys " + looped[i]);
        }
      }
    }
  }

  @Test
  void axpyMatchesScalarAndTouchesOnlyItsRange() {
    SplittableRandom random = new SplittableRandom(13);
    for (int n : LENGTHS) {
      int yOffset = 5;
      float alpha = (float) (random.nextDouble() * 4 - 2);
      float[] x = uniform(random, n + 3, 1.0);
      float[] yScalar = poisoned(n + 2 * yOffset);
      float[] init = uniform(random, n, 1.0);
      System.arraycopy(init, 0, yScalar, yOffset, n);
      float[] yVector = yScalar.clone();
      scalar.axpy(alpha, x, 3, yScalar, yOffset, n);
      vector.axpy(alpha, x, 3, yVector, yOffset, n);
      for (int i = 0; i < yVector.length; i++) {
        boolean inRange = i >= yOffset && i < yOffset + n;
        if (!inRange) {
          assertTrue(isPoison(yVector[i]), "axpy n=" + n + " wrote outside its range at " + i);
        } else {
          double bound = 2 * Math.ulp(Math.abs(init[i - yOffset]) + Math.abs(alpha * x[3 + i - yOffset]));
          assertTrue(Math.abs(yVector[i] - yScalar[i]) <= bound,
              "axpy n=" + n + " at " + i + ": " + yVector[i] + " vs " + yScalar[i]);
        }
      }
    }
  }

  @Test
  void rmsNormMatchesScalarInPlaceAndOutOfPlace() {
    SplittableRandom random = new SplittableRandom(17);
    for (int n : LENGTHS) {
      float[] x = uniform(random, n + 4, 3.0);
      float[] weight = uniform(random, n, 1.0);
      int outOffset = 2;
      float[] expected = poisoned(n + 2 * outOffset);
      float[] actual = poisoned(n + 2 * outOffset);
      scalar.rmsNorm(x, 4, weight, 1e-6f, expected, outOffset, n);
      vector.rmsNorm(x, 4, weight, 1e-6f, actual, outOffset, n);
      assertCloseInRange(expected, actual, outOffset, n, 1e-5, "rmsNorm n=" + n);

      float[] inPlace = x.clone();
      vector.rmsNorm(inPlace, 4, weight, 1e-6f, inPlace, 4, n);
      for (int i = 0; i < n; i++) {
        assertTrue(Math.abs(inPlace[4 + i] - expected[outOffset + i]) <= 1e-5 * Math.abs(expected[outOffset + i]) + 1e-30,
            "in-place rmsNorm n=" + n + " at " + i);
      }
      for (int i = 0; i < 4; i++) {
        assertEquals(x[i], inPlace[i], "in-place rmsNorm changed a value before its offset");
      }
    }
  }

  @Test
  void siluMulMatchesScalarAndTouchesOnlyItsRange() {
    SplittableRandom random = new SplittableRandom(19);
    for (int n : LENGTHS) {
      int offset = 3;
      float[] gate = poisoned(n + 2 * offset);
      float[] up = uniform(random, n + 2 * offset, 2.0);
      float[] values = uniform(random, n, 8.0); // silu's tails: large negative and positive gates
      System.arraycopy(values, 0, gate, offset, n);
      float[] expected = gate.clone();
      scalar.siluMul(expected, up, offset, n);
      vector.siluMul(gate, up, offset, n);
      assertCloseInRange(expected, gate, offset, n, 1e-5, "siluMul n=" + n);
    }
  }

  private static void assertCloseInRange(float[] expected, float[] actual, int offset, int n, double tolerance, String label) {
    for (int i = 0; i < actual.length; i++) {
      boolean inRange = i >= offset && i < offset + n;
      if (!inRange) {
        assertTrue(isPoison(actual[i]), label + ": wrote outside its range at " + i);
        continue;
      }
      assertFalse(Float.isNaN(actual[i]), label + ": element " + i + " not written");
      assertTrue(Math.abs(actual[i] - expected[i]) <= tolerance * Math.abs(expected[i]) + 1e-30,
          label + " at " + i + ": " + actual[i] + " vs " + expected[i]);
    }
  }

  /** A NaN with a payload no arithmetic produces, so "untouched" means exactly that. */
  private static final int POISON_BITS = 0x7FC0_BEEF;

  private static float[] poisoned(int n) {
    float[] values = new float[n];
    Arrays.fill(values, Float.intBitsToFloat(POISON_BITS));
    return values;
  }

  private static boolean isPoison(float value) {
    return Float.floatToRawIntBits(value) == POISON_BITS;
  }

  static float[] uniform(SplittableRandom random, int n, double bound) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return values;
  }
}
