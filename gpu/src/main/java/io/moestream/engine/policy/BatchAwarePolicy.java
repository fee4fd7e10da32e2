package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;

/**
 * {@code batch:KMIN,T}: beyond the paper. In memory-bound decode a step costs the bytes of the distinct
 * experts it touches, not the number of (token, expert) pairs. This rule keeps every token's top KMIN
 * (and its floor) and drops a further, low-weight choice (probability below T times the token's top)
 * only when no token that keeps it would otherwise pull that expert into the step: the expert leaves
 * the step entirely. Choices of experts the step reads anyway are kept, since they are nearly free.
 */
public record BatchAwarePolicy(int minK, double ratio) implements ExpertPolicy {

  public BatchAwarePolicy {
    if (minK < 1 || !(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("policy 'batch:" + minK + "," + ratio + "': KMIN must be >= 1 and T in [0, 1]");
    }
  }

  @Override
  public String spec() {
    return "batch:" + minK + "," + ExpertPolicies.number(ratio);
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    ExpertPolicy.checkK(spec(), minK, config);
    return ExpertPolicy.full(config);
  }

  @Override
  public ExpertSelection selection(ModelConfig config) {
    return new BatchAwareSelection(minK, (float) ratio);
  }
}
