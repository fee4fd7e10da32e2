package io.moestream.engine.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TokenExchangePlanTest {

  @Test
  void entriesGoToTheirExpertsDeviceInAscendingOrder() {
    // 3 tokens, maxK 2; experts 0,1 on device 0, experts 2,3 on device 1; token 1 uses k = 1
    int[] deviceOfExpert = {0, 0, 1, 1};
    int[] home = {0, 1, 0};
    int[] candidates = {2, 0, 1, 3, 3, 2};
    TokenExchangePlan plan = TokenExchangePlan.of(2, home, candidates, 2, new int[] {2, 1, 2}, deviceOfExpert);
    assertArrayEquals(new int[] {1}, plan.sends(0, 0)); // token 0 slot 1 -> expert 0, stays home
    assertArrayEquals(new int[] {0, 4, 5}, plan.sends(0, 1)); // token 0 slot 0, token 2 slots 0 and 1
    assertArrayEquals(new int[] {2}, plan.sends(1, 0)); // token 1 slot 0 -> expert 1 on device 0
    assertArrayEquals(new int[] {}, plan.sends(1, 1)); // token 1's slot 1 is unused (k = 1)
    assertArrayEquals(new int[] {1, 2}, plan.received(0));
    assertArrayEquals(new int[] {0, 4, 5}, plan.received(1));
    assertEquals(1, plan.receiveOffset(0, 1));
    assertEquals(4, plan.crossDeviceRows());
  }

  @Test
  void everyUsedEntryIsSentExactlyOnce() {
    java.util.Random random = new java.util.Random(9);
    int tokens = 50;
    int maxK = 4;
    int experts = 16;
    int devices = 3;
    int[] deviceOfExpert = new int[experts];
    for (int e = 0; e < experts; e++) {
      deviceOfExpert[e] = random.nextInt(devices);
    }
    int[] home = new int[tokens];
    int[] selectedK = new int[tokens];
    int[] candidates = new int[tokens * maxK];
    int used = 0;
    for (int t = 0; t < tokens; t++) {
      home[t] = random.nextInt(devices);
      selectedK[t] = 1 + random.nextInt(maxK);
      used += selectedK[t];
      for (int j = 0; j < maxK; j++) {
        candidates[t * maxK + j] = random.nextInt(experts);
      }
    }
    TokenExchangePlan plan = TokenExchangePlan.of(devices, home, candidates, maxK, selectedK, deviceOfExpert);
    int[] all = new int[0];
    for (int d = 0; d < devices; d++) {
      for (int entry : plan.received(d)) {
        assertEquals(d, deviceOfExpert[candidates[entry]], "entry " + entry + " computed where its expert is");
      }
      for (int s = 0; s < devices; s++) {
        int[] rows = plan.sends(s, d);
        for (int i = 0; i < rows.length; i++) {
          assertEquals(s, home[rows[i] / maxK], "sent from the token's home");
          if (i > 0) {
            assertEquals(true, rows[i] > rows[i - 1], "ascending");
          }
        }
      }
      int[] received = plan.received(d);
      int[] grown = Arrays.copyOf(all, all.length + received.length);
      System.arraycopy(received, 0, grown, all.length, received.length);
      all = grown;
    }
    assertEquals(used, all.length);
    assertEquals(used, Arrays.stream(all).distinct().count());
    assertThrows(IllegalArgumentException.class,
        () -> TokenExchangePlan.of(1, new int[] {0}, new int[] {7}, 1, new int[] {1}, new int[] {0}));
  }
}
