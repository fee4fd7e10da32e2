package io.moestream.job.cli;

import io.moestream.engine.model.ModelConfig;

/** Checks --experts-per-token against the model before any work. */
final class ExpertsOption {
  private ExpertsOption() {}

  /** Returns k, or fails naming the option and the model's limit; 0 means the config's value. */
  static int check(int k, ModelConfig config) {
    if (k < 0 || k > config.numExpertsPerTok()) {
      throw new IllegalArgumentException("--experts-per-token must be in [1, " + config.numExpertsPerTok()
          + "] for this model (num_experts_per_tok), found " + k);
    }
    return k;
  }
}
