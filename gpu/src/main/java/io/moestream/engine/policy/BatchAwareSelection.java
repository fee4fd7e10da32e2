package io.moestream.engine.policy;

import io.moestream.engine.moe.ExpertSelection;

/**
 * Drops low-weight choices whose expert would otherwise be read for them alone (see
 * {@link BatchAwarePolicy}). A token can only shorten its ranked prefix, so only its last kept choice
 * is a candidate for dropping. An expert leaves the step when every token still using it has it as a
 * droppable last choice; that repeats until nothing changes (at most maxK rounds).
 */
public final class BatchAwareSelection implements ExpertSelection {
  private final int minK;
  private final float ratio;

  public BatchAwareSelection(int minK, float ratio) {
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
    int[] users = new int[numExperts]; // tokens whose kept choices include the expert
    int[] floor = new int[numTokens];
    for (int t = 0; t < numTokens; t++) {
      selectedK[t] = requestedK[t];
      floor[t] = Math.min(requestedK[t], Math.max(minK, minKPerToken == null ? 1 : minKPerToken[t]));
      for (int j = 0; j < selectedK[t]; j++) {
        users[candidates[t * maxK + j]]++;
      }
    }
    int[] droppableUsers = new int[numExperts];
    boolean changed = true;
    while (changed) {
      changed = false;
      java.util.Arrays.fill(droppableUsers, 0);
      for (int t = 0; t < numTokens; t++) {
        if (droppableTail(t, floor, scores, numExperts, candidates, maxK, selectedK)) {
          droppableUsers[candidates[t * maxK + selectedK[t] - 1]]++;
        }
      }
      for (int t = 0; t < numTokens; t++) {
        if (!droppableTail(t, floor, scores, numExperts, candidates, maxK, selectedK)) {
          continue;
        }
        int expert = candidates[t * maxK + selectedK[t] - 1];
        if (droppableUsers[expert] == users[expert]) {
          selectedK[t]--;
          changed = true;
        }
      }
      // users must follow the drops; recount (cheap: numTokens * maxK)
      if (changed) {
        java.util.Arrays.fill(users, 0);
        for (int t = 0; t < numTokens; t++) {
          for (int j = 0; j < selectedK[t]; j++) {
            users[candidates[t * maxK + j]]++;
          }
        }
      }
    }
  }

  /** Whether token t's last kept choice is above its floor and below ratio times its top choice. */
  private boolean droppableTail(int t, int[] floor, float[] scores, int numExperts, int[] candidates, int maxK,
      int[] selectedK) {
    int k = selectedK[t];
    if (k <= floor[t]) {
      return false;
    }
    float top = scores[t * numExperts + candidates[t * maxK]];
    return scores[t * numExperts + candidates[t * maxK + k - 1]] < ratio * top;
  }
}
