package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;

/**
 * {@code full}: the model as trained, num_experts_per_tok at every layer, whatever the load. The same
 * as {@code fixed:K} with the model's K, without having to know K (the job's configuration can name it
 * for any model).
 */
public record FullPolicy() implements ExpertPolicy {

  @Override
  public String spec() {
    return "full";
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    return ExpertPolicy.full(config);
  }
}
