package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GemmWorkListTest {

  @Test
  void singleMatrixCoversEveryRowAndTileOnce() {
    int xRows = 19;
    int weightRows = 70; // 3 tiles, the last partial
    int[] work = GemmWorkList.single(xRows, weightRows);
    int[][] covered = new int[xRows][3];
    for (int i = 0; i < GemmWorkList.numItems(work); i++) {
      assertEquals(0, work[4 * i]);
      int first = work[4 * i + 1];
      int count = work[4 * i + 2];
      assertEquals(true, count >= 1 && count <= GemmWorkList.MAX_CHUNK);
      for (int r = first; r < first + count; r++) {
        covered[r][work[4 * i + 3]]++;
      }
    }
    for (int[] row : covered) {
      assertArrayEquals(new int[] {1, 1, 1}, row);
    }
    assertEquals(3 * 3, GemmWorkList.numItems(work)); // ceil(19 / 8) chunks x 3 tiles
  }

  @Test
  void groupedListsKeepEachExpertsChunksOfATileTogether() {
    // expert 5 has rows [0, 10), expert 9 rows [10, 11)
    int[] work = GemmWorkList.grouped(new int[] {0, 10, 11}, new int[] {5, 9}, 40);
    int[] expected = {
        5, 0, 8, 0, 5, 8, 2, 0, // tile 0: both chunks of expert 5 side by side
        5, 0, 8, 1, 5, 8, 2, 1,
        9, 10, 1, 0,
        9, 10, 1, 1};
    assertArrayEquals(expected, work);
  }

  @Test
  void noTokensNoWork() {
    assertEquals(0, GemmWorkList.grouped(new int[] {0}, new int[0], 64).length);
  }
}
