package io.moestream.engine.moe;

/**
 * Decides, for every token of a step at one sparse layer, how many of its ranked candidates it uses.
 * Runs after the router ranked all tokens of the step, so a rule may look at the whole step (for
 * example, which experts the step already reads). The default keeps what the batch asked for.
 */
@FunctionalInterface
public interface ExpertSelection {

  /**
   * @param layer the decoder layer
   * @param numTokens tokens in the step
   * @param requestedK (numTokens): the experts per token the step asked for, 1..maxK
   * @param scores (numTokens, numExperts): routing probabilities of each token
   * @param candidates (numTokens, maxK): each token's experts, best first
   * @param maxK candidates per token
   * @param selectedK (numTokens) out: how many candidates each token uses, 1..requestedK[t]
   */
  void select(int layer, int numTokens, int[] requestedK, float[] scores, int numExperts, int[] candidates, int maxK,
      int[] selectedK);

  /** Uses exactly the requested k. */
  ExpertSelection AS_REQUESTED =
      (layer, numTokens, requestedK, scores, numExperts, candidates, maxK, selectedK) ->
          System.arraycopy(requestedK, 0, selectedK, 0, numTokens);
}
