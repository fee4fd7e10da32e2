package io.moestream.engine.testmodel;

import io.moestream.engine.model.Architecture;

/**
 * The DeepSeek-V2/V3 part of a test model: latent attention widths, routing, dense layers, YaRN and
 * FP8. Defaults are V2-Lite-shaped (no query compression, softmax greedy routing, 2 shared experts) or
 * V3-shaped (compressed queries, sigmoid group-limited routing with a score correction bias, 1 shared
 * expert), both scaled down, both with the YaRN settings of the released configs.
 *
 * @param qLoraRank 0 for q_proj (V2-Lite)
 * @param topkMethod greedy, group_limited_greedy (V2) or noaux_tc (V3)
 * @param yarnFactor 0 for no rope scaling
 * @param fp8 V3 only: E4M3 weights with (128, 128) block scales
 */
public record DeepseekSpec(
    int qLoraRank,
    int kvLoraRank,
    int qkNopeHeadDim,
    int qkRopeHeadDim,
    int vHeadDim,
    int nSharedExperts,
    int nGroup,
    int topkGroup,
    int firstKDenseReplace,
    int moeLayerFreq,
    String topkMethod,
    boolean normTopKProb,
    double routedScalingFactor,
    double yarnFactor,
    int yarnOriginalMaxPositions,
    double yarnMscale,
    double yarnMscaleAllDim,
    boolean fp8) {

  public static final int FP8_BLOCK = 128;

  public static DeepseekSpec defaults(Architecture architecture) {
    if (architecture == Architecture.DEEPSEEK_V3) {
      return new DeepseekSpec(48, 32, 16, 8, 16, 1, 4, 2, 1, 1, "noaux_tc", true, 2.5, 40, 4096, 1.0, 1.0, false);
    }
    return new DeepseekSpec(0, 32, 16, 8, 16, 2, 1, 1, 1, 1, "greedy", false, 1.0, 40, 4096, 0.707, 0.707, false);
  }

  public DeepseekSpec withAttention(int qLora, int kvLora, int nope, int rope, int v) {
    return new DeepseekSpec(qLora, kvLora, nope, rope, v, nSharedExperts, nGroup, topkGroup, firstKDenseReplace,
        moeLayerFreq, topkMethod, normTopKProb, routedScalingFactor, yarnFactor, yarnOriginalMaxPositions, yarnMscale,
        yarnMscaleAllDim, fp8);
  }

  public DeepseekSpec withRouting(String method, int groups, int groupsPerToken, int sharedExperts) {
    return new DeepseekSpec(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, sharedExperts, groups,
        groupsPerToken, firstKDenseReplace, moeLayerFreq, method, normTopKProb, routedScalingFactor, yarnFactor,
        yarnOriginalMaxPositions, yarnMscale, yarnMscaleAllDim, fp8);
  }

  public DeepseekSpec withDenseLayers(int firstDense, int layerFreq) {
    return new DeepseekSpec(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, nSharedExperts, nGroup,
        topkGroup, firstDense, layerFreq, topkMethod, normTopKProb, routedScalingFactor, yarnFactor,
        yarnOriginalMaxPositions, yarnMscale, yarnMscaleAllDim, fp8);
  }

  /** factor 0 turns rope scaling off. */
  public DeepseekSpec withYarn(double factor, int originalMaxPositions, double mscale, double mscaleAllDim) {
    return new DeepseekSpec(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, nSharedExperts, nGroup,
        topkGroup, firstKDenseReplace, moeLayerFreq, topkMethod, normTopKProb, routedScalingFactor, factor,
        originalMaxPositions, mscale, mscaleAllDim, fp8);
  }

  public DeepseekSpec withFp8(boolean v) {
    return new DeepseekSpec(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, nSharedExperts, nGroup,
        topkGroup, firstKDenseReplace, moeLayerFreq, topkMethod, normTopKProb, routedScalingFactor, yarnFactor,
        yarnOriginalMaxPositions, yarnMscale, yarnMscaleAllDim, v);
  }

  void validate(int numExperts, int expertsPerToken) {
    TestModelSpec.require(qLoraRank >= 0, "q-lora-rank (0 = none)", qLoraRank);
    TestModelSpec.require(kvLoraRank > 0, "kv-lora-rank", kvLoraRank);
    TestModelSpec.require(qkNopeHeadDim > 0, "qk-nope-head-dim", qkNopeHeadDim);
    TestModelSpec.require(qkRopeHeadDim > 0 && qkRopeHeadDim % 2 == 0, "qk-rope-head-dim (even)", qkRopeHeadDim);
    TestModelSpec.require(vHeadDim > 0, "v-head-dim", vHeadDim);
    TestModelSpec.require(nSharedExperts >= 0, "n-shared-experts", nSharedExperts);
    TestModelSpec.require(nGroup >= 1 && numExperts % nGroup == 0, "n-group (divides num-experts)", nGroup);
    TestModelSpec.require(topkGroup >= 1 && topkGroup <= nGroup, "topk-group (1..n-group)", topkGroup);
    TestModelSpec.require(topkGroup * (numExperts / nGroup) >= expertsPerToken,
        "topk-group (its groups must hold experts-per-token experts)", topkGroup);
    TestModelSpec.require(firstKDenseReplace >= 0, "first-k-dense-replace", firstKDenseReplace);
    TestModelSpec.require(moeLayerFreq >= 1, "moe-layer-freq", moeLayerFreq);
    TestModelSpec.require(topkMethod.equals("greedy") || topkMethod.equals("group_limited_greedy")
        || topkMethod.equals("noaux_tc"), "topk-method", topkMethod);
  }
}
