package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Q8_0 weights ({@code --weights int8}): the quantizer against values worked out by hand from ggml's
 * reference, the Vector API kernel against the scalar one, and batch invariance.
 */
class Q8MatmulTest {

  /**
   * Three blocks of one row. Block 0: max 63.5, so d = 0.5 (exact in FP16) and q = round(x * 2), halves away
   * from zero. Block 1: all zero, d = 0. Block 2: max 1, d = 1/127 = 0.0078740157, which FP16 rounds to
   * 1032 / 1024 * 2^-7 = 0.0078735352; the codes use the unrounded 1/d = 127.
   */
  @Test
  void quantizesAndDequantizesAsWorkedOutByHand() {
    float[] values = new float[96];
    values[0] = 63.5f;   // 127
    values[1] = 1.25f;   // 2.5 -> 3
    values[2] = -1.25f;  // -2.5 -> -3 (Math.round would give -2)
    values[3] = 0.74f;   // 1.48 -> 1
    values[4] = -0.25f;  // -0.5 -> -1
    values[5] = 0.2f;    // 0.4 -> 0
    values[6] = -63.5f;  // -127
    values[64] = 1f;     // 127
    values[65] = 0.3f;   // 38.1 -> 38
    values[66] = -1f;    // -127
    Matrix w = Q8Blocks.fromFloats("w", 1, 96, values);
    assertEquals(DType.Q8_0, w.dtype());
    int[] codes = {127, 3, -3, 1, -1, 0, -127};
    for (int c = 0; c < codes.length; c++) {
      assertEquals(codes[c], w.q8Code(0, c), "code " + c);
      assertEquals(codes[c] * 0.5f, w.get(0, c), 0f, "value " + c);
    }
    assertEquals(0.5f, w.q8Scale(0, 0), 0f);
    assertEquals(0f, w.q8Scale(0, 1), 0f);
    for (int c = 32; c < 64; c++) {
      assertEquals(0, w.q8Code(0, c));
      assertEquals(0f, w.get(0, c), 0f);
    }
    float d = 0.0078735352f;
    assertEquals(d, w.q8Scale(0, 2), 0f);
    assertEquals(127, w.q8Code(0, 64));
    assertEquals(38, w.q8Code(0, 65));
    assertEquals(-127, w.q8Code(0, 66));
    assertEquals(0.99993896f, w.get(0, 64), 0f);
    assertEquals(38 * d, w.get(0, 65), 0f);
    assertEquals(-0.99993896f, w.get(0, 66), 0f);
    assertEquals(16 * (96 + 3 * Float.BYTES), w.byteSize()); // one row padded to a group of 16
    assertEquals(w.byteSize(), w.ownedBytes());
  }

  @Test
  void roundsHalvesAwayFromZeroAsCRoundf() {
    assertEquals(3, Q8Blocks.roundHalfAwayFromZero(2.5f));
    assertEquals(-3, Q8Blocks.roundHalfAwayFromZero(-2.5f));
    assertEquals(0, Q8Blocks.roundHalfAwayFromZero(0.49999997f)); // floor(x + 0.5f) in float would give 1
    assertEquals(-1, Q8Blocks.roundHalfAwayFromZero(-0.5f));
    assertEquals(127, Q8Blocks.roundHalfAwayFromZero(126.5f));
  }

  /** Random rows: every value within half a step (d / 2, d FP16-rounded) of its quantized value; copyRow = get. */
  @Test
  void roundTripStaysWithinHalfAStep() {
    int rows = 9;
    int cols = 128;
    float[] values = random(rows * cols, 5);
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, values);
    float[] row = new float[cols];
    for (int r = 0; r < rows; r++) {
      w.copyRow(r, row, 0);
      for (int c = 0; c < cols; c++) {
        float d = w.q8Scale(r, c / 32);
        // half a step of the rounded scale, plus the scale's own FP16 rounding (at most 2^-11 relative) times 127
        float bound = d / 2 + 127 * d * 0x1p-11f;
        assertTrue(Math.abs(w.get(r, c) - values[r * cols + c]) <= bound, r + "," + c);
        assertEquals(w.get(r, c), row[c], 0f);
      }
    }
  }

  @Test
  void columnsNotAMultipleOf32NameTheMatrix() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Q8Blocks.allocate("model.layers.0.mlp.down_proj.weight", 4, 40));
    assertTrue(e.getMessage().contains("model.layers.0.mlp.down_proj.weight") && e.getMessage().contains("4x40"),
        e.getMessage());
    float[] values = new float[64];
    values[3] = Float.NaN;
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> Q8Blocks.fromFloats("nan.weight", 2, 32, values));
    assertTrue(nan.getMessage().contains("nan.weight") && nan.getMessage().contains("row 0, column 3"),
        nan.getMessage());
  }

  /** Quantizing a BF16 matrix gives the codes of its float values (what the load does to checkpoints). */
  @Test
  void quantizesBf16AsItsFloatValues() {
    float[] values = random(3 * 64, 6);
    Matrix bf16 = Matrix.fromFloats("w", DType.BF16, 3, 64, values);
    float[] widened = new float[values.length];
    for (int r = 0; r < 3; r++) {
      bf16.copyRow(r, widened, r * 64);
    }
    Matrix fromBf16 = Q8Blocks.quantize(bf16);
    Matrix fromFloats = Q8Blocks.fromFloats("w", 3, 64, widened);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 64; c++) {
        assertEquals(fromFloats.get(r, c), fromBf16.get(r, c), 0f);
      }
    }
  }

  /** Vector vs scalar within 1e-5 of the largest output (float fma sums vs double sums of exact weights). */
  @ParameterizedTest
  @CsvSource({"1, 32, 1", "7, 64, 5", "33, 96, 4", "64, 256, 9", "130, 512, 3"})
  void vectorKernelMatchesScalar(int rows, int cols, int tokens) {
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, random(rows * cols, 2));
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
    assertTrue(maxDiff <= 1e-5 * maxRef, "max diff " + maxDiff + " of " + maxRef);
  }

  /** Each token of a batch of 5 (a tile of 4, then one) gets bitwise the output it gets alone. */
  @Test
  void aTokensResultDoesNotDependOnItsBatch() {
    int rows = 45;
    int cols = 160;
    int tokens = 5;
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, random(rows * cols, 7));
    float[] xs = random(tokens * cols, 8);
    float[] batch = new float[tokens * rows];
    new VectorKernels().matmul(w, MatmulInput.of(xs, tokens, cols), batch, 0, rows);
    for (int t = 0; t < tokens; t++) {
      float[] alone = new float[rows];
      MatmulInput one = MatmulInput.of(Arrays.copyOfRange(xs, t * cols, (t + 1) * cols), 1, cols);
      new VectorKernels().matmul(w, one, alone, 0, rows);
      for (int r = 0; r < rows; r++) {
        assertEquals(Float.floatToRawIntBits(batch[t * rows + r]), Float.floatToRawIntBits(alone[r]),
            "token " + t + " row " + r);
      }
    }
  }

  /**
   * The layout: W[17, 37] of a 64-column matrix is in group 1 (bytes from 16 * 64), block 1 (+512), run 1 (+64),
   * row 1 of the group (+4), position 1 (+1); its scale is float (1 * 2 + 1) * 16 + 1. Rows past the end (the
   * padding of the last group) hold zero codes and scales.
   */
  @Test
  void storesGroupsOf16RowsInterleavedByRunsOf4Codes() {
    assertEquals(1024 + 512 + 64 + 4 + 1, Q8Blocks.codeIndex(17, 37, 64));
    assertEquals(49, Q8Blocks.scaleIndex(17, 1, 2));
    int rows = 20;
    int cols = 64;
    float[] values = random(rows * cols, 11);
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, values);
    assertEquals(32 * cols, w.bytes.capacity()); // 20 rows padded to 32
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        assertEquals(w.bytes.get(Q8Blocks.codeIndex(r, c, cols)), w.q8Code(r, c));
        assertEquals(w.q8Code(r, c) * w.q8Scale(r, c / 32), w.get(r, c), 0f);
        assertTrue(Math.abs(w.get(r, c) - values[r * cols + c]) <= w.q8Scale(r, c / 32), r + "," + c);
      }
    }
    for (int r = rows; r < 32; r++) {
      for (int c = 0; c < cols; c++) {
        assertEquals(0, w.bytes.get(Q8Blocks.codeIndex(r, c, cols)), "padding row " + r);
      }
      assertEquals(0f, w.q8Scales.getFloat(Q8Blocks.scaleIndex(r, 0, 2) * Float.BYTES), 0f);
    }
  }

  /**
   * The Vector API kernel is bitwise its definition (whatever the lane count): per row and block, four fma chains
   * over columns 4k + i, summed (p0 + p1) + (p2 + p3), folded into the row's sum with one fma by the scale; also
   * when the row range starts and ends inside a group and with 1-9 tokens (tiles of 4 and single tokens).
   */
  @ParameterizedTest
  @CsvSource({"1, 32, 1", "5, 64, 3", "16, 96, 4", "45, 160, 9", "70, 256, 5"})
  void vectorKernelIsBitwiseItsDefinition(int rows, int cols, int tokens) {
    Matrix w = Q8Blocks.fromFloats("w", rows, cols, random(rows * cols, 12));
    float[] xs = random(tokens * cols, 13);
    float[] actual = new float[tokens * rows];
    Arrays.fill(actual, Float.NaN);
    int[] cuts = {0, rows / 3, rows / 3 + 1, rows};
    for (int i = 0; i + 1 < cuts.length; i++) {
      new VectorKernels().matmul(w, MatmulInput.of(xs, tokens, cols), actual, cuts[i], cuts[i + 1]);
    }
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        float acc = 0f;
        for (int b = 0; b < cols / 32; b++) {
          float[] partial = new float[4];
          for (int c = b * 32; c < (b + 1) * 32; c++) {
            partial[c % 4] = Math.fma((float) w.q8Code(r, c), xs[t * cols + c], partial[c % 4]);
          }
          acc = Math.fma((partial[0] + partial[1]) + (partial[2] + partial[3]), w.q8Scale(r, b), acc);
        }
        assertEquals(Float.floatToRawIntBits(acc), Float.floatToRawIntBits(actual[t * rows + r]),
            "token " + t + " row " + r);
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
}
