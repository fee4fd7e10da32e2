package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The host's sizing of the device-built MoE permutation. The kernels themselves are checked against a
 * plain reference by src/test/cuda/run-emulated.sh (moe_checks.h); here, the constants the launches rely
 * on agree with the CUDA sources, and the worst-case bound the buffers and GEMM grids are sized by holds.
 */
class MoeAlignTest {
  private static final Path SOURCES = Path.of("src/main/cuda");

  @Test
  void constantsMatchTheKernelSources() throws Exception {
    assertEquals(MoeAlign.THREADS, define("moe_align.cu", "ALIGN_THREADS"), "ALIGN_THREADS");
    assertEquals(GemmWorkList.MAX_CHUNK, define("moe.cu", "MAX_CHUNK"), "MAX_CHUNK");
    assertEquals(GemmWorkList.TILE_ROWS, define("moe.cu", "TILE_ROWS"), "TILE_ROWS");
    assertEquals(0, MoeAlign.BLOCK % GemmWorkList.MAX_CHUNK, "a GEMM chunk must never span two experts");
  }

  @Test
  void maxPaddedBoundsEveryRoutingAndIsReached() {
    Random random = new Random(7);
    for (int trial = 0; trial < 2000; trial++) {
      int numExperts = 1 + random.nextInt(300);
      int numPairs = 1 + random.nextInt(3000);
      int block = MoeAlign.BLOCK << random.nextInt(4);
      int[] counts = new int[numExperts];
      boolean skewed = random.nextBoolean();
      for (int p = 0; p < numPairs; p++) {
        counts[skewed ? random.nextInt(1 + numExperts / 10) : random.nextInt(numExperts)]++;
      }
      long padded = 0;
      for (int count : counts) {
        padded += (count + block - 1) / block * block;
      }
      int bound = MoeAlign.maxPadded(numPairs, numExperts, block);
      assertTrue(padded <= bound, padded + " padded > bound " + bound);
      MoeAlign.Layout layout = new MoeAlign.Layout(null, null, null, bound);
      assertTrue((long) layout.gemmChunks() * GemmWorkList.MAX_CHUNK >= bound, "the GEMM grid covers the bound");
    }
    // one pair per expert, every expert used: each run is a whole block, the bound exactly
    assertEquals(64 * MoeAlign.BLOCK, MoeAlign.maxPadded(64, 64, MoeAlign.BLOCK));
    assertEquals(3 * MoeAlign.BLOCK, MoeAlign.maxPadded(3, 128, MoeAlign.BLOCK)); // 3 pairs reach 3 experts at most
  }

  @Test
  void chunksCoverEveryPair() {
    assertEquals(1, MoeAlign.numChunks(1));
    assertEquals(1, MoeAlign.numChunks(MoeAlign.THREADS));
    assertEquals(2, MoeAlign.numChunks(MoeAlign.THREADS + 1));
  }

  private static int define(String file, String name) throws Exception {
    Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(Files.readString(SOURCES.resolve(file)));
    assertTrue(m.find(), name + " is not defined in " + file);
    return Integer.parseInt(m.group(1));
  }
}
