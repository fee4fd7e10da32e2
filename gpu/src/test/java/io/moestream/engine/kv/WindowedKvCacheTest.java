package io.moestream.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sliding-window layers in their own pool: a sequence keeps only the blocks its next queries can attend,
 * every position a query can attend has a slot no other live position shares, blocks behind the window go
 * back to the pool, and the layout splits a budget so the full-attention pool is never smaller than
 * without windows.
 */
class WindowedKvCacheTest {
  private static final int BLOCK = 4;
  private static final int WIDTH = 6;

  @Test
  void layoutGivesWindowedLayersTheirSpanAndTheRestToFullAttention() {
    int[] windows = {4, 0, 4, 0};
    long bytes = 4L * 100 * BLOCK * 2 * WIDTH * Float.BYTES; // 100 blocks for every layer without windows
    KvCacheLayout layout = KvCacheLayout.plan(windows, WIDTH, WIDTH, bytes, BLOCK, 8, 3);
    assertArrayEquals(new int[] {0, 4}, layout.poolWindow());
    assertArrayEquals(new int[] {1, 0, 1, 0}, layout.layerPool());
    int span = KvCacheLayout.windowSpanBlocks(4, 8, BLOCK); // 4 + 8 - 1 = 11 positions: at most 4 blocks
    assertEquals(4, span);
    assertEquals(3 * span, layout.poolBlocks()[1]);
    assertEquals(200 - 3 * span, layout.poolBlocks()[0], "the windowed layers' unused budget goes to full attention");
    assertTrue(layout.bytes(WIDTH, WIDTH) <= bytes);
    assertEquals(layout, KvCacheLayout.plan(windows, WIDTH, WIDTH, bytes, BLOCK, 8, 3));

    KvCacheLayout none = KvCacheLayout.plan(new int[] {0, 0}, WIDTH, WIDTH, bytes, BLOCK, 8, 3);
    assertFalse(none.windowed());
    assertEquals(KvCacheLayout.unwindowed(2, BLOCK, 200), none);

    KvCacheLayout allWindowed = KvCacheLayout.plan(new int[] {5, 5, 5, 5}, WIDTH, WIDTH, bytes, BLOCK, 8, 3);
    assertArrayEquals(new int[] {5}, allWindowed.poolWindow());
    assertArrayEquals(new int[] {100}, allWindowed.poolBlocks(), "no full attention: the whole budget");
    assertEquals(5, allWindowed.longestAttendedContext());
  }

  /** One sequence decoding token by token keeps its window's blocks only; its full layers keep everything. */
  @ParameterizedTest
  @CsvSource({"1, 1", "4, 1", "5, 3", "16, 8"})
  void aDecodingSequenceHoldsOnlyItsWindow(int window, int chunk) {
    PagedKvCache cache = new PagedKvCache(new KvCacheLayout(BLOCK, chunk, new int[] {0, 1}, new int[] {0, window},
        new int[] {100, 100}), WIDTH, WIDTH);
    PagedKvCache.Sequence s = cache.newSequence();
    int span = KvCacheLayout.windowSpanBlocks(window, chunk, BLOCK);
    for (int length = 0; length < 300; length += chunk) {
      assertTrue(cache.reserve(s, length + chunk));
      for (int p = Math.max(0, length - window + 1); p < length + chunk; p++) {
        s.slot(1, p); // every position the step's queries attend has a slot
      }
      s.setLength(length + chunk);
      assertTrue(s.blocksHeldInPool(1) <= span, "window pool holds " + s.blocksHeldInPool(1) + " > span " + span);
      assertEquals(100 - s.blocksHeldInPool(1), cache.freeBlocks(1));
      assertEquals((length + chunk + BLOCK - 1) / BLOCK, s.blocksHeldInPool(0), "full attention keeps all");
    }
    int lastStepStart = (300 + chunk - 1) / chunk * chunk - chunk;
    int behind = Math.max(0, lastStepStart - window + 1) / BLOCK * BLOCK - 1; // the last freed position
    assertThrows(IllegalStateException.class, () -> s.slot(1, behind), "a position behind the window has no slot");
    assertEquals(s.slot(0, 0), s.slot(0), "full-attention layers still find position 0");
    cache.release(s);
    assertEquals(100, cache.freeBlocks(0));
    assertEquals(100, cache.freeBlocks(1));
  }

  /** The bulk offsets attention reads are slot by slot what {@code slot} gives, across blocks and pools. */
  @Test
  void rowOffsetsAreEachPositionsSlotTimesWidthPlusTheColumn() {
    int window = 6;
    PagedKvCache cache = new PagedKvCache(new KvCacheLayout(BLOCK, 3, new int[] {0, 1}, new int[] {0, window},
        new int[] {100, 100}), WIDTH, WIDTH);
    PagedKvCache.Sequence other = cache.newSequence();
    PagedKvCache.Sequence s = cache.newSequence();
    for (int length = 3; length <= 30; length += 3) { // two sequences growing in turn: scattered blocks
      assertTrue(cache.reserve(other, length));
      assertTrue(cache.reserve(s, length));
      s.setLength(length);
    }
    for (int layer = 0; layer < 2; layer++) {
      int firstCached = layer == 0 ? 0 : 30 - window;
      for (int first = firstCached; first < 30; first += 3) {
        for (int count : new int[] {0, 1, BLOCK - 1, BLOCK + 1, 30 - first}) {
          if (first + count > 30) {
            continue;
          }
          int[] offsets = new int[count + 1];
          offsets[count] = -7; // past count: untouched
          s.rowOffsets(layer, first, count, WIDTH, 2, offsets);
          for (int i = 0; i < count; i++) {
            assertEquals(s.slot(layer, first + i) * WIDTH + 2, offsets[i], "layer " + layer + " position " + (first + i));
          }
          assertEquals(-7, offsets[count]);
        }
      }
    }
    assertThrows(IllegalStateException.class, () -> s.rowOffsets(1, 0, 30, WIDTH, 0, new int[30]),
        "positions behind the window have no rows");
  }

  /** Sequences interleaved at random never share a live slot, and release returns every block. */
  @Test
  void liveSlotsAreNeverShared() {
    int window = 6;
    int chunk = 5;
    PagedKvCache cache = new PagedKvCache(new KvCacheLayout(BLOCK, chunk, new int[] {0, 1, 1}, new int[] {0, window},
        new int[] {400, 40}), WIDTH, WIDTH);
    SplittableRandom random = new SplittableRandom(3);
    List<PagedKvCache.Sequence> sequences = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      sequences.add(cache.newSequence());
    }
    for (int step = 0; step < 400; step++) {
      PagedKvCache.Sequence s = sequences.get(random.nextInt(sequences.size()));
      if (random.nextInt(30) == 0) {
        cache.release(s);
        continue;
      }
      int n = 1 + random.nextInt(chunk);
      if (!cache.reserve(s, s.length() + n)) {
        cache.release(s);
        continue;
      }
      s.setLength(s.length() + n);
      Map<Integer, String> owner = new HashMap<>();
      for (int q = 0; q < sequences.size(); q++) {
        PagedKvCache.Sequence t = sequences.get(q);
        for (int p = Math.max(0, t.length() - window); p < t.length(); p++) { // what the next query attends
          String previous = owner.put(t.slot(1, p), q + "@" + p);
          assertEquals(null, previous, "slot " + t.slot(1, p) + " shared by " + previous + " and " + q + "@" + p);
        }
      }
    }
    sequences.forEach(cache::release);
    assertEquals(400, cache.freeBlocks(0));
    assertEquals(40, cache.freeBlocks(1));
  }

  @Test
  void canFitCountsAWindowedPoolUpToItsSpan() {
    PagedKvCache cache = new PagedKvCache(new KvCacheLayout(BLOCK, 4, new int[] {0, 1}, new int[] {0, 4},
        new int[] {100, 3}), WIDTH, WIDTH);
    assertEquals(3, KvCacheLayout.windowSpanBlocks(4, 4, BLOCK));
    assertTrue(cache.canFit(400), "a long prompt needs only its window's span in the windowed pool");
    assertFalse(cache.canFit(401), "but all its positions in the full-attention pool");
    PagedKvCache.Sequence s = cache.newSequence();
    assertTrue(cache.reserve(s, 4));
    assertFalse(cache.canFit(12), "3 windowed blocks for 12 positions, 2 free");
    assertTrue(cache.canFit(8));
  }
}
