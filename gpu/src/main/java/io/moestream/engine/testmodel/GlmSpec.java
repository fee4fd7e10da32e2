package io.moestream.engine.testmodel;

/**
 * The GLM-4.5 ({@code glm4_moe}) part of a test model. Defaults follow the released configs, scaled
 * down: half of each head rotated, q/k/v biases, no q/k norm (GLM-4.5-Air; GLM-4.5 sets use_qk_norm),
 * one shared expert, the first layer dense, one group, routed_scaling_factor 2.5, renormalized
 * weights and one next-token-prediction layer after the decoder layers.
 *
 * @param partialRotaryFactor RoPE rotates int(head_dim * factor) values of each head
 * @param nSharedExperts 0 for none; otherwise one MLP of moe_intermediate_size * n
 * @param firstKDenseReplace the first n layers run a dense MLP
 * @param nextnLayers next-token-prediction (MTP) layers written after the decoder layers (the engine skips them)
 */
public record GlmSpec(
    double partialRotaryFactor,
    boolean useQkNorm,
    boolean attentionBias,
    int nSharedExperts,
    int firstKDenseReplace,
    int nGroup,
    int topkGroup,
    double routedScalingFactor,
    boolean normTopKProb,
    int nextnLayers) {

  public static GlmSpec defaults() {
    return new GlmSpec(0.5, false, true, 1, 1, 1, 1, 2.5, true, 1);
  }

  public GlmSpec withAttention(double rotaryFactor, boolean qkNorm, boolean bias) {
    return new GlmSpec(rotaryFactor, qkNorm, bias, nSharedExperts, firstKDenseReplace, nGroup, topkGroup,
        routedScalingFactor, normTopKProb, nextnLayers);
  }

  public GlmSpec withRouting(int groups, int groupsPerToken, double scalingFactor, boolean normalize) {
    return new GlmSpec(partialRotaryFactor, useQkNorm, attentionBias, nSharedExperts, firstKDenseReplace, groups,
        groupsPerToken, scalingFactor, normalize, nextnLayers);
  }

  public GlmSpec withLayers(int sharedExperts, int firstDense, int nextn) {
    return new GlmSpec(partialRotaryFactor, useQkNorm, attentionBias, sharedExperts, firstDense, nGroup, topkGroup,
        routedScalingFactor, normTopKProb, nextn);
  }

  /** head_dim * partial_rotary_factor, truncated as Hugging Face's int() does. */
  public int rotaryDim(int headDim) {
    return (int) (headDim * partialRotaryFactor);
  }

  void validate(int headDim, int numExperts, int expertsPerToken, int numLayers) {
    int rotary = rotaryDim(headDim);
    TestModelSpec.require(partialRotaryFactor > 0 && partialRotaryFactor <= 1 && rotary >= 2 && rotary % 2 == 0,
        "partial-rotary-factor (in (0, 1], head-dim * factor even and >= 2)", partialRotaryFactor);
    TestModelSpec.require(nSharedExperts >= 0, "n-shared-experts", nSharedExperts);
    TestModelSpec.require(firstKDenseReplace >= 0 && firstKDenseReplace <= numLayers,
        "first-k-dense-replace (0..num-layers)", firstKDenseReplace);
    TestModelSpec.require(nGroup >= 1 && numExperts % nGroup == 0, "n-group (divides num-experts)", nGroup);
    TestModelSpec.require(topkGroup >= 1 && topkGroup <= nGroup, "topk-group (1..n-group)", topkGroup);
    TestModelSpec.require(topkGroup * (numExperts / nGroup) >= expertsPerToken,
        "topk-group (its groups must hold experts-per-token experts)", topkGroup);
    TestModelSpec.require(routedScalingFactor > 0, "routed-scaling-factor", routedScalingFactor);
    TestModelSpec.require(nextnLayers >= 0, "nextn-layers", nextnLayers);
  }
}
