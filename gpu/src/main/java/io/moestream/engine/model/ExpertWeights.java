package io.moestream.engine.model;

import io.moestream.engine.kernel.Matrix;

/**
 * One SiLU-gated MLP: {@code down(silu(gateProj x) * upProj x)}. Used for routed experts, shared experts
 * and dense MLP layers alike.
 *
 * @param gateProj (intermediateSize, hiddenSize): the SiLU-gated projection (Mixtral's w1)
 * @param upProj (intermediateSize, hiddenSize) (Mixtral's w3)
 * @param downProj (hiddenSize, intermediateSize) (Mixtral's w2)
 */
public record ExpertWeights(Matrix gateProj, Matrix upProj, Matrix downProj) {
  public int intermediateSize() {
    return gateProj.rows();
  }

  public long byteSize() {
    return gateProj.byteSize() + upProj.byteSize() + downProj.byteSize();
  }
}
