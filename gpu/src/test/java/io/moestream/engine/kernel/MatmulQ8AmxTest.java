package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kernels: amx} on Q8_0 weights ({@link MatmulQ8Amx}) against its plain twin {@link MatmulQ8Amx#reference}:
 * bitwise (tolerance 0; the block sums are exact integers and the blocks are added in the same order with the
 * same fma), for row counts around the 16-row tile, token counts around the 16-token tile, row ranges, and
 * activations with very different magnitudes per block; a token's result alone and in a batch, and a row's in
 * any row range, bitwise the same.
 */
class MatmulQ8AmxTest {
  private static Kernels amx;

  @BeforeAll
  static void load() {
    assumeTrue(NativeKernels.amxAvailable(), () -> "AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    amx = Kernels.named("amx");
  }

  @Test
  void everyShapeTokenCountAndRowRangeIsBitwiseTheTwin() {
    SplittableRandom random = new SplittableRandom(41);
    int checked = 0;
    for (int rows : new int[] {1, 15, 16, 17, 40}) {
      for (int cols : new int[] {32, 64, 96, 1024}) {
        Matrix w = Q8Blocks.fromFloats("w", rows, cols, randomFloats(random, rows * cols, 1));
        for (int tokens : new int[] {1, 3, 16, 17, 40}) {
          float[] x = randomFloats(random, tokens * cols, 1);
          for (int c = 0; c < x.length; c += 64) { // blocks of very different magnitudes, and all-zero blocks
            x[c] *= 1000f;
          }
          if (cols >= 64) {
            Arrays.fill(x, 32, 64, 0f);
          }
          String what = rows + "x" + cols + ", " + tokens + " tokens";
          check(w, x, tokens, 0, rows, what);
          if (rows > 2) {
            check(w, x, tokens, 1, rows - 1, what + ", interior rows");
          }
          checked++;
        }
      }
    }
    assertEquals(5 * 4 * 5, checked);
  }

  @Test
  void aTokensResultIsTheSameAloneAsInABatchAndAnyRowRange() {
    SplittableRandom random = new SplittableRandom(42);
    int rows = 45;
    int cols = 256;
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, randomFloats(random, rows * cols, 1));
    int tokens = 37;
    float[] batch = randomFloats(random, tokens * cols, 3);
    float[] all = new float[tokens * rows];
    amx.matmul(w, MatmulInput.of(batch, tokens, cols), all, 0, rows);
    float[] split = new float[tokens * rows];
    amx.matmul(w, MatmulInput.of(batch, tokens, cols), split, 0, 21);
    amx.matmul(w, MatmulInput.of(batch, tokens, cols), split, 21, rows);
    for (int t = 0; t < tokens; t++) {
      float[] alone = new float[rows];
      amx.matmul(w, MatmulInput.of(Arrays.copyOfRange(batch, t * cols, (t + 1) * cols), 1, cols), alone, 0, rows);
      for (int r = 0; r < rows; r++) {
        assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(all[t * rows + r]),
            "token " + t + " row " + r + ": alone " + alone[r] + ", in a batch " + all[t * rows + r]);
        assertEquals(Float.floatToRawIntBits(split[t * rows + r]), Float.floatToRawIntBits(all[t * rows + r]),
            "token " + t + " row " + r + ": rows split " + split[t * rows + r] + ", all at once " + all[t * rows + r]);
      }
    }
  }

  @Test
  void aNonFiniteActivationStaysInItsToken() {
    SplittableRandom random = new SplittableRandom(43);
    int rows = 20;
    int cols = 64;
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, randomFloats(random, rows * cols, 1));
    float[] x = randomFloats(random, 3 * cols, 1);
    x[cols + 5] = Float.NaN; // token 1
    x[2 * cols + 40] = Float.POSITIVE_INFINITY; // token 2
    float[] out = new float[3 * rows];
    amx.matmul(w, MatmulInput.of(x, 3, cols), out, 0, rows);
    for (int r = 0; r < rows; r++) {
      assertTrue(Float.isFinite(out[r]), "token 0 row " + r + ": " + out[r]);
      assertTrue(Float.isNaN(out[rows + r]), "token 1 row " + r + ": " + out[rows + r]);
      assertTrue(!Float.isFinite(out[2 * rows + r]), "token 2 row " + r + ": " + out[2 * rows + r]);
    }
  }

  private static void check(Matrix w, float[] x, int tokens, int rowStart, int rowEnd, String what) {
    int rows = w.rows();
    float[] out = new float[tokens * rows];
    amx.matmul(w, MatmulInput.of(x, tokens, w.cols()), out, rowStart, rowEnd);
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        float expected = r < rowStart || r >= rowEnd ? 0f : MatmulQ8Amx.reference(w, x, t, r);
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[t * rows + r]),
            what + ", token " + t + " row " + r + ": twin " + expected + ", amx " + out[t * rows + r]);
      }
    }
  }

  private static float[] randomFloats(SplittableRandom random, int n, double scale) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
    }
    return values;
  }
}
