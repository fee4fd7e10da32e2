package io.moestream.engine.model;

/**
 * How a sparse layer scores and picks its experts.
 *
 * <ul>
 *   <li>{@code SOFTMAX} + {@code GREEDY}: Qwen, Mixtral, OLMoE, DeepSeek-V2-Lite.
 *   <li>{@code SOFTMAX} + {@code GROUP_LIMITED_GREEDY}: DeepSeek-V2; a group scores its best expert.
 *   <li>{@code SIGMOID} + {@code NOAUX_TC}: DeepSeek-V3; experts are chosen by sigmoid score plus the
 *       layer's {@code e_score_correction_bias}, within the {@code topkGroup} groups whose two best
 *       biased scores sum highest; their weights are the unbiased scores.
 * </ul>
 *
 * @param numGroups experts split into this many equal groups (1: no group limit)
 * @param topkGroup groups a token may choose from
 * @param routedScalingFactor multiplies routed weights (DeepSeek-V2: only when not renormalized)
 */
public record RoutingConfig(
    Scoring scoring, TopkMethod topkMethod, int numGroups, int topkGroup, double routedScalingFactor) {

  public enum Scoring { SOFTMAX, SIGMOID }

  public enum TopkMethod { GREEDY, GROUP_LIMITED_GREEDY, NOAUX_TC }

  /** Softmax over all experts, plain top-k, no scaling. */
  public static final RoutingConfig SOFTMAX_TOP_K = new RoutingConfig(Scoring.SOFTMAX, TopkMethod.GREEDY, 1, 1, 1.0);

  void validate(String file, int numExperts) {
    if (numGroups < 1 || numExperts % numGroups != 0) {
      throw new ConfigException(file + ": n_group must be >= 1 and divide n_routed_experts (" + numExperts
          + "), found " + numGroups);
    }
    if (topkGroup < 1 || topkGroup > numGroups) {
      throw new ConfigException(file + ": topk_group must be in [1, n_group = " + numGroups + "], found " + topkGroup);
    }
    if (!(routedScalingFactor > 0)) {
      throw new ConfigException(file + ": routed_scaling_factor must be > 0, found " + routedScalingFactor);
    }
    if (topkMethod == TopkMethod.NOAUX_TC && scoring != Scoring.SIGMOID) {
      throw new ConfigException(file + ": topk_method 'noaux_tc' needs scoring_func 'sigmoid'");
    }
  }
}
