package io.moestream.engine.policy;

import io.moestream.engine.moe.ExpertSelection;

/**
 * Keeps a token's top {@code minK} candidates and each further one while its probability is at least
 * {@code ratio} times the top candidate's (candidates are ranked, so the first one below stops the
 * run), never below the token's floor nor above its requested k.
 */
public final class ThresholdSelection implements ExpertSelection {
  private final int minK;
  private final float ratio;

  public ThresholdSelection(int minK, float ratio) {
    this.minK = minK;
    this.ratio = ratio;
  }

  @Override
  public void select(int layer, int numTokens, int[] requestedK, float[] scores, int numExperts, int[] candidates,
      int maxK, int[] selectedK) {
    select(layer, numTokens, requestedK, null, scores, numExperts, candidates, maxK, selectedK);
  }

  @Override
  public void select(int layer, int numTokens, int[] requestedK, int[] minKPerToken, float[] scores, int numExperts,
      int[] candidates, int maxK, int[] selectedK) {
    for (int t = 0; t < numTokens; t++) {
      int requested = requestedK[t];
      int floor = Math.min(requested, Math.max(minK, minKPerToken == null ? 1 : minKPerToken[t]));
      float top = scores[t * numExperts + candidates[t * maxK]];
      int k = floor;
      while (k < requested && scores[t * numExperts + candidates[t * maxK + k]] >= ratio * top) {
        k++;
      }
      selectedK[t] = k;
    }
  }
}
