package io.moestream.engine.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ExpertPlacementTest {
  private static final long GIB = 1L << 30;

  @Test
  void everyDeviceHoldsAsManyExpertsWithinOneAndTheLoadIsEven() {
    Random random = new Random(5);
    int experts = 256; // DeepSeek-V3 on 8 GPUs
    double[][] load = new double[3][experts];
    for (double[] layer : load) {
      for (int e = 0; e < experts; e++) {
        layer[e] = Math.exp(random.nextGaussian()); // skewed, as real activation counts are
      }
    }
    long[] free = new long[8];
    java.util.Arrays.fill(free, 80 * GIB);
    ExpertPlacement placement = ExpertPlacement.balanced(load, 8, 40L << 20, 10 * GIB, free);
    for (int layer = 0; layer < 3; layer++) {
      for (int d = 0; d < 8; d++) {
        assertEquals(32, placement.experts(layer, d).length, "layer " + layer + " device " + d);
      }
      double balanced = placement.imbalance(layer, load[layer]);
      int[] roundRobin = new int[experts];
      for (int e = 0; e < experts; e++) {
        roundRobin[e] = e % 8;
      }
      double naive = new ExpertPlacement(8, new int[][] {roundRobin}, new long[8]).imbalance(0, load[layer]);
      double mean = java.util.Arrays.stream(load[layer]).sum() / 8;
      double floor = Math.max(1.0, java.util.Arrays.stream(load[layer]).max().orElse(0) / mean); // one hot expert
      assertTrue(balanced < floor * 1.05 && balanced < naive,
          "layer " + layer + ": " + balanced + " (floor " + floor + ") vs round robin " + naive);
    }
    assertEquals(10 * GIB + 3 * 32 * (40L << 20), placement.bytesPerDevice()[0]);
  }

  @Test
  void theSameInputsGiveTheSamePlacement() {
    double[][] load = {{1, 1, 1, 1, 5, 5}, null, {0, 0, 0, 0, 0, 0}};
    long[] free = {GIB, GIB, GIB};
    ExpertPlacement a = ExpertPlacement.balanced(load, 3, 1 << 20, 1 << 20, free);
    ExpertPlacement b = ExpertPlacement.balanced(load, 3, 1 << 20, 1 << 20, free);
    for (int layer = 0; layer < 3; layer++) {
      assertArrayEquals(a.deviceOfExpert()[layer], b.deviceOfExpert()[layer]);
    }
    assertEquals(0, a.deviceOfExpert()[1].length, "a dense layer places nothing");
    assertTrue(a.device(0, 4) != a.device(0, 5), "the two heavy experts go to different devices");
    assertArrayEquals(new int[] {0, 1, 2, 0, 1, 2}, a.deviceOfExpert()[2], "no load: ties to the lower index");
  }

  @Test
  void aDeviceThatCannotHoldItsShareIsNamedWithItsNumbers() {
    double[][] load = {{1, 1, 1, 1}};
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ExpertPlacement.balanced(load, 2, 100L << 20, 1L << 30, new long[] {2L << 30, 1L << 30}));
    assertTrue(e.getMessage().contains("device 1 needs 1224 MiB") && e.getMessage().contains("has 1024 MiB free")
        && !e.getMessage().contains("device 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ExpertPlacement.balanced(new double[][] {{1, Double.NaN}}, 1, 1, 1, new long[] {GIB}));
  }
}
