package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** runRanges covers [0, total) exactly once, in aligned ranges, whatever the thread count. */
class WorkerPoolTest {
  @Test
  void rangesCoverEveryIndexOnceAligned() {
    for (int threads : new int[] {1, 2, 3, 8}) {
      try (WorkerPool pool = new WorkerPool(threads)) {
        for (int total : new int[] {1, 3, 4, 7, 64, 100, 151_936}) {
          AtomicIntegerArray hits = new AtomicIntegerArray(total);
          pool.runRanges(total, 4, (start, end) -> {
            assertTrue(start % 4 == 0, "range start " + start + " not aligned");
            for (int i = start; i < end; i++) {
              hits.incrementAndGet(i);
            }
          });
          for (int i = 0; i < total; i++) {
            assertEquals(1, hits.get(i), "index " + i + " of " + total + " with " + threads + " threads");
          }
        }
      }
    }
  }
}
