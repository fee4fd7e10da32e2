package io.moestream.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Block accounting of the paged KV cache: reserve, release, no partial allocation, no shared slots. */
class PagedKvCacheTest {
  private static final int BLOCK = 4;

  private static PagedKvCache cache(int blocks) {
    return new PagedKvCache(2, 6, 6, BLOCK, blocks);
  }

  @Test
  void reserveTakesWholeBlocksAndReleaseReturnsThem() {
    PagedKvCache cache = cache(10);
    PagedKvCache.Sequence s = cache.newSequence();
    assertTrue(cache.reserve(s, 1));
    assertEquals(1, s.blocksHeld());
    assertEquals(9, cache.freeBlocks());
    assertTrue(cache.reserve(s, 4)); // same block
    assertEquals(1, s.blocksHeld());
    assertTrue(cache.reserve(s, 5));
    assertEquals(2, s.blocksHeld());
    assertTrue(cache.reserve(s, 3)); // shrinking asks for nothing
    assertEquals(2, s.blocksHeld());
    assertTrue(cache.reserve(s, 17));
    assertEquals(5, s.blocksHeld());
    assertEquals(5, cache.freeBlocks());
    s.setLength(17);
    assertEquals(17, s.length());
    cache.release(s);
    assertEquals(0, s.blocksHeld());
    assertEquals(0, s.length());
    assertEquals(10, cache.freeBlocks());
  }

  @Test
  void reserveFailsWithoutTakingAnythingWhenShort() {
    PagedKvCache cache = cache(5);
    PagedKvCache.Sequence a = cache.newSequence();
    PagedKvCache.Sequence b = cache.newSequence();
    assertTrue(cache.reserve(a, 12)); // 3 blocks
    assertTrue(cache.reserve(b, 4)); // 1 block
    assertFalse(cache.reserve(b, 13)); // needs 3 more, 1 free
    assertEquals(1, b.blocksHeld(), "no partial allocation");
    assertEquals(1, cache.freeBlocks());
    assertFalse(cache.canFit(5));
    assertTrue(cache.canFit(4));
    assertTrue(cache.reserve(b, 8));
    assertEquals(0, cache.freeBlocks());
    assertFalse(cache.reserve(cache.newSequence(), 1));
    cache.release(a);
    assertTrue(cache.reserve(b, 20));
    assertEquals(5, b.blocksHeld());
  }

  @Test
  void lengthCannotPassTheReservedCapacity() {
    PagedKvCache cache = cache(3);
    PagedKvCache.Sequence s = cache.newSequence();
    cache.reserve(s, 6);
    s.setLength(8);
    assertThrows(IllegalStateException.class, () -> s.setLength(9));
  }

  @Test
  void slotsOfLiveSequencesNeverCollideAndBlocksAreReused() {
    int blocks = 24;
    PagedKvCache cache = cache(blocks);
    SplittableRandom random = new SplittableRandom(1);
    Map<PagedKvCache.Sequence, Integer> live = new HashMap<>();
    Set<Integer> blocksEverUsed = new HashSet<>();
    for (int round = 0; round < 400; round++) {
      if (!live.isEmpty() && random.nextInt(3) == 0) {
        List<PagedKvCache.Sequence> all = new ArrayList<>(live.keySet());
        PagedKvCache.Sequence victim = all.get(random.nextInt(all.size()));
        cache.release(victim);
        live.remove(victim);
      } else if (!live.isEmpty() && random.nextBoolean()) {
        List<PagedKvCache.Sequence> all = new ArrayList<>(live.keySet());
        PagedKvCache.Sequence s = all.get(random.nextInt(all.size()));
        int grown = live.get(s) + random.nextInt(1, 9);
        int freeBefore = cache.freeBlocks();
        int heldBefore = s.blocksHeld();
        if (cache.reserve(s, grown)) {
          live.put(s, grown);
        } else {
          assertEquals(freeBefore, cache.freeBlocks());
          assertEquals(heldBefore, s.blocksHeld());
        }
      } else {
        PagedKvCache.Sequence s = cache.newSequence();
        int length = random.nextInt(1, 20);
        if (cache.reserve(s, length)) {
          live.put(s, length);
        }
      }
      // Every (sequence, position) maps to its own slot; blocks held + free = all blocks.
      Set<Integer> slots = new HashSet<>();
      int held = 0;
      for (Map.Entry<PagedKvCache.Sequence, Integer> e : live.entrySet()) {
        held += e.getKey().blocksHeld();
        assertEquals((e.getValue() + BLOCK - 1) / BLOCK, e.getKey().blocksHeld());
        for (int p = 0; p < e.getValue(); p++) {
          int slot = e.getKey().slot(p);
          assertTrue(slot >= 0 && slot < blocks * BLOCK, "slot " + slot);
          assertTrue(slots.add(slot), "slot " + slot + " used twice (round " + round + ")");
          blocksEverUsed.add(slot / BLOCK);
        }
      }
      assertEquals(blocks, held + cache.freeBlocks(), "round " + round);
    }
    assertEquals(blocks, blocksEverUsed.size(), "released blocks are handed out again");
  }

  @Test
  void slotsWithinABlockAreConsecutive() {
    PagedKvCache cache = cache(4);
    PagedKvCache.Sequence s = cache.newSequence();
    cache.reserve(s, 8);
    for (int p = 1; p < BLOCK; p++) {
      assertEquals(s.slot(0) + p, s.slot(p));
    }
    assertEquals(0, s.slot(0) % BLOCK);
    assertEquals(0, s.slot(BLOCK) % BLOCK);
  }

  @Test
  void sizesFollowTheBudget() {
    // 2 layers x 4 tokens x (6 + 6) floats x 4 bytes = 384 bytes per block.
    assertEquals(10, PagedKvCache.blocksForBytes(3840, 2, 6, 6, BLOCK));
    assertEquals(1, PagedKvCache.blocksForBytes(10, 2, 6, 6, BLOCK));
    PagedKvCache cache = cache(3);
    assertEquals(2 * 12 * 4, cache.bytesPerToken());
    assertEquals(3 * BLOCK * 6, cache.keys(1).length);
    assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(1, 1, 1, 0, 1));
  }
}
