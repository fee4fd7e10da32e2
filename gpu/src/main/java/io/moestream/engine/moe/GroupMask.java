package io.moestream.engine.moe;

/** DeepSeek's group-limited routing: experts outside a token's best groups cannot be chosen. */
final class GroupMask {
  private GroupMask() {}

  /** How a group is scored from its experts' choice scores. */
  enum GroupScore {
    /** DeepSeek-V2 group_limited_greedy. */
    MAX,
    /** DeepSeek-V3 noaux_tc: the sum of the group's two best. */
    SUM_OF_TOP_2
  }

  /**
   * Sets the choice score of every expert outside the {@code topkGroup} best of {@code numGroups} equal
   * groups to -infinity. Ties go to the lower group index, as for experts.
   *
   * <p>Pruned experts (choice -infinity) can leave the best groups with fewer than {@code minSelectable}
   * experts, or leave groups without a score; the limit is then dropped and the token chooses among all
   * kept experts, rather than failing the step. Without pruning every score is finite and this never applies.
   */
  static void keepTopGroups(float[] choice, int numGroups, int topkGroup, GroupScore rule, int minSelectable) {
    int groupSize = choice.length / numGroups;
    float[] groupScores = new float[numGroups];
    for (int g = 0; g < numGroups; g++) {
      float best = Float.NEGATIVE_INFINITY;
      float second = Float.NEGATIVE_INFINITY;
      for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
        float s = choice[e];
        if (s > best) {
          second = best;
          best = s;
        } else if (s > second) {
          second = s;
        }
      }
      groupScores[g] = rule == GroupScore.MAX || groupSize < 2 ? best : best + second;
    }
    int scoredGroups = 0;
    for (float score : groupScores) {
      scoredGroups += score > Float.NEGATIVE_INFINITY ? 1 : 0;
    }
    if (scoredGroups < topkGroup) {
      return;
    }
    int[] keep = new int[topkGroup];
    SoftmaxTopKRouter.selectTopK(groupScores, numGroups, topkGroup, keep, 0);
    boolean[] kept = new boolean[numGroups];
    int selectable = 0;
    for (int g : keep) {
      kept[g] = true;
      for (int e = g * groupSize; e < (g + 1) * groupSize; e++) {
        selectable += choice[e] > Float.NEGATIVE_INFINITY ? 1 : 0;
      }
    }
    if (selectable < minSelectable) {
      return;
    }
    for (int g = 0; g < numGroups; g++) {
      if (!kept[g]) {
        java.util.Arrays.fill(choice, g * groupSize, (g + 1) * groupSize, Float.NEGATIVE_INFINITY);
      }
    }
  }
}
