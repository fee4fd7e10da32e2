package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import java.util.Arrays;

/** {@code fixed:K}: K experts per token at every layer. */
public record FixedPolicy(int k) implements ExpertPolicy {

  public FixedPolicy {
    if (k < 1) {
      throw new IllegalArgumentException("policy 'fixed:" + k + "': K must be >= 1");
    }
  }

  @Override
  public String spec() {
    return "fixed:" + k;
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    int[] out = new int[config.numLayers()];
    Arrays.fill(out, ExpertPolicy.checkK(spec(), k, config));
    return out;
  }
}
