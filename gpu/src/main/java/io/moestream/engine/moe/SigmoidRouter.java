package io.moestream.engine.moe;

/**
 * DeepSeek-V3's router ({@code scoring_func: sigmoid}, {@code topk_method: noaux_tc}): each expert's
 * score is sigmoid(logit); experts are <em>chosen</em> by score + the layer's
 * {@code e_score_correction_bias} inside the {@code topkGroup} groups whose two best biased scores sum
 * highest, and <em>weighted</em> by their unbiased scores, renormalized when {@code norm_topk_prob}
 * (DeepSeek's code: only when k > 1; GLM-4.5's Glm4MoeMoE: also at k = 1, where the weight becomes 1), then
 * multiplied by {@code routed_scaling_factor}. GLM-4.5 routes the same way.
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
  private final boolean normalizeSingleExpert;

  /** DeepSeek-V3: a single expert's weight is not renormalized. */
  public SigmoidRouter(int numExperts, int maxK, boolean normalizeTopK, double routedScalingFactor, int numGroups,
      int topkGroup, float[] scoreCorrectionBias) {
    this(numExperts, maxK, normalizeTopK, routedScalingFactor, numGroups, topkGroup, scoreCorrectionBias, false);
  }

  /** @param normalizeSingleExpert renormalize also at k = 1 (GLM-4.5), when {@code normalizeTopK} */
  public SigmoidRouter(int numExperts, int maxK, boolean normalizeTopK, double routedScalingFactor, int numGroups,
      int topkGroup, float[] scoreCorrectionBias, boolean normalizeSingleExpert) {
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
    this.normalizeSingleExpert = normalizeSingleExpert;
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
    boolean normalize = normalizeTopK && (k > 1 || normalizeSingleExpert);
    double scale = normalize ? routedScalingFactor / (sum + 1e-20) : routedScalingFactor;
    for (int j = 0; j < k; j++) {
      routingWeights[outOffset + j] = (float) (routingWeights[outOffset + j] * scale);
    }
  }
}
