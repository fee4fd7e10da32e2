package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;

/**
 * How many routed experts each token activates. A policy gives two things the engine already takes:
 * the experts per token it asks for at each layer (a cap, {@link #expertsPerLayer}) and the rule that
 * may use fewer per token once the router ranked the step ({@link #selection}). Parse one from its
 * name with {@link ExpertPolicies#parse}.
 */
public interface ExpertPolicy {

  /** The policy's name as written on a command line or in the job's configuration. */
  String spec();

  /**
   * @return (numLayers): experts per token at each layer, each in [1, num_experts_per_tok]
   * @throws IllegalArgumentException naming the policy when it does not fit the model
   */
  int[] expertsPerLayer(ModelConfig config);

  /** The per-token rule run after ranking; {@link ExpertSelection#AS_REQUESTED} when there is none. */
  default ExpertSelection selection(ModelConfig config) {
    return ExpertSelection.AS_REQUESTED;
  }

  /** Checks a policy's k against the model. */
  static int checkK(String spec, int k, ModelConfig config) {
    if (k < 1 || k > config.numExpertsPerTok()) {
      throw new IllegalArgumentException("policy '" + spec + "': experts per token must be in [1, "
          + config.numExpertsPerTok() + "] for this model (num_experts_per_tok), found " + k);
    }
    return k;
  }

  /** Every layer at the model's own k. */
  static int[] full(ModelConfig config) {
    int[] k = new int[config.numLayers()];
    java.util.Arrays.fill(k, config.numExpertsPerTok());
    return k;
  }
}
