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

  /**
   * The same, with each token's floor: the result must stay at or above {@code min(minK[t], requestedK[t])}.
   * The default runs {@link #select} and raises any token below its floor, so a rule written without
   * floors still honours them; rules that trade choices between tokens override this.
   *
   * @param minK (numTokens), or null for none
   */
  default void select(int layer, int numTokens, int[] requestedK, int[] minK, float[] scores, int numExperts,
      int[] candidates, int maxK, int[] selectedK) {
    select(layer, numTokens, requestedK, scores, numExperts, candidates, maxK, selectedK);
    if (minK != null) {
      for (int t = 0; t < numTokens; t++) {
        selectedK[t] = Math.max(selectedK[t], Math.min(minK[t], requestedK[t]));
      }
    }
  }

  /** Uses exactly the requested k. */
  ExpertSelection AS_REQUESTED =
      (layer, numTokens, requestedK, scores, numExperts, candidates, maxK, selectedK) ->
          System.arraycopy(requestedK, 0, selectedK, 0, numTokens);
}
