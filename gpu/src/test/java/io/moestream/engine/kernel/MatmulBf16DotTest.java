package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kernels: avx512bf16} ({@link MatmulBf16Dot}): the contract of {@link RoundedBf16MatmulContract} (its
 * shapes cover partial chunks, row tails of 1-3, token tiles of 1-6 and several token blocks' worth of
 * tokens for small matrices), and its activation rows packed natively bitwise as the plain loop packs them.
 */
class MatmulBf16DotTest extends RoundedBf16MatmulContract {
  private static Kernels dot;

  @BeforeAll
  static void load() throws IOException {
    // where the library loads and the CPU has AVX512_BF16, the kernels must be usable
    if (NativeKernels.available() && cpuHas("avx512_bf16") && cpuHas("avx512bw")) {
      assertTrue(NativeKernels.bf16DotAvailable(), "the CPU has avx512_bf16 but the kernels are unavailable: "
          + NativeKernels.bf16DotUnavailableReason());
    }
    assumeTrue(NativeKernels.bf16DotAvailable(),
        () -> "AVX512_BF16 kernels unavailable: " + NativeKernels.bf16DotUnavailableReason());
    dot = Kernels.named(Kernels.AVX512_BF16);
  }

  @Override
  Kernels kernels() {
    return dot;
  }

  @Test
  void nativeRowPackingIsBitwiseThePlainLoop() {
    SplittableRandom random = new SplittableRandom(25);
    for (int tokens : new int[] {1, 2, 7}) {
      for (int cols : new int[] {1, 2, 15, 16, 17, 31, 32, 33, 64, 100}) {
        float[] x = activationsWithSpecialValues(random, tokens * cols);
        int[] plain = new int[MatmulInput.bf16RowInts(tokens, cols)];
        int[] vector = new int[plain.length];
        MatmulInput.packBf16Rows(x, tokens, cols, plain);
        NativeKernels.packBf16Rows(x, tokens, cols, vector);
        assertSameInts(plain, vector, tokens + " tokens x " + cols + " columns");
      }
    }
  }

  @Test
  void aLargeBatchSpanningSeveralTokenBlocksIsCloseToTheTwin() {
    // 1056 columns: 33 chunks, 2112 bytes a token, so 120 tokens a block of 256 KiB; 250 tokens take three
    SplittableRandom random = new SplittableRandom(26);
    int rows = 9;
    int cols = 1056;
    Matrix w = Matrix.fromFloats("w", io.moestream.engine.format.DType.BF16, rows, cols,
        randomFloats(random, rows * cols), 0);
    float[] x = randomFloats(random, 250 * cols);
    checkAgainstTwin(w, x, 250, 0, rows, "250 tokens");
  }

  @Test
  void theKernelsSayTheyUseAvx512Bf16() {
    assertEquals("VectorKernels, native tiles, AVX512_BF16 BF16 matmuls", dot.toString());
  }
}
