package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for F16 (IEEE half) weights. One int vector of weights holds 2L 16-bit values: evens in the
 * low halves, odds in the high halves, matched by {@link MatmulInput}'s paired activations.
 *
 * <p>Why this shape (measured on a 155 MB BF16 matvec, one thread): walking one weight row per inner loop
 * streams at ~20 GB/s, interleaving 2 or 4 rows at 8-10 GB/s; a branch between dtypes inside the loop
 * also costs, hence one class per 16-bit type. Tiles are one row x 1 or 4 tokens; each (row, token) sum
 * is accumulated in the same order in both, so a token's result does not depend on its batch.
 */
final class MatmulF16 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final int BLOCK = MatmulInput.PAIR_BLOCK;
  private static final float HALF_REBIAS = 0x1p112f;

  private MatmulF16() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    int rows = w.rows();
    int cols = w.cols();
    int tokens = x.numTokens;
    int vectorCols = cols / BLOCK * BLOCK;
    float[] xp = x.paired;
    for (int r = rowStart; r < rowEnd; r++) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, xp, out, r, t, rows, cols, vectorCols);
      }
      for (; t < tokens; t++) {
        out[t * rows + r] = row1x1(w, xp, r, t * cols, cols, vectorCols);
      }
    }
    if (vectorCols < cols) {
      for (int t = 0; t < tokens; t++) {
        for (int r = rowStart; r < rowEnd; r++) {
          float tail = 0;
          for (int c = vectorCols; c < cols; c++) {
            tail += w.get(r, c) * xp[t * cols + c];
          }
          out[t * rows + r] += tail;
        }
      }
    }
  }

  /** IEEE half to float: exponent+mantissa shifted into place and rebiased by 2^112 (subnormals too). */
  private static FloatVector evens(IntVector packed) {
    IntVector magnitude = packed.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
    IntVector scaled = magnitude.reinterpretAsFloats().mul(HALF_REBIAS).reinterpretAsInts();
    return scaled.or(packed.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
  }

  private static FloatVector odds(IntVector packed) {
    IntVector magnitude = packed.lanewise(VectorOperators.LSHR, 3).and(0x7FFF << 13);
    IntVector scaled = magnitude.reinterpretAsFloats().mul(HALF_REBIAS).reinterpretAsInts();
    return scaled.or(packed.and(0x80000000)).reinterpretAsFloats();
  }

  private static float row1x1(Matrix w, float[] xp, int r, int xBase, int cols, int vectorCols) {
    FloatVector evenSum = FloatVector.zero(F);
    FloatVector oddSum = evenSum;
    long rowBytes = (long) r * cols * 2;
    for (int c = 0; c < vectorCols; c += BLOCK) {
      IntVector packed = VectorLoads.ints(I, w.bytes, w.segment, rowBytes + c * 2L);
      evenSum = evens(packed).fma(FloatVector.fromArray(F, xp, xBase + c), evenSum);
      oddSum = odds(packed).fma(FloatVector.fromArray(F, xp, xBase + c + L), oddSum);
    }
    return evenSum.add(oddSum).reduceLanes(VectorOperators.ADD);
  }

  private static void row1x4(Matrix w, float[] xp, float[] out, int r, int t, int rows, int cols, int vectorCols) {
    FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
    FloatVector o0 = e0, o1 = e0, o2 = e0, o3 = e0;
    long rowBytes = (long) r * cols * 2;
    int x0 = t * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    for (int c = 0; c < vectorCols; c += BLOCK) {
      IntVector packed = VectorLoads.ints(I, w.bytes, w.segment, rowBytes + c * 2L);
      FloatVector even = evens(packed);
      FloatVector odd = odds(packed);
      e0 = even.fma(FloatVector.fromArray(F, xp, x0 + c), e0);
      o0 = odd.fma(FloatVector.fromArray(F, xp, x0 + c + L), o0);
      e1 = even.fma(FloatVector.fromArray(F, xp, x1 + c), e1);
      o1 = odd.fma(FloatVector.fromArray(F, xp, x1 + c + L), o1);
      e2 = even.fma(FloatVector.fromArray(F, xp, x2 + c), e2);
      o2 = odd.fma(FloatVector.fromArray(F, xp, x2 + c + L), o2);
      e3 = even.fma(FloatVector.fromArray(F, xp, x3 + c), e3);
      o3 = odd.fma(FloatVector.fromArray(F, xp, x3 + c + L), o3);
    }
    out[t * rows + r] = e0.add(o0).reduceLanes(VectorOperators.ADD);
    out[(t + 1) * rows + r] = e1.add(o1).reduceLanes(VectorOperators.ADD);
    out[(t + 2) * rows + r] = e2.add(o2).reduceLanes(VectorOperators.ADD);
    out[(t + 3) * rows + r] = e3.add(o3).reduceLanes(VectorOperators.ADD);
  }
}
