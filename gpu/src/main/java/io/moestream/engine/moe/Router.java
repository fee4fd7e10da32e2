package io.moestream.engine.moe;

/**
 * Picks a token's experts from its router logits. Implementations: softmax + top-k (Qwen, Mixtral,
 * OLMoE, DeepSeek-V2); DeepSeek-V3's sigmoid scores with group-limited selection come with that issue.
 */
public interface Router {

  /**
   * Routes one token.
   *
   * @param routerLogits (numExperts) at {@code logitsOffset}
   * @param k experts to select, 1..maxK
   * @param routingProbabilities (numExperts) out: the scores after softmax (or sigmoid)
   * @param selectedExperts (k) out, at {@code outOffset}: experts, best first
   * @param routingWeights (k) out, at {@code outOffset}: the weight of each selected expert's output
   */
  void route(float[] routerLogits, int logitsOffset, int k, float[] routingProbabilities,
      int[] selectedExperts, float[] routingWeights, int outOffset);
}
