package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moestream.engine.format.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native kernels against the Java Vector API kernels they twin. BF16 matmul tiles: bitwise equal (tolerance 0) for
 * every misalignment of the data, row count and range (2-row tiles and a remainder row), token count (1 to
 * 5-token tiles and remainders), columns with and without a tail past the last 32-column chunk; and a
 * token's result the same alone as in any batch. Attention's scores and weighted values: bitwise the
 * per-key loops of {@link VectorKernels#dot} and {@link VectorKernels#axpy} for 1 to 12 query heads sharing
 * their keys, head sizes with and without a tail past the last vector, 1 to 40 keys at scattered cache offsets. The Java kernel is held to the scalar reference by
 * VectorKernelsTest and MisalignedWeightsTest, so these tests tie the native kernel to it too.
 */
class NativeKernelsTest {
  private static final Kernels JAVA = new VectorKernels();
  private static Kernels tiles;

  @BeforeAll
  static void load() {
    // the gpu build compiles the library wherever gcc is installed: there it must load
    if (Files.isExecutable(Path.of("/usr/bin/gcc")) && MatmulInput.LANES == 16) {
      assertTrue(NativeKernels.available(), "gcc is installed but the native kernels did not load: "
          + NativeKernels.unavailableReason());
    }
    assumeTrue(NativeKernels.available(), () -> "native kernels unavailable: " + NativeKernels.unavailableReason());
    tiles = new VectorKernels(true);
  }

  @Test
  void everyShapeMisalignmentAndRowRangeIsBitwiseTheJavaKernel() {
    SplittableRandom random = new SplittableRandom(11);
    int checked = 0;
    for (int misalignment : new int[] {0, 2, 6, 30, 46, 62, 1, 17}) {
      for (int rows : new int[] {1, 2, 3, 4, 5, 7, 17}) {
        for (int cols : new int[] {16, 32, 48, 96, 1056}) {
          float[] values = randomFloats(random, rows * cols);
          Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, values, misalignment);
          for (int tokens : new int[] {1, 2, 3, 4, 5, 7, 9, 16}) {
            MatmulInput x = MatmulInput.of(randomFloats(random, tokens * cols), tokens, cols);
            String what = "misalignment " + misalignment + ", " + rows + "x" + cols + ", " + tokens + " tokens";
            check(w, x, 0, rows, what);
            if (rows > 2) {
              check(w, x, 1, rows - 1, what + ", interior rows");
              check(w, x, rows / 2, rows, what + ", last rows");
            }
            checked++;
          }
        }
      }
    }
    assertEquals(8 * 7 * 5 * 8, checked);
  }

  @Test
  void aTokensResultIsTheSameAloneAsInAnyBatch() {
    SplittableRandom random = new SplittableRandom(12);
    int rows = 40;
    int cols = 512;
    Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, randomFloats(random, rows * cols), 14);
    float[] batch = randomFloats(random, 13 * cols);
    float[] all = new float[13 * rows];
    tiles.matmul(w, MatmulInput.of(batch, 13, cols), all, 0, rows);
    for (int t = 0; t < 13; t++) {
      float[] alone = new float[rows];
      tiles.matmul(w, MatmulInput.of(Arrays.copyOfRange(batch, t * cols, (t + 1) * cols), 1, cols), alone, 0, rows);
      for (int r = 0; r < rows; r++) {
        assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(all[t * rows + r]),
            "token " + t + " row " + r + ": alone " + alone[r] + ", in a batch of 13 " + all[t * rows + r]);
      }
    }
  }

  @Test
  void aNonFiniteNeighbourRowDoesNotLeakIntoARow() {
    int rows = 5;
    int cols = 64;
    float[] values = new float[rows * cols];
    Arrays.fill(values, 0.5f);
    Arrays.fill(values, 0, cols, Float.NaN); // row 0
    Arrays.fill(values, 4 * cols, 5 * cols, Float.POSITIVE_INFINITY); // row 4
    float[] input = new float[cols];
    Arrays.fill(input, 1f);
    for (int misalignment = 0; misalignment < 64; misalignment += 2) {
      Matrix w = Matrix.fromFloats("w", DType.BF16, rows, cols, values, misalignment);
      float[] out = new float[rows];
      tiles.matmul(w, MatmulInput.of(input, 1, cols), out, 0, rows);
      for (int r = 1; r < 4; r++) {
        assertEquals(32f, out[r], "row " + r + " at misalignment " + misalignment);
      }
    }
  }

  @Test
  void attentionScoresAndWeightedValuesAreBitwiseTheJavaLoops() {
    SplittableRandom random = new SplittableRandom(13);
    VectorKernels java = new VectorKernels();
    int checked = 0;
    for (int heads : new int[] {1, 2, 3, 4, 5, 8, 12}) {
      for (int n : new int[] {8, 16, 64, 72, 112, 128, 200, 576}) { // 576: a latent row; 112 and 200: odd chunks
        for (int count : new int[] {1, 2, 15, 16, 17, 33, 40}) {
          float[] cache = randomFloats(random, 64 * n + 7);
          int[] offsets = new int[count];
          for (int j = 0; j < count; j++) {
            offsets[j] = random.nextInt(64) * n + random.nextInt(7); // scattered, not in order, may repeat
          }
          String what = heads + " heads, n " + n + ", " + count + " keys";
          float[] q = randomFloats(random, heads * n + 5);
          float[] expected = new float[heads * count];
          float[] actual = new float[heads * count];
          java.scaledDots(q, 5, heads, cache, offsets, count, n, 0.125f, expected);
          tiles.scaledDots(q, 5, heads, cache, offsets, count, n, 0.125f, actual);
          for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                what + ": head " + i / count + " score " + i % count + ": Java " + expected[i] + ", native " + actual[i]);
          }
          float[] weights = randomFloats(random, heads * count);
          float[] yJava = randomFloats(random, heads * n + 3);
          float[] yNative = yJava.clone();
          java.weightedSum(weights, heads, cache, offsets, count, yJava, 3, n);
          tiles.weightedSum(weights, heads, cache, offsets, count, yNative, 3, n);
          for (int i = 0; i < yJava.length; i++) {
            assertEquals(Float.floatToRawIntBits(yJava[i]), Float.floatToRawIntBits(yNative[i]),
                what + ": element " + i + ": Java " + yJava[i] + ", native " + yNative[i]);
          }
          checked++;
        }
      }
    }
    assertEquals(7 * 8 * 7, checked);
  }

  private static void check(Matrix w, MatmulInput x, int rowStart, int rowEnd, String what) {
    int size = x.numTokens() * w.rows();
    float[] expected = new float[size];
    float[] actual = new float[size];
    Arrays.fill(expected, Float.NaN);
    Arrays.fill(actual, Float.NaN);
    JAVA.matmul(w, x, expected, rowStart, rowEnd);
    tiles.matmul(w, x, actual, rowStart, rowEnd);
    for (int i = 0; i < size; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        throw new AssertionError(what + ": token " + i / w.rows() + " row " + i % w.rows() + ": Java " + expected[i]
            + ", native " + actual[i]);
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
