package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.MoeWeights;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.moe.Router;
import io.moestream.engine.moe.Routers;
import io.moestream.engine.parallel.ExpertPlacement;
import io.moestream.engine.parallel.TokenExchangePlan;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Expert parallelism on emulated devices: each device holds only its experts and its home tokens' hidden
 * states, rows move only as the {@link TokenExchangePlan} says, and the home device combines. The output must be
 * bitwise the single-device CPU MoE layer's, for every device count and placement.
 */
class ExpertParallelEmulationTest {
  private static final ModelWeights WEIGHTS = ModelWeights.load(TestModels.folder("qwen3moe-tiny-bf16"));

  /** One GPU of the TaskManager: its experts' weights and nothing else. */
  private record EmulatedDevice(int index, Map<Integer, ExpertWeights> experts) {
    /** The outputs (rows, hidden) of the experts for {@code rows} entries whose inputs arrived in {@code inputs}. */
    float[] computeExperts(int[] entries, int[] expertOfEntry, float[] inputs, int hidden, Kernels kernels) {
      float[] outputs = new float[entries.length * hidden];
      Map<Integer, int[]> byExpert = new HashMap<>(); // expert -> positions in the receive buffer, in order
      for (int i = 0; i < entries.length; i++) {
        int expert = expertOfEntry[i];
        int[] old = byExpert.getOrDefault(expert, new int[0]);
        int[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = i;
        byExpert.put(expert, grown);
      }
      for (Map.Entry<Integer, int[]> group : byExpert.entrySet()) {
        ExpertWeights w = experts.get(group.getKey());
        if (w == null) {
          throw new AssertionError("device " + index + " asked for expert " + group.getKey() + " it does not hold");
        }
        int[] rows = group.getValue();
        int n = rows.length;
        int inter = w.intermediateSize();
        float[] gathered = new float[n * hidden];
        for (int i = 0; i < n; i++) {
          System.arraycopy(inputs, rows[i] * hidden, gathered, i * hidden, hidden);
        }
        float[] gate = new float[n * inter];
        float[] up = new float[n * inter];
        kernels.matmul(w.gateProj(), MatmulInput.of(gathered, n, hidden), gate, 0, inter);
        kernels.matmul(w.upProj(), MatmulInput.of(gathered, n, hidden), up, 0, inter);
        kernels.siluMul(gate, up, 0, n * inter);
        float[] down = new float[n * hidden];
        kernels.matmul(w.downProj(), MatmulInput.of(gate, n, inter), down, 0, hidden);
        for (int i = 0; i < n; i++) {
          System.arraycopy(down, i * hidden, outputs, rows[i] * hidden, hidden);
        }
      }
      return outputs;
    }
  }

  @Test
  void expertsComputedPerDeviceCombineToTheSingleDeviceOutputBitForBit() {
    ModelConfig config = WEIGHTS.config();
    int layer = firstSparseLayer(config);
    MoeWeights moe = WEIGHTS.layers()[layer].moe();
    Router router = Routers.forLayer(config, moe);
    int maxK = router.maxK();
    int hidden = config.hiddenSize();
    int numTokens = 23;
    Random random = new Random(17);
    float[] normed = new float[numTokens * hidden];
    for (int i = 0; i < normed.length; i++) {
      normed[i] = (float) random.nextGaussian();
    }
    int[] expertsPerToken = new int[numTokens];
    for (int t = 0; t < numTokens; t++) {
      expertsPerToken[t] = 1 + random.nextInt(maxK); // per-token k, as the policies set it
    }
    for (String kernelsName : new String[] {"vector", "scalar"}) {
      Kernels kernels = Kernels.named(kernelsName);
      // the single-device CPU path, recording each token's experts and scores
      int[] candidates = new int[numTokens * maxK];
      int[] selectedK = new int[numTokens];
      float[][] scores = new float[numTokens][];
      int[] seen = {0};
      RoutingObserver observer = (l, probabilities, selected, k) -> {
        int t = seen[0]++;
        scores[t] = probabilities.clone();
        System.arraycopy(selected, 0, candidates, t * maxK, k);
        selectedK[t] = k;
      };
      float[] expected = new float[numTokens * hidden];
      try (WorkerPool pool = new WorkerPool(2)) {
        new CpuMoe(config, kernels, pool, router).forward(layer, moe, numTokens, expertsPerToken, null,
            ExpertSelection.AS_REQUESTED, normed, expected, new int[numTokens], observer, new PhaseTimes(), new StepScratch());
      }
      assertEquals(numTokens, seen[0]);
      float[] routingWeights = new float[numTokens * maxK];
      for (int t = 0; t < numTokens; t++) {
        router.weights(scores[t], candidates, t * maxK, selectedK[t], routingWeights);
      }

      for (int devices : new int[] {1, 2, 3, 4}) {
        double[] load = new double[config.numExperts()];
        for (int e = 0; e < load.length; e++) {
          load[e] = random.nextDouble();
        }
        long[] free = new long[devices];
        Arrays.fill(free, Long.MAX_VALUE);
        ExpertPlacement placement = ExpertPlacement.balanced(new double[][] {load}, devices, 1, 0, free);
        int[] home = new int[numTokens];
        for (int t = 0; t < numTokens; t++) {
          home[t] = (t * 7) % devices; // data-parallel attention: sequences spread over the devices
        }
        float[] actual = expertParallel(placement, home, normed, candidates, maxK, selectedK, routingWeights, moe,
            hidden, kernels);
        for (int i = 0; i < expected.length; i++) {
          assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
              kernelsName + ", " + devices + " devices: token " + i / hidden + " value " + i % hidden);
        }
      }
    }
  }

  /** The layer's output, computed as the devices would: dispatch, experts per device, return, combine at home. */
  private static float[] expertParallel(ExpertPlacement placement, int[] home, float[] normed, int[] candidates,
      int maxK, int[] selectedK, float[] routingWeights, MoeWeights moe, int hidden, Kernels kernels) {
    int devices = placement.numDevices();
    int numTokens = home.length;
    EmulatedDevice[] gpus = new EmulatedDevice[devices];
    for (int d = 0; d < devices; d++) {
      Map<Integer, ExpertWeights> held = new HashMap<>();
      for (int e : placement.experts(0, d)) {
        held.put(e, moe.experts()[e]);
      }
      gpus[d] = new EmulatedDevice(d, held);
    }
    TokenExchangePlan plan = TokenExchangePlan.of(devices, home, candidates, maxK, selectedK,
        placement.deviceOfExpert()[0]);
    float[][] slotRowsAtHome = new float[devices][numTokens * maxK * hidden]; // each device's own slot rows
    int crossRows = 0;
    for (int dst = 0; dst < devices; dst++) {
      int[] received = plan.received(dst);
      float[] inputs = new float[received.length * hidden]; // the all-to-all's receive buffer
      int[] expertOf = new int[received.length];
      for (int i = 0; i < received.length; i++) {
        int token = received[i] / maxK;
        System.arraycopy(normed, token * hidden, inputs, i * hidden, hidden); // from the token's home device
        expertOf[i] = candidates[received[i]];
      }
      float[] outputs = gpus[dst].computeExperts(received, expertOf, inputs, hidden, kernels);
      for (int src = 0; src < devices; src++) { // back to each source, in the order it sent
        int[] sent = plan.sends(src, dst);
        int offset = plan.receiveOffset(dst, src);
        for (int i = 0; i < sent.length; i++) {
          System.arraycopy(outputs, (offset + i) * hidden, slotRowsAtHome[src], sent[i] * hidden, hidden);
        }
        crossRows += src == dst ? 0 : sent.length;
      }
    }
    assertEquals(plan.crossDeviceRows(), crossRows);
    float[] out = new float[numTokens * hidden];
    for (int t = 0; t < numTokens; t++) { // combine at home, in slot order, as CpuMoe does
      float[] slotRows = slotRowsAtHome[home[t]];
      for (int j = 0; j < selectedK[t]; j++) {
        kernels.axpy(routingWeights[t * maxK + j], slotRows, (t * maxK + j) * hidden, out, t * hidden, hidden);
      }
    }
    assertTrue(devices == 1 || crossRows > 0, "the test must move rows between devices");
    return out;
  }

  private static int firstSparseLayer(ModelConfig config) {
    for (int layer = 0; layer < config.numLayers(); layer++) {
      if (config.isSparse(layer)) {
        return layer;
      }
    }
    throw new AssertionError("the tiny model has no sparse layer");
  }
}
