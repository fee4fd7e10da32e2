package io.moestream.engine.moe;

/**
 * DeepSeek-V2's router: softmax over all routed experts, then either the plain top-k ({@code greedy},
 * V2-Lite) or {@code group_limited_greedy}: experts form {@code numGroups} equal groups, each group
 * scores its most probable expert, and a token chooses its experts only inside the {@code topkGroup}
 * best groups. Weights are the chosen probabilities, renormalized when {@code norm_topk_prob} (and
 * k > 1), otherwise multiplied by {@code routed_scaling_factor} (DeepSeek-V2's MoEGate).
 *
 * <p>With k below the config's top-k the candidates are the first k of the same ranking: the groups
 * do not depend on k, so this is what the reference computes with {@code num_experts_per_tok = k}.
 */
public final class GroupLimitedRouter implements Router {
  private final int numExperts;
  private final int maxK;
  private final boolean normalizeTopK;
  private final double routedScalingFactor;
  private final int numGroups;
  private final int topkGroup;

  /** @param numGroups 1 (or topkGroup == numGroups) for plain greedy top-k */
  public GroupLimitedRouter(int numExperts, int maxK, boolean normalizeTopK, double routedScalingFactor,
      int numGroups, int topkGroup) {
    this.numExperts = numExperts;
    this.maxK = maxK;
    this.normalizeTopK = normalizeTopK;
    this.routedScalingFactor = routedScalingFactor;
    this.numGroups = numGroups;
    this.topkGroup = topkGroup;
  }

  @Override
  public int maxK() {
    return maxK;
  }

  @Override
  public void rank(float[] routerLogits, int logitsOffset, float[] scores, int[] candidates, int outOffset) {
    SoftmaxTopKRouter.softmax(routerLogits, logitsOffset, numExperts, scores);
    float[] choice = scores.clone();
    for (int e = 0; e < numExperts; e++) {
      if (routerLogits[logitsOffset + e] == Float.NEGATIVE_INFINITY) {
        choice[e] = Float.NEGATIVE_INFINITY; // pruned: never selectable, even at probability 0
      }
    }
    if (topkGroup < numGroups) {
      GroupMask.keepTopGroups(choice, numGroups, topkGroup, GroupMask.GroupScore.MAX, maxK);
    }
    SoftmaxTopKRouter.selectTopK(choice, numExperts, maxK, candidates, outOffset);
  }

  @Override
  public void weights(float[] scores, int[] candidates, int outOffset, int k, float[] routingWeights) {
    double sum = 0;
    for (int j = 0; j < k; j++) {
      float p = scores[candidates[outOffset + j]];
      routingWeights[outOffset + j] = p;
      sum += p;
    }
    boolean normalize = normalizeTopK && k > 1;
    for (int j = 0; j < k; j++) {
      routingWeights[outOffset + j] = normalize
          ? (float) (routingWeights[outOffset + j] / (sum + 1e-20))
          : (float) (routingWeights[outOffset + j] * routedScalingFactor);
    }
  }
}
