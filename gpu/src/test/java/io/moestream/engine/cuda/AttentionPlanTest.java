package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.moestream.engine.kv.PagedKvCache;
import org.junit.jupiter.api.Test;

class AttentionPlanTest {

  @Test
  void singleTokensDecodeAndPromptRunsAreTiled() {
    PagedKvCache cache = new PagedKvCache(1, 8, 8, 16, 64);
    PagedKvCache.Sequence a = cache.newSequence();
    PagedKvCache.Sequence b = cache.newSequence();
    PagedKvCache.Sequence c = cache.newSequence();
    // a decodes at 40; b's prompt chunk of 20 positions 0..19; c decodes at 7
    int n = 22;
    int[] positions = new int[n];
    PagedKvCache.Sequence[] seqs = new PagedKvCache.Sequence[n];
    positions[0] = 40;
    seqs[0] = a;
    for (int i = 0; i < 20; i++) {
      positions[1 + i] = i;
      seqs[1 + i] = b;
    }
    positions[21] = 7;
    seqs[21] = c;
    AttentionPlan plan = AttentionPlan.of(positions, seqs);
    assertArrayEquals(new int[] {0, 21}, plan.decodeTokens());
    assertArrayEquals(new int[] {1, 16, 17, 4}, plan.prefillTiles());
  }

  @Test
  void neighbouringDecodeTokensOfDifferentSequencesAreNotARun() {
    PagedKvCache cache = new PagedKvCache(1, 8, 8, 16, 64);
    PagedKvCache.Sequence a = cache.newSequence();
    PagedKvCache.Sequence b = cache.newSequence();
    AttentionPlan plan = AttentionPlan.of(new int[] {5, 6}, new PagedKvCache.Sequence[] {a, b});
    assertArrayEquals(new int[] {0, 1}, plan.decodeTokens());
    assertArrayEquals(new int[0], plan.prefillTiles());
  }
}
