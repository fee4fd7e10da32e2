package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * What every kernel of BF16 weights by BF16-rounded activations ({@code kernels: amx}, {@code avx512bf16}) must do,
 * against the plain twin {@link MatmulBf16Amx#reference}: activations rounded to BF16, products and sums in double.
 * Tolerance: {@code (cols + 1) * 2^-24 * sum |products|}, the classic bound of an FP32 sum of {@code cols} terms in
 * any order (each kernel's order is its own). A row or token mixed up with another, or a column dropped, misses it
 * by orders of magnitude. Bitwise: a token's result alone and in any batch, and a row's whatever the row range it
 * is computed in. Subclasses name the kernels and skip where the CPU cannot run them.
 */
abstract class RoundedBf16MatmulContract {
  /** The kernels under test. */
  abstract Kernels kernels();

  /** Whether /proc/cpuinfo lists {@code flag}. */
  static boolean cpuHas(String flag) throws IOException {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    return Files.isReadable(cpuinfo) && Files.readString(cpuinfo).contains(" " + flag);
  }

  @Test
  void everyShapeTokenCountAndRowRangeIsCloseToTheTwin() {
    SplittableRandom random = new SplittableRandom(21);
    int checked = 0;
    for (int misalignment : new int[] {0, 6, 1}) {
      for (int rows : new int[] {1, 15, 16, 17, 40}) {
        for (int cols : new int[] {2, 7, 32, 33, 100, 1056}) {
          Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, randomFloats(random, rows * cols), misalignment);
          for (int tokens : new int[] {1, 3, 16, 17, 70}) {
            float[] x = randomFloats(random, tokens * cols);
            String what = "misalignment " + misalignment + ", " + rows + "x" + cols + ", " + tokens + " tokens";
            checkAgainstTwin(w, x, tokens, 0, rows, what);
            if (rows > 2) {
              checkAgainstTwin(w, x, tokens, 1, rows - 1, what + ", interior rows");
            }
            checked++;
          }
        }
      }
    }
    assertEquals(3 * 5 * 6 * 5, checked);
  }

  @Test
  void aTokensResultIsTheSameAloneAsInAnyBatchAndAnyRowRange() {
    SplittableRandom random = new SplittableRandom(22);
    int rows = 45;
    int cols = 200;
    Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, randomFloats(random, rows * cols), 14);
    // Whole groups of 16 and a narrow last one (1-15 tokens) in the same pass or the next: 37 = 2 x 16 + 5,
    // 64 = 4 x 16 in one pass, 70 = 3 x 16 then 16 + 6.
    for (int tokens : new int[] {2, 15, 16, 17, 37, 64, 70}) {
      float[] batch = randomFloats(random, tokens * cols);
      float[] all = new float[tokens * rows];
      kernels().matmul(w, MatmulInput.of(batch, tokens, cols), all, 0, rows);
      float[] split = new float[tokens * rows];
      kernels().matmul(w, MatmulInput.of(batch, tokens, cols), split, 0, 7);
      kernels().matmul(w, MatmulInput.of(batch, tokens, cols), split, 7, 30);
      kernels().matmul(w, MatmulInput.of(batch, tokens, cols), split, 30, rows);
      for (int t = 0; t < tokens; t++) {
        float[] alone = new float[rows];
        kernels().matmul(w, MatmulInput.of(Arrays.copyOfRange(batch, t * cols, (t + 1) * cols), 1, cols), alone, 0, rows);
        for (int r = 0; r < rows; r++) {
          assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(all[t * rows + r]),
              "token " + t + " row " + r + ": alone " + alone[r] + ", in a batch of " + tokens + " " + all[t * rows + r]);
          assertEquals(Float.floatToRawIntBits(split[t * rows + r]), Float.floatToRawIntBits(all[t * rows + r]),
              "token " + t + " of " + tokens + " row " + r + ": rows split in three " + split[t * rows + r]
                  + ", all at once " + all[t * rows + r]);
        }
      }
    }
  }

  @Test
  void aNonFiniteWeightOrActivationStaysInItsRowOrToken() {
    SplittableRandom random = new SplittableRandom(23);
    int rows = 20;
    int cols = 64;
    float[] weights = randomFloats(random, rows * cols);
    weights[5 * cols + 3] = Float.NaN;
    weights[16 * cols + 40] = Float.POSITIVE_INFINITY;
    Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, weights, 0);
    int tokens = 3;
    float[] x = randomFloats(random, tokens * cols);
    x[cols + 10] = Float.NaN; // token 1
    float[] out = new float[tokens * rows];
    kernels().matmul(w, MatmulInput.of(x, tokens, cols), out, 0, rows);
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        float value = out[t * rows + r];
        if (t == 1 || r == 5) {
          assertTrue(Float.isNaN(value), "token " + t + " row " + r + " should be NaN: " + value);
        } else if (r == 16) {
          assertTrue(Float.isInfinite(value) || Float.isNaN(value), "row 16 should not be finite: " + value);
        } else {
          assertTrue(Float.isFinite(value), "token " + t + " row " + r + " should be finite: " + value);
        }
      }
    }
  }

  @Test
  void aNonFiniteWeightJustPastAPartialChunkStaysInItsRow() {
    SplittableRandom random = new SplittableRandom(24);
    for (int cols : new int[] {1, 33, 47, 95}) {
      int rows = 21;
      float[] weights = randomFloats(random, rows * cols);
      for (int r = 1; r < rows; r += 2) {
        weights[r * cols] = Float.NaN; // the first column of every odd row: right after the even row's last chunk
      }
      Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, weights, 2);
      int tokens = 5;
      float[] out = new float[tokens * rows];
      kernels().matmul(w, MatmulInput.of(randomFloats(random, tokens * cols), tokens, cols), out, 0, rows);
      for (int t = 0; t < tokens; t++) {
        for (int r = 0; r < rows; r++) {
          float value = out[t * rows + r];
          assertEquals(r % 2 == 1, Float.isNaN(value), cols + " columns, token " + t + " row " + r + ": " + value);
        }
      }
    }
  }

  @Test
  void activationsRoundToNearestEvenBf16() {
    assertEquals(1.0f, MatmulBf16Amx.toBf16(1.0f + 0x1p-8f)); // halfway, even below
    assertEquals(1.0f + 0x1p-6f, MatmulBf16Amx.toBf16(1.0f + 0x1p-7f + 0x1p-8f)); // halfway, even above
    assertEquals(1.0f + 0x1p-7f, MatmulBf16Amx.toBf16(1.0f + 0x1p-8f + 0x1p-20f)); // past halfway
    assertEquals(-3.0f, MatmulBf16Amx.toBf16(-3.0f));
    assertEquals(Float.POSITIVE_INFINITY, MatmulBf16Amx.toBf16(Float.MAX_VALUE)); // rounds past the largest bf16
    assertTrue(Float.isNaN(MatmulBf16Amx.toBf16(Float.intBitsToFloat(0x7F800001)))); // a NaN with low payload only
  }

  void checkAgainstTwin(Matrix w, float[] x, int tokens, int rowStart, int rowEnd, String what) {
    int rows = w.rows();
    float[] out = new float[tokens * rows];
    kernels().matmul(w, MatmulInput.of(x, tokens, w.cols()), out, rowStart, rowEnd);
    double[] magnitude = new double[1];
    double bound = (w.cols() + 1) * 0x1p-24;
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        float actual = out[t * rows + r];
        if (r < rowStart || r >= rowEnd) {
          assertEquals(0f, actual, what + ": row " + r + " outside [" + rowStart + ", " + rowEnd + ") was written");
          continue;
        }
        double expected = MatmulBf16Amx.reference(w, x, t, r, magnitude);
        double error = Math.abs(actual - expected);
        assertTrue(error <= bound * magnitude[0], what + ", token " + t + " row " + r + ": " + actual + " vs twin "
            + expected + ", error " + error + " > " + bound + " x " + magnitude[0]);
      }
    }
  }

  /** Random activations, a quarter of them special bit patterns and a sixteenth any bits at all. */
  static float[] activationsWithSpecialValues(SplittableRandom random, int n) {
    int[] specials = {0x7FC00000, 0xFFC00001, 0x7F800001, 0xFF812345, 0x7F800000, 0xFF800000, 0x00000000, 0x80000000,
        0x00000001, 0x807FFFFF, 0x00400000, 0x3F808000, 0x3F818000, 0xBF808000, 0x3F80FFFF, 0x7F7FFFFF, 0xFF7FFFFF,
        0x7F7F8000, 0x0000FFFF, 0x00008000};
    float[] x = randomFloats(random, n);
    for (int i = 0; i < x.length; i++) {
      if (random.nextInt(4) == 0) {
        x[i] = Float.intBitsToFloat(specials[random.nextInt(specials.length)]);
      } else if (random.nextInt(4) == 0) {
        x[i] = Float.intBitsToFloat(random.nextInt()); // any bits: every exponent, NaN payloads
      }
    }
    return x;
  }

  static void assertSameInts(int[] plain, int[] vector, String what) {
    assertEquals(plain.length, vector.length, what);
    for (int i = 0; i < plain.length; i++) {
      int index = i;
      assertEquals(plain[i], vector[i], () -> what + ", int " + index + ": plain " + Integer.toHexString(plain[index])
          + ", native " + Integer.toHexString(vector[index]));
    }
  }

  static float[] randomFloats(SplittableRandom random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return values;
  }
}
