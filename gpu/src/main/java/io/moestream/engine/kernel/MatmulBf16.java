package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for BF16 weights. One int vector of weights holds 2L 16-bit values: evens in the
 * low halves, odds in the high halves, matched by {@link MatmulInput}'s paired activations.
 *
 * <p>Why this shape (measured on a 155 MB BF16 matvec, one thread): walking one weight row per inner loop
 * streams at ~20 GB/s, interleaving 2 or 4 rows at 8-10 GB/s; a branch between dtypes inside the loop
 * also costs, hence one class per 16-bit type. Tiles are one row x 1 or 4 tokens; each (row, token) sum
 * is accumulated in the same order in both, so a token's result does not depend on its batch. Mapped
 * tensors are rarely 64-byte aligned (safetensors aligns data to 8 bytes); every load would then
 * straddle two cache lines, which measured ~20% slower, hence the aligned reads of interior rows.
 */
final class MatmulBf16 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final int BLOCK = MatmulInput.PAIR_BLOCK;

  /** Chunk masks by (phase, chunks): see {@link #chunkMasks}. */
  private static final java.util.concurrent.ConcurrentHashMap<Long, int[]> MASKS = new java.util.concurrent.ConcurrentHashMap<>();

  private MatmulBf16() {}

  /**
   * One int mask per lane per chunk of a row: all ones, except in the first and last chunk of a row
   * read in aligned chunks (phase p > 0), where the 16-bit values outside the row are zeroed.
   */
  static int[] chunkMasks(int phase, int chunks) {
    return MASKS.computeIfAbsent(((long) phase << 32) | chunks, key -> {
      int[] masks = new int[chunks * L];
      java.util.Arrays.fill(masks, -1);
      if (phase > 0) {
        int last = (chunks - 1) * L;
        for (int lane = 0; lane < L; lane++) {
          int even = 2 * lane;
          int odd = 2 * lane + 1;
          masks[lane] = (even >= phase ? 0x0000FFFF : 0) | (odd >= phase ? 0xFFFF0000 : 0);
          masks[last + lane] = (even < phase ? 0x0000FFFF : 0) | (odd < phase ? 0xFFFF0000 : 0);
        }
      }
      return masks;
    });
  }

  /** {@code nativeTiles}: the full chunks through {@link NativeKernels} (bitwise the same sums), where it loaded. */
  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd, boolean nativeTiles) {
    int rows = w.rows();
    int cols = w.cols();
    int tokens = x.numTokens;
    int chunks = cols / BLOCK;
    long rowBytes = (long) cols * 2;
    // Interior rows of a matrix whose data is not 64-byte aligned read whole aligned chunks that reach
    // into the neighbouring rows: those values are masked to zero (the shifted activations are zero
    // there too), so a row's result depends on its own weights only, even if a neighbour is not finite.
    int misalignment = w.misalignment();
    boolean aligned = misalignment > 0 && misalignment % 2 == 0 && cols % BLOCK == 0 && rows > 2;
    float[] shifted = aligned ? x.pairedShifted(misalignment / 2) : null;
    float[] paired = x.paired();
    int shiftedStride = cols + BLOCK;
    int[] inPlaceMasks = chunkMasks(0, chunks);
    int[] alignedMasks = aligned ? chunkMasks(misalignment / 2, chunks + 1) : null;
    boolean inNative = nativeTiles && w.bytes.isDirect() && chunks > 0;
    if (inNative) {
      NativeKernels.bf16(w.bytes, rows, cols, tokens, rowStart, rowEnd, aligned ? misalignment : 0, paired, shifted,
          alignedMasks, out, w.outRows, w.firstRow);
    }
    for (int r = rowStart; r < (inNative ? rowStart : rowEnd); r++) { // after the native call only tails are left
      boolean interior = aligned && r > 0 && r < rows - 1;
      long start = interior ? r * rowBytes - misalignment : r * rowBytes;
      float[] xp = interior ? shifted : paired;
      int stride = interior ? shiftedStride : cols;
      int rowChunks = interior ? chunks + 1 : chunks;
      int[] masks = interior ? alignedMasks : inPlaceMasks;
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, xp, out, r, t, start, t * stride, stride, rowChunks, masks);
      }
      for (; t < tokens; t++) {
        out[t * w.outRows + w.firstRow + r] = row1x1(w, xp, start, t * stride, rowChunks, masks);
      }
    }
    int vectorCols = chunks * BLOCK;
    if (vectorCols < cols) {
      for (int t = 0; t < tokens; t++) {
        for (int r = rowStart; r < rowEnd; r++) {
          float tail = 0;
          for (int c = vectorCols; c < cols; c++) {
            tail += w.get(r, c) * paired[t * cols + c];
          }
          out[t * w.outRows + w.firstRow + r] += tail;
        }
      }
    }
  }

  private static FloatVector evens(IntVector packed) {
    return packed.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  private static FloatVector odds(IntVector packed) {
    return packed.and(0xFFFF0000).reinterpretAsFloats();
  }

  /** One row . one token over {@code chunks} blocks of 2L values from byte {@code start}, each ANDed with its mask. */
  private static float row1x1(Matrix w, float[] xp, long start, int xBase, int chunks, int[] masks) {
    FloatVector evenSum = FloatVector.zero(F);
    FloatVector oddSum = evenSum;
    for (int i = 0; i < chunks; i++) {
      IntVector packed = VectorLoads.ints(I, w.bytes, w.segment, start + i * (long) BLOCK * 2);
      if (i == 0 || i == chunks - 1) {
        packed = packed.and(IntVector.fromArray(I, masks, i * L)); // only the end chunks can reach outside
      }
      int c = xBase + i * BLOCK;
      evenSum = evens(packed).fma(FloatVector.fromArray(F, xp, c), evenSum);
      oddSum = odds(packed).fma(FloatVector.fromArray(F, xp, c + L), oddSum);
    }
    return Reductions.sum(evenSum.add(oddSum));
  }

  /** One row . four tokens, each sum in the same order as {@link #row1x1}. */
  private static void row1x4(Matrix w, float[] xp, float[] out, int r, int t, long start, int xBase,
      int xStride, int chunks, int[] masks) {
    FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
    FloatVector o0 = e0, o1 = e0, o2 = e0, o3 = e0;
    for (int i = 0; i < chunks; i++) {
      IntVector packed = VectorLoads.ints(I, w.bytes, w.segment, start + i * (long) BLOCK * 2);
      if (i == 0 || i == chunks - 1) {
        packed = packed.and(IntVector.fromArray(I, masks, i * L)); // only the end chunks can reach outside
      }
      FloatVector even = evens(packed);
      FloatVector odd = odds(packed);
      int c = xBase + i * BLOCK;
      e0 = even.fma(FloatVector.fromArray(F, xp, c), e0);
      o0 = odd.fma(FloatVector.fromArray(F, xp, c + L), o0);
      e1 = even.fma(FloatVector.fromArray(F, xp, c + xStride), e1);
      o1 = odd.fma(FloatVector.fromArray(F, xp, c + xStride + L), o1);
      e2 = even.fma(FloatVector.fromArray(F, xp, c + 2 * xStride), e2);
      o2 = odd.fma(FloatVector.fromArray(F, xp, c + 2 * xStride + L), o2);
      e3 = even.fma(FloatVector.fromArray(F, xp, c + 3 * xStride), e3);
      o3 = odd.fma(FloatVector.fromArray(F, xp, c + 3 * xStride + L), o3);
    }
    out[t * w.outRows + w.firstRow + r] = Reductions.sum(e0.add(o0));
    out[(t + 1) * w.outRows + w.firstRow + r] = Reductions.sum(e1.add(o1));
    out[(t + 2) * w.outRows + w.firstRow + r] = Reductions.sum(e2.add(o2));
    out[(t + 3) * w.outRows + w.firstRow + r] = Reductions.sum(e3.add(o3));
  }
}
