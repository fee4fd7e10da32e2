package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kernels: amx} ({@link MatmulBf16Amx}): the contract of {@link RoundedBf16MatmulContract}, and its activation
 * tiles packed natively bitwise as the plain loop packs them.
 */
class MatmulBf16AmxTest extends RoundedBf16MatmulContract {
  private static Kernels amx;

  @BeforeAll
  static void load() throws IOException {
    // where the library loads and the CPU has AMX, the AMX kernels must be usable
    if (NativeKernels.available() && cpuHas("amx_bf16")) {
      assertTrue(NativeKernels.amxAvailable(), "the CPU has amx_bf16 but the AMX kernels are unavailable: "
          + NativeKernels.amxUnavailableReason());
    }
    assumeTrue(NativeKernels.amxAvailable(), () -> "AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    amx = Kernels.named("amx");
  }

  @Override
  Kernels kernels() {
    return amx;
  }

  @Test
  void nativeTilePackingIsBitwiseThePlainLoop() {
    SplittableRandom random = new SplittableRandom(23);
    for (int tokens : new int[] {1, 2, 15, 16, 17, 37}) {
      for (int cols : new int[] {1, 2, 15, 16, 17, 31, 32, 33, 64, 100}) {
        float[] x = activationsWithSpecialValues(random, tokens * cols);
        int[] plain = new int[MatmulInput.bf16TileInts(tokens, cols)];
        int[] vector = new int[plain.length];
        MatmulInput.packBf16Tiles(x, tokens, cols, plain);
        NativeKernels.packBf16Tiles(x, tokens, cols, vector);
        assertSameInts(plain, vector, tokens + " tokens x " + cols + " columns");
      }
    }
  }

  @Test
  void theKernelsSayTheyUseAmx() {
    assertEquals("VectorKernels, native tiles, AMX BF16/int8 matmuls", amx.toString());
  }
}
