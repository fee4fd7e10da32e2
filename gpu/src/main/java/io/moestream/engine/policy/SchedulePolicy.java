package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;

/**
 * {@code schedule:B,H,E,P}, the paper's per-layer rule: B experts at the first layer, H at layer P, E at
 * the last, linear in between, rounded half up. Layers are numbered from 1 as in the paper (DeepSeek-V3's
 * (6,8,8,61): 6 at layer 1 rising to 8 at layer 61, its last).
 */
public record SchedulePolicy(int first, int middle, int last, int middleLayer) implements ExpertPolicy {

  public SchedulePolicy {
    if (first < 1 || middle < 1 || last < 1 || middleLayer < 1) {
      throw new IllegalArgumentException("policy 'schedule:" + first + "," + middle + "," + last + "," + middleLayer
          + "': every value must be >= 1");
    }
  }

  @Override
  public String spec() {
    return "schedule:" + first + "," + middle + "," + last + "," + middleLayer;
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    int layers = config.numLayers();
    if (middleLayer > layers) {
      throw new IllegalArgumentException("policy '" + spec() + "': P must be a layer in [1, " + layers + "], found "
          + middleLayer);
    }
    for (int k : new int[] {first, middle, last}) {
      ExpertPolicy.checkK(spec(), k, config);
    }
    int[] out = new int[layers];
    for (int i = 0; i < layers; i++) {
      out[i] = kAt(i + 1, layers);
    }
    return out;
  }

  /** The k of 1-based layer {@code layer} of {@code layers}. */
  int kAt(int layer, int layers) {
    double k;
    if (layer <= middleLayer) {
      k = middleLayer == 1 ? middle : first + (middle - first) * (layer - 1) / (double) (middleLayer - 1);
    } else {
      k = middle + (last - middle) * (layer - middleLayer) / (double) (layers - middleLayer);
    }
    return (int) Math.floor(k + 0.5);
  }
}
