package io.moestream.engine.moe;

/**
 * Turns a token's router logits into ranked expert candidates and, once the number to use is chosen,
 * their routing weights. Ranking and weighting are separate so that an expert-activation policy can
 * decide each token's k in between (from the ranked probabilities, the token's floor, or the whole
 * step's choices) without knowing the model's routing rule.
 *
 * <p>Implementations: {@link SoftmaxTopKRouter} (Qwen, Mixtral, OLMoE, DeepSeek-V2 greedy); DeepSeek's
 * group-limited and sigmoid routers come with that family.
 */
public interface Router {

  /**
   * Ranks the best {@code maxK} experts for one token.
   *
   * @param routerLogits (numExperts) at {@code logitsOffset}
   * @param scores (numExperts) out: the routing probabilities (softmax, or sigmoid for DeepSeek-V3)
   * @param candidates (maxK) out at {@code outOffset}: expert indices, best first
   */
  void rank(float[] routerLogits, int logitsOffset, float[] scores, int[] candidates, int outOffset);

  /**
   * The weights of the first {@code k} candidates (renormalized and scaled as the model defines).
   *
   * @param scores (numExperts) as {@link #rank} produced them for this token
   * @param routingWeights (k) out at {@code outOffset}
   */
  void weights(float[] scores, int[] candidates, int outOffset, int k, float[] routingWeights);

  /** The config's experts per token: how many candidates {@link #rank} writes. */
  int maxK();
}
