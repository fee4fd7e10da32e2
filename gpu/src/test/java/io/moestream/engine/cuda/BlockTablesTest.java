package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.engine.kv.PagedKvCache;
import org.junit.jupiter.api.Test;

class BlockTablesTest {

  @Test
  void packsEachSequenceOnceWithTheBlocksItsTokensReach() {
    PagedKvCache cache = new PagedKvCache(1, 8, 8, 4, 16);
    PagedKvCache.Sequence filler = cache.newSequence();
    cache.reserve(filler, 4); // takes block 0, so the sequences below do not start at block 0
    PagedKvCache.Sequence a = cache.newSequence();
    PagedKvCache.Sequence b = cache.newSequence();
    cache.reserve(a, 10); // 3 blocks
    cache.reserve(b, 5); // 2 blocks
    // a decodes position 9; b runs a prompt chunk at positions 2..4
    int[] positions = {9, 2, 3, 4};
    PagedKvCache.Sequence[] seqs = {a, b, b, b};
    BlockTables t = BlockTables.pack(positions, seqs, 4);
    assertEquals(2, t.numSeqs());
    assertEquals(3, t.maxBlocksPerSeq());
    assertArrayEquals(new int[] {0, 1, 1, 1}, t.tokenSeq());
    assertArrayEquals(new int[] {10, 3, 4, 5}, t.contextLens());
    assertEquals(10, t.maxContext());
    for (int s = 0; s < 2; s++) {
      PagedKvCache.Sequence seq = s == 0 ? a : b;
      int blocks = s == 0 ? 3 : 2;
      for (int i = 0; i < blocks; i++) {
        assertEquals(seq.slot(i * 4) / 4, t.table()[s * 3 + i]);
      }
    }
    for (int i = 0; i < positions.length; i++) {
      int p = positions[i];
      int row = t.table()[t.tokenSeq()[i] * 3 + p / 4] * 4 + p % 4; // what the kernels compute
      assertEquals(seqs[i].slot(p), row);
      assertEquals(seqs[i].slot(p), t.slots()[i]);
    }
  }

  @Test
  void aStepBeyondTheReservedBlocksIsRefused() {
    PagedKvCache cache = new PagedKvCache(1, 8, 8, 4, 16);
    PagedKvCache.Sequence a = cache.newSequence();
    cache.reserve(a, 4);
    assertThrows(RuntimeException.class, () -> BlockTables.pack(new int[] {4}, new PagedKvCache.Sequence[] {a}, 4));
  }
}
