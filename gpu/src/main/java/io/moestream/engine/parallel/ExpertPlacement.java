package io.moestream.engine.parallel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Which GPU of a TaskManager holds each routed expert of each sparse layer, for a model whose experts do not
 * fit one GPU (DeepSeek-V3 on 8 GPUs, as SGLang and vLLM run it): expert parallelism. Attention, norms, the
 * router, shared experts and the embeddings are replicated on every device ({@code replicatedBytes}); the
 * routed experts are split.
 *
 * <p>Placement per layer: every device gets the same number of experts (within one), so memory is even, and
 * among those choices the experts go heaviest first to the least-loaded device (longest-processing-time
 * greedy over a load profile, e.g. expert activation counts from a profiling run), so one step's expert work is
 * even too. Equal loads go to the device with fewer experts, then the lower index: the placement is a function
 * of its inputs.
 *
 * @param numDevices GPUs the experts are spread over
 * @param deviceOfExpert (numLayers)(numExperts): the device holding each expert; empty for dense layers
 * @param bytesPerDevice what each device holds: the replicated part plus its experts
 */
public record ExpertPlacement(int numDevices, int[][] deviceOfExpert, long[] bytesPerDevice) {

  /**
   * @param loadByLayer (numLayers)(numExperts) expected tokens per expert (any non-negative scale); a null or
   *     empty row is a dense layer
   * @param bytesPerExpert one routed expert's weights on the device (gate, up and down)
   * @param replicatedBytes what every device holds besides experts (attention, norms, router, shared experts,
   *     embeddings, its KV cache and scratch)
   * @param freeBytes (numDevices) each device's free memory
   * @throws IllegalStateException naming the device, what it needs and what it has, when one does not fit
   */
  public static ExpertPlacement balanced(double[][] loadByLayer, int numDevices, long bytesPerExpert,
      long replicatedBytes, long[] freeBytes) {
    if (numDevices < 1 || freeBytes.length != numDevices) {
      throw new IllegalArgumentException("numDevices must be >= 1 with one free size each, found " + numDevices
          + " devices and " + freeBytes.length + " sizes");
    }
    int[][] placement = new int[loadByLayer.length][];
    long[] expertsPerDevice = new long[numDevices];
    for (int layer = 0; layer < loadByLayer.length; layer++) {
      double[] load = loadByLayer[layer] == null ? new double[0] : loadByLayer[layer];
      placement[layer] = placeLayer(layer, load, numDevices);
      for (int device : placement[layer]) {
        expertsPerDevice[device]++;
      }
    }
    long[] bytes = new long[numDevices];
    List<String> overfull = new ArrayList<>();
    for (int d = 0; d < numDevices; d++) {
      bytes[d] = replicatedBytes + expertsPerDevice[d] * bytesPerExpert;
      if (bytes[d] > freeBytes[d]) {
        overfull.add("device " + d + " needs " + (bytes[d] >> 20) + " MiB (replicated " + (replicatedBytes >> 20)
            + " MiB + " + expertsPerDevice[d] + " experts x " + (bytesPerExpert >> 20) + " MiB) but has "
            + (freeBytes[d] >> 20) + " MiB free");
      }
    }
    if (!overfull.isEmpty()) {
      throw new IllegalStateException("the experts do not fit " + numDevices + " device(s): "
          + String.join("; ", overfull) + ". Use more GPUs, FP8 weights or a smaller KV cache");
    }
    return new ExpertPlacement(numDevices, placement, bytes);
  }

  private static int[] placeLayer(int layer, double[] load, int numDevices) {
    int numExperts = load.length;
    Integer[] order = new Integer[numExperts];
    for (int e = 0; e < numExperts; e++) {
      if (!(load[e] >= 0) || Double.isInfinite(load[e])) {
        throw new IllegalArgumentException("layer " + layer + ", expert " + e + ": load must be finite and >= 0, found "
            + load[e]);
      }
      order[e] = e;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer e) -> -load[e]).thenComparingInt(e -> e));
    int cap = (numExperts + numDevices - 1) / numDevices; // equal counts within one: even memory
    int[] device = new int[numExperts];
    int[] count = new int[numDevices];
    double[] deviceLoad = new double[numDevices];
    for (int expert : order) {
      int best = -1;
      for (int d = 0; d < numDevices; d++) {
        if (count[d] < cap && (best < 0 || deviceLoad[d] < deviceLoad[best]
            || (deviceLoad[d] == deviceLoad[best] && count[d] < count[best]))) {
          best = d;
        }
      }
      device[expert] = best;
      count[best]++;
      deviceLoad[best] += load[expert];
    }
    return device;
  }

  public int device(int layer, int expert) {
    return deviceOfExpert[layer][expert];
  }

  /** The experts of {@code layer} that {@code device} holds, ascending. */
  public int[] experts(int layer, int device) {
    return java.util.stream.IntStream.range(0, deviceOfExpert[layer].length)
        .filter(e -> deviceOfExpert[layer][e] == device).toArray();
  }

  /** The largest device load over the mean for {@code layer} under {@code load}: 1.0 is perfectly even. */
  public double imbalance(int layer, double[] load) {
    double[] perDevice = new double[numDevices];
    double total = 0;
    for (int e = 0; e < load.length; e++) {
      perDevice[deviceOfExpert[layer][e]] += load[e];
      total += load[e];
    }
    return total == 0 ? 1.0 : Arrays.stream(perDevice).max().orElse(0) / (total / numDevices);
  }
}
