package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;

/**
 * {@code threshold:KMIN,T}: per token, always its top KMIN experts, and each further one (up to the
 * requested k) only while its routing probability is at least T times the top one's.
 */
public record ThresholdPolicy(int minK, double ratio) implements ExpertPolicy {

  public ThresholdPolicy {
    if (minK < 1 || !(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("policy 'threshold:" + minK + "," + ratio
          + "': KMIN must be >= 1 and T in [0, 1]");
    }
  }

  @Override
  public String spec() {
    return "threshold:" + minK + "," + ExpertPolicies.number(ratio);
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    ExpertPolicy.checkK(spec(), minK, config);
    return ExpertPolicy.full(config);
  }

  @Override
  public ExpertSelection selection(ModelConfig config) {
    return new ThresholdSelection(minK, (float) ratio);
  }
}
