package io.moestream.engine.model;

import io.moestream.engine.kernel.Matrix;

/**
 * Grouped-query attention weights of one layer.
 *
 * @param qProj (numHeads * headDim, hiddenSize)
 * @param kProj (numKvHeads * headDim, hiddenSize)
 * @param vProj (numKvHeads * headDim, hiddenSize)
 * @param oProj (hiddenSize, numHeads * headDim)
 * @param qBias (numHeads * headDim) or null
 * @param kBias (numKvHeads * headDim) or null
 * @param vBias (numKvHeads * headDim) or null
 * @param qNorm (headDim) per head, or (numHeads * headDim) over the projection, or null
 * @param kNorm (headDim) per head, or (numKvHeads * headDim) over the projection, or null
 * @param oBias (hiddenSize) or null: Qwen3-MoE, OLMoE and gpt-oss with attention_bias (never Qwen2-MoE)
 * @param sinks (numHeads) gpt-oss's learned attention sinks: per head one more logit in the softmax's
 *     denominator that attends to nothing; null for other families
 */
public record AttentionWeights(
    Matrix qProj, Matrix kProj, Matrix vProj, Matrix oProj,
    float[] qBias, float[] kBias, float[] vBias,
    float[] qNorm, float[] kNorm, float[] oBias, float[] sinks) {

  public AttentionWeights(Matrix qProj, Matrix kProj, Matrix vProj, Matrix oProj, float[] qBias, float[] kBias,
      float[] vBias, float[] qNorm, float[] kNorm, float[] oBias) {
    this(qProj, kProj, vProj, oProj, qBias, kBias, vBias, qNorm, kNorm, oBias, null);
  }

  public long byteSize() {
    return qProj.byteSize() + kProj.byteSize() + vProj.byteSize() + oProj.byteSize();
  }
}
