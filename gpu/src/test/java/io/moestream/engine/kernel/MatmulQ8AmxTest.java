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

  /**
   * The native activation quantizer is bitwise the plain loop: random blocks of every magnitude, ties (a block whose
   * scale is exactly 1), NaN and infinities, a subnormal maximum whose reciprocal scale overflows (codes past the int
   * range, which Java's casts saturate), all-zero blocks.
   */
  @Test
  void theNativeActivationQuantizerIsBitwiseThePlainLoop() {
    SplittableRandom random = new SplittableRandom(44);
    int tokens = 37;
    int cols = 256;
    float[] x = new float[tokens * cols];
    for (int b = 0; b < x.length / 32; b++) {
      double magnitude = Math.pow(10, random.nextInt(-40, 38));
      for (int i = 0; i < 32; i++) {
        x[b * 32 + i] = (float) ((random.nextDouble() * 2 - 1) * magnitude);
      }
    }
    Arrays.fill(x, 0, 32, 0f);
    float[] ties = {127f, -127f, 2.5f, -2.5f, 0.5f, -0.5f, 0.49999997f, -0.49999997f, 126.5f, -126.5f, -0f, 1.5f};
    System.arraycopy(ties, 0, x, 0, ties.length);
    x[32 + 3] = Float.NaN;
    x[64 + 7] = Float.POSITIVE_INFINITY;
    x[96 + 9] = Float.NEGATIVE_INFINITY;
    Arrays.fill(x, 128, 160, 0f);
    Arrays.fill(x, 160, 192, 0f);
    x[160] = Float.MIN_VALUE * 3; // scale 3 * 2^-149 / 127 rounds to 0: codes 0
    Arrays.fill(x, 192, 224, 0f);
    x[192] = 0x1p-126f; // scale subnormal, 1 / scale overflows to infinity
    x[193] = -0x1p-126f;
    x[194] = 0x1p-130f;
    float[] scales = new float[tokens * cols / 32];
    byte[] codes = new byte[tokens * cols];
    float[] plainScales = scales.clone();
    byte[] plainCodes = codes.clone();
    NativeKernels.quantizeQ8(x, tokens, cols, codes, scales);
    MatmulInput.quantizeQ8(x, tokens, cols, plainCodes, plainScales);
    for (int i = 0; i < scales.length; i++) {
      assertEquals(Float.floatToRawIntBits(plainScales[i]), Float.floatToRawIntBits(scales[i]), "scale of block " + i);
    }
    for (int i = 0; i < codes.length; i++) {
      assertEquals(plainCodes[i], codes[i], "code " + i + " (block " + i / 32 + ") of " + x[i]);
    }
    assertEquals(-1, plainCodes[192], "Java's (int) of +infinity is Integer.MAX_VALUE, whose low byte is -1");
    byte[] expectedTies = {127, -127, 3, -3, 1, -1, 0, 0, 127, -127, 0, 2};
    for (int i = 0; i < expectedTies.length; i++) {
      assertEquals(expectedTies[i], codes[i], "tie " + ties[i]);
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
