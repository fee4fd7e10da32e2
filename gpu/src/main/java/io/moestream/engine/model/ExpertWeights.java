package io.moestream.engine.model;

import io.moestream.engine.kernel.Matrix;

/**
 * One gated MLP. Most families: {@code down(silu(gateProj x) * upProj x)}, used for routed experts,
 * shared experts and dense MLP layers alike. gpt-oss: one fused projection with biases,
 * {@code gate_up = gateUpProj x + gateUpBias} (gate at even, up at odd rows), the clamped SwiGLU of
 * {@link ModelConfig.ClampedSwiglu}, then {@code downProj h + downBias}.
 *
 * @param gateProj (intermediateSize, hiddenSize): the SiLU-gated projection (Mixtral's w1); null when fused
 * @param upProj (intermediateSize, hiddenSize) (Mixtral's w3); null when fused
 * @param downProj (hiddenSize, intermediateSize) (Mixtral's w2)
 * @param gateUpProj (2 * intermediateSize, hiddenSize): gpt-oss's interleaved gate and up rows, or null
 * @param gateUpBias (2 * intermediateSize), interleaved like gateUpProj's rows, or null
 * @param downBias (hiddenSize), or null
 */
public record ExpertWeights(Matrix gateProj, Matrix upProj, Matrix downProj, Matrix gateUpProj, float[] gateUpBias,
    float[] downBias) {

  public ExpertWeights(Matrix gateProj, Matrix upProj, Matrix downProj) {
    this(gateProj, upProj, downProj, null, null, null);
  }

  /** gpt-oss's expert: fused interleaved gate/up projection and down projection, both with biases. */
  public static ExpertWeights fused(Matrix gateUpProj, float[] gateUpBias, Matrix downProj, float[] downBias) {
    return new ExpertWeights(null, null, downProj, gateUpProj, gateUpBias, downBias);
  }

  public boolean isFused() {
    return gateUpProj != null;
  }

  public int intermediateSize() {
    return isFused() ? gateUpProj.rows() / 2 : gateProj.rows();
  }

  public long byteSize() {
    return isFused() ? gateUpProj.byteSize() + downProj.byteSize()
        : gateProj.byteSize() + upProj.byteSize() + downProj.byteSize();
  }
}
