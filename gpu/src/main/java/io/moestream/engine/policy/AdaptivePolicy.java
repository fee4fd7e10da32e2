package io.moestream.engine.policy;

import io.moestream.engine.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code adaptive} or {@code adaptive:LEVEL|LEVEL|...}: levels ordered from full quality down, moved
 * between by an {@link AdaptiveController} from the load (see {@link PolicyDriver}). Without levels:
 * the model's k, then 1/2 and 3/8 of it (rounded, at least 1; duplicates dropped), e.g. fixed:8|fixed:4|fixed:3,
 * chosen from the accuracy/throughput fronts of the two models trained here (docs/QUALITY.md): half the
 * experts cost at most 0.01 of task accuracy on both and bought +26% / +14% at 16 in flight, while 3/4 bought
 * only +11% / +6% for the same accuracy; 3/8 costs 0.03-0.04 for +35% / +17%.
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
    for (int candidate : new int[] {k, (int) Math.round(k * 0.5), (int) Math.round(k * 0.375)}) {
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
