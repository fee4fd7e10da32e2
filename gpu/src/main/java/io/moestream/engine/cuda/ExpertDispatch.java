package io.moestream.engine.cuda;

/**
 * The permutation of one sparse layer's (token, slot) entries into rows grouped by expert, built on
 * the host from the router's choices (a few hundred ints per step) and uploaded for
 * {@code gather_rows}, the grouped GEMMs and {@code moe_combine}.
 *
 * <p>Within an expert, rows follow (token, slot) order, so the layout depends only on the choices.
 *
 * @param gatherTokens (numEntries): the token whose activations row i of the dispatched input holds
 * @param entryRow (numTokens, maxK): the dispatched row of entry (t, j); 0 for j >= selectedK[t]
 * @param groupStart (numActive + 1): rows of the i-th active expert are [groupStart[i], groupStart[i + 1])
 * @param groupExpert (numActive): the expert of each group, ascending
 */
record ExpertDispatch(int[] gatherTokens, int[] entryRow, int[] groupStart, int[] groupExpert) {

  /**
   * @param candidates (numTokens, maxK): each token's experts, best first
   * @param selectedK (numTokens): how many candidates each token uses
   */
  static ExpertDispatch of(int[] candidates, int[] selectedK, int numTokens, int maxK, int numExperts) {
    int[] counts = new int[numExperts];
    int numEntries = 0;
    for (int t = 0; t < numTokens; t++) {
      if (selectedK[t] < 1 || selectedK[t] > maxK) {
        throw new IllegalArgumentException("token " + t + " selects " + selectedK[t] + " experts; allowed 1.." + maxK);
      }
      for (int j = 0; j < selectedK[t]; j++) {
        int e = candidates[t * maxK + j];
        if (e < 0 || e >= numExperts) {
          throw new IllegalStateException("token " + t + " slot " + j + ": expert " + e + " outside [0, " + numExperts
              + ") (fewer selectable experts than k?)");
        }
        counts[e]++;
        numEntries++;
      }
    }
    int active = 0;
    for (int count : counts) {
      active += count > 0 ? 1 : 0;
    }
    int[] groupStart = new int[active + 1];
    int[] groupExpert = new int[active];
    int[] firstRow = new int[numExperts];
    for (int e = 0, g = 0, row = 0; e < numExperts; e++) {
      if (counts[e] > 0) {
        groupExpert[g] = e;
        groupStart[g] = row;
        firstRow[e] = row;
        row += counts[e];
        groupStart[++g] = row;
      }
    }
    int[] gatherTokens = new int[numEntries];
    int[] entryRow = new int[numTokens * maxK];
    for (int t = 0; t < numTokens; t++) {
      for (int j = 0; j < selectedK[t]; j++) {
        int row = firstRow[candidates[t * maxK + j]]++;
        gatherTokens[row] = t;
        entryRow[t * maxK + j] = row;
      }
    }
    return new ExpertDispatch(gatherTokens, entryRow, groupStart, groupExpert);
  }

  int numEntries() {
    return gatherTokens.length;
  }

  int numActive() {
    return groupExpert.length;
  }
}
