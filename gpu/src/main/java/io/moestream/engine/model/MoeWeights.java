package io.moestream.engine.model;

import io.moestream.engine.kernel.Matrix;

/**
 * The sparse MLP of one layer.
 *
 * @param router (numExperts, hiddenSize): routerLogits = router @ x
 * @param experts numExperts routed experts; an entry is null when the expert was pruned
 * @param sharedExpert the always-on expert, or null
 * @param sharedExpertGate (1, hiddenSize): scales the shared expert by sigmoid(gate @ x), or null
 * @param routerScoreCorrectionBias (numExperts): DeepSeek-V3's bias on the scores used to choose experts
 *     (not to weigh them), or null
 * @param routerBias (numExperts): gpt-oss's router bias, routerLogits = router @ x + routerBias; or null
 */
public record MoeWeights(Matrix router, ExpertWeights[] experts, ExpertWeights sharedExpert, Matrix sharedExpertGate,
    float[] routerScoreCorrectionBias, float[] routerBias) {

  public MoeWeights(Matrix router, ExpertWeights[] experts, ExpertWeights sharedExpert, Matrix sharedExpertGate,
      float[] routerScoreCorrectionBias) {
    this(router, experts, sharedExpert, sharedExpertGate, routerScoreCorrectionBias, null);
  }

  public MoeWeights(Matrix router, ExpertWeights[] experts, ExpertWeights sharedExpert, Matrix sharedExpertGate) {
    this(router, experts, sharedExpert, sharedExpertGate, null);
  }
}
