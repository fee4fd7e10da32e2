package io.moestream.engine.moe;

/**
 * DeepSeek-V3's router ({@code scoring_func: sigmoid}, {@code topk_method: noaux_tc}): each expert's
 * score is sigmoid(logit); experts are <em>chosen</em> by score + the layer's
 * {@code e_score_correction_bias} inside the {@code topkGroup} groups whose two best biased scores sum
 * highest, and <em>weighted</em> by their unbiased scores, renormalized when {@code norm_topk_prob}
 * (and k > 1), then multiplied by {@code routed_scaling_factor}.
 *
 * <p>With k below the config's top-k the candidates are the first k of the same ranking.
 */
public final class SigmoidRouter implements Router {
  private final int numExperts;
  private final int maxK;
  private final boolean normalizeTopK;
  private final double routedScalingFactor;
  private final int numGroups;
  private final int topkGroup;
  private final float[] scoreCorrectionBias; // (numExperts)

  public SigmoidRouter(int numExperts, int maxK, boolean normalizeTopK, double routedScalingFactor, int numGroups,
      int topkGroup, float[] scoreCorrectionBias) {
    if (scoreCorrectionBias.length != numExperts) {
      throw new IllegalArgumentException("e_score_correction_bias has " + scoreCorrectionBias.length
          + " values for " + numExperts + " experts");
    }
    this.numExperts = numExperts;
    this.maxK = maxK;
    this.normalizeTopK = normalizeTopK;
    this.routedScalingFactor = routedScalingFactor;
    this.numGroups = numGroups;
    this.topkGroup = topkGroup;
    this.scoreCorrectionBias = scoreCorrectionBias.clone();
  }

  @Override
  public int maxK() {
    return maxK;
  }

  @Override
  public void rank(float[] routerLogits, int logitsOffset, float[] scores, int[] candidates, int outOffset) {
    float[] choice = new float[numExperts];
    for (int e = 0; e < numExperts; e++) {
      scores[e] = (float) (1.0 / (1.0 + Math.exp(-routerLogits[logitsOffset + e])));
      // A pruned expert's logit is -infinity: its bias must not make it selectable.
      float logit = routerLogits[logitsOffset + e];
      choice[e] = logit == Float.NEGATIVE_INFINITY ? Float.NEGATIVE_INFINITY : scores[e] + scoreCorrectionBias[e];
    }
    if (topkGroup < numGroups) {
      GroupMask.keepTopGroups(choice, numGroups, topkGroup, GroupMask.GroupScore.SUM_OF_TOP_2, maxK);
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
    double scale = normalizeTopK && k > 1 ? routedScalingFactor / (sum + 1e-20) : routedScalingFactor;
    for (int j = 0; j < k; j++) {
      routingWeights[outOffset + j] = (float) (routingWeights[outOffset + j] * scale);
    }
  }
}
