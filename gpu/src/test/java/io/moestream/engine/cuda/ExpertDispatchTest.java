package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ExpertDispatchTest {

  @Test
  void groupsEntriesByExpertInTokenSlotOrder() {
    int maxK = 2;
    int[] candidates = {3, 1, /* t1 */ 1, 0, /* t2 */ 3, 2};
    int[] selectedK = {2, 2, 1}; // token 2 uses only expert 3
    ExpertDispatch d = ExpertDispatch.of(candidates, selectedK, 3, maxK, 4);
    assertArrayEquals(new int[] {0, 1, 3}, d.groupExpert());
    assertArrayEquals(new int[] {0, 1, 3, 5}, d.groupStart());
    // expert 0: (t1, j1); expert 1: (t0, j1), (t1, j0); expert 3: (t0, j0), (t2, j0)
    assertArrayEquals(new int[] {1, 0, 1, 0, 2}, d.gatherTokens());
    assertArrayEquals(new int[] {3, 1, 2, 0, 4, 0}, d.entryRow());
    assertEquals(5, d.numEntries());
  }

  @Test
  void everyEntryMapsBackToItsTokenAndExpert() {
    Random random = new Random(7);
    int numTokens = 37;
    int maxK = 4;
    int numExperts = 16;
    int[] candidates = new int[numTokens * maxK];
    int[] selectedK = new int[numTokens];
    for (int t = 0; t < numTokens; t++) {
      selectedK[t] = 1 + random.nextInt(maxK);
      int[] perm = random.ints(0, numExperts).distinct().limit(maxK).toArray();
      System.arraycopy(perm, 0, candidates, t * maxK, maxK);
    }
    ExpertDispatch d = ExpertDispatch.of(candidates, selectedK, numTokens, maxK, numExperts);
    for (int t = 0; t < numTokens; t++) {
      for (int j = 0; j < selectedK[t]; j++) {
        int row = d.entryRow()[t * maxK + j];
        assertEquals(t, d.gatherTokens()[row]);
        int group = 0;
        while (d.groupStart()[group + 1] <= row) {
          group++;
        }
        assertEquals(candidates[t * maxK + j], d.groupExpert()[group]);
      }
    }
  }

  @Test
  void anUnselectableExpertIsAnError() {
    // the router kernel writes numExperts when fewer than k experts were selectable
    assertThrows(IllegalStateException.class, () -> ExpertDispatch.of(new int[] {4}, new int[] {1}, 1, 1, 4));
  }
}
