package io.moestream.engine.cuda;

/**
 * Work lists of the grouped GEMM kernels ({@code gemm_bf16_grouped}, {@code gemm_bf16_gate_up_silu}
 * in moe.cu): one entry of four ints per thread block, {matrix, firstRow, numRows, rowTile}: the block
 * multiplies rows [firstRow, firstRow + numRows) of x (numRows <= {@link #MAX_CHUNK}) by weight rows
 * [rowTile * {@link #TILE_ROWS}, +TILE_ROWS) of matrix {@code matrix} of the set.
 *
 * <p>Entries run group by group, row tile by row tile, and the token chunks of one (group, tile) are
 * neighbours: they run at about the same time, so a tile is read from DRAM once per step and from L2
 * by its other chunks.
 */
final class GemmWorkList {
  /** Weight rows per block: 8 warps x 4 rows (TILE_ROWS in moe.cu). */
  static final int TILE_ROWS = 32;
  /** x rows per block (MAX_CHUNK in moe.cu). */
  static final int MAX_CHUNK = 8;
  static final int INTS_PER_ITEM = 4;

  private GemmWorkList() {}

  /** One matrix over {@code xRows} rows of x: projections, dense MLPs, shared experts, the LM head. */
  static int[] single(int xRows, int weightRows) {
    return grouped(new int[] {0, xRows}, new int[] {0}, weightRows);
  }

  /**
   * @param groupStart (numGroups + 1): group g covers x rows [groupStart[g], groupStart[g + 1])
   * @param groupMatrix (numGroups): the matrix of the set each group multiplies by (its expert)
   * @param weightRows rows of every matrix of the set
   * @return (numItems, 4) flattened; numItems = length / 4
   */
  static int[] grouped(int[] groupStart, int[] groupMatrix, int weightRows) {
    if (groupStart.length != groupMatrix.length + 1) {
      throw new IllegalArgumentException("groupStart needs one entry more than groupMatrix");
    }
    int tiles = ceilDiv(weightRows, TILE_ROWS);
    int items = 0;
    for (int g = 0; g < groupMatrix.length; g++) {
      items += tiles * ceilDiv(groupStart[g + 1] - groupStart[g], MAX_CHUNK);
    }
    int[] work = new int[items * INTS_PER_ITEM];
    int i = 0;
    for (int g = 0; g < groupMatrix.length; g++) {
      for (int tile = 0; tile < tiles; tile++) {
        for (int row = groupStart[g]; row < groupStart[g + 1]; row += MAX_CHUNK) {
          work[i++] = groupMatrix[g];
          work[i++] = row;
          work[i++] = Math.min(MAX_CHUNK, groupStart[g + 1] - row);
          work[i++] = tile;
        }
      }
    }
    return work;
  }

  static int numItems(int[] work) {
    return work.length / INTS_PER_ITEM;
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
