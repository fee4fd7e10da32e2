package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code adaptive} or {@code adaptive:LEVEL|LEVEL|...}: levels ordered from full quality down, moved
 * between by an {@link AdaptiveController} from the load (see {@link PolicyDriver}). Without levels:
 * the model's k, then 3/4 and 1/2 of it (rounded; duplicates dropped), e.g. fixed:8|fixed:6|fixed:4.
 * Used statically (no load), it is its first level: with no load it is exactly that level.
 *
 * @param levels the levels, or an empty list for the default ones
 */
public record AdaptivePolicy(List<ExpertPolicy> levels) implements ExpertPolicy {

  public AdaptivePolicy {
    for (ExpertPolicy level : levels) {
      if (level instanceof AdaptivePolicy) {
        throw new IllegalArgumentException("policy 'adaptive': a level cannot itself be adaptive");
      }
    }
    levels = List.copyOf(levels);
  }

  @Override
  public String spec() {
    if (levels.isEmpty()) {
      return "adaptive";
    }
    StringBuilder s = new StringBuilder("adaptive:");
    for (int i = 0; i < levels.size(); i++) {
      s.append(i == 0 ? "" : "|").append(levels.get(i).spec());
    }
    return s.toString();
  }

  /** The levels for this model, full quality first. */
  public List<ExpertPolicy> levels(ModelConfig config) {
    if (!levels.isEmpty()) {
      return levels;
    }
    int k = config.numExpertsPerTok();
    List<ExpertPolicy> out = new ArrayList<>();
    for (int candidate : new int[] {k, (int) Math.round(k * 0.75), (int) Math.round(k * 0.5)}) {
      if (candidate >= 1 && (out.isEmpty() || ((FixedPolicy) out.get(out.size() - 1)).k() != candidate)) {
        out.add(new FixedPolicy(candidate));
      }
    }
    return out;
  }

  @Override
  public int[] expertsPerLayer(ModelConfig config) {
    List<ExpertPolicy> resolved = levels(config);
    for (ExpertPolicy level : resolved) {
      level.expertsPerLayer(config); // checks every level against the model up front
    }
    return resolved.get(0).expertsPerLayer(config);
  }

  @Override
  public io.moestream.engine.moe.ExpertSelection selection(ModelConfig config) {
    return levels(config).get(0).selection(config);
  }
}
