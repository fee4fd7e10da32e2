package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for Q8_0 weights ({@code --weights int8}, {@link Q8Blocks}): one weight row a lane. A
 * vector of L ints read from a run of {@link Q8Blocks}'s layout holds 4 consecutive codes of each of L rows;
 * shifting each code to the top of its int and back (arithmetic) sign-extends it, and int to float is exact, so
 * a weight costs one byte of memory traffic and no lane shuffle.
 *
 * <p>Per row and block of 32 columns: four partial sums, one per code position within a run (columns 4k + i
 * in k order, fused multiply-adds), added as (p0 + p1) + (p2 + p3), then folded into the row's accumulator times
 * the block's scale (ggml's q8_0 order: block sums, then scaled; four chains so the sums do not wait on one
 * another). Every (row, token) is summed by the same operations whatever the lane count, the row range and
 * the other tokens (tiles of 4 tokens, then 1), so a token's result does not depend on its batch. Species whose
 * lane count does not divide 16 use the scalar definition.
 */
final class MatmulQ8 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
  private static final int BLOCK = Q8Blocks.BLOCK;
  private static final int GROUP = Q8Blocks.GROUP_ROWS;
  private static final int RUN = Q8Blocks.RUN;
  private static final int RUN_BYTES = RUN * GROUP; // one run of a group: 4 codes of 16 rows

  private MatmulQ8() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (GROUP % L != 0) {
      new ScalarKernels().matmul(w, x, out, rowStart, rowEnd);
      return;
    }
    int tokens = x.numTokens;
    for (int r0 = rowStart - rowStart % L; r0 < rowEnd; r0 += L) {
      // lanes of rows [rowStart, rowEnd) in this slice; the rows past the matrix's end are zero codes in memory
      int lo = Math.max(rowStart - r0, 0);
      int hi = Math.min(rowEnd - r0, L);
      VectorMask<Float> valid = lo == 0 && hi == L ? null : F.indexInRange(-lo, hi - lo);
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        slice1x4(w, x.plain, out, r0, t, valid);
      }
      for (; t < tokens; t++) {
        store(slice1x1(w, x.plain, r0, t * w.cols()), out, t * w.outRows + w.firstRow + r0, valid);
      }
    }
  }

  private static void store(FloatVector sums, float[] out, int offset, VectorMask<Float> valid) {
    if (valid == null) {
      sums.intoArray(out, offset);
    } else {
      sums.intoArray(out, offset, valid);
    }
  }

  /** Byte offset of block {@code block}'s first run for the L rows from {@code r0} (a multiple of L). */
  private static long runOffset(Matrix w, int r0, int block) {
    return (long) (r0 / GROUP) * GROUP * w.cols() + (long) block * BLOCK * GROUP + (r0 % GROUP) * RUN;
  }

  /** The block's scales of the L rows from r0. */
  private static FloatVector scales(Matrix w, int r0, int block) {
    int blocks = w.cols() / BLOCK;
    long floatIndex = ((long) (r0 / GROUP) * blocks + block) * GROUP + r0 % GROUP;
    return VectorLoads.floats(F, w.q8Scales, w.q8ScaleSegment, floatIndex * Float.BYTES);
  }

  /** Code i (0-3) of each int lane's run, sign-extended, as floats. */
  private static FloatVector code(IntVector run, int i) {
    IntVector atTop = i == 3 ? run : run.lanewise(VectorOperators.LSHL, 24 - 8 * i);
    return (FloatVector) atTop.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
  }

  /** L rows from r0 . one token: xs[xBase, xBase + cols). */
  private static FloatVector slice1x1(Matrix w, float[] xs, int r0, int xBase) {
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < w.cols() / BLOCK; b++) {
      long offset = runOffset(w, r0, b);
      FloatVector p0 = FloatVector.zero(F), p1 = p0, p2 = p0, p3 = p0;
      for (int k = 0; k < BLOCK / RUN; k++) {
        IntVector run = VectorLoads.ints(I, w.bytes, w.segment, offset + (long) k * RUN_BYTES);
        int c = xBase + b * BLOCK + k * RUN;
        p0 = code(run, 0).fma(FloatVector.broadcast(F, xs[c]), p0);
        p1 = code(run, 1).fma(FloatVector.broadcast(F, xs[c + 1]), p1);
        p2 = code(run, 2).fma(FloatVector.broadcast(F, xs[c + 2]), p2);
        p3 = code(run, 3).fma(FloatVector.broadcast(F, xs[c + 3]), p3);
      }
      acc = p0.add(p1).add(p2.add(p3)).fma(scales(w, r0, b), acc);
    }
    return acc;
  }

  /** L rows from r0 . four tokens from t, each sum in the same order as {@link #slice1x1}. */
  private static void slice1x4(Matrix w, float[] xs, float[] out, int r0, int t, VectorMask<Float> valid) {
    int cols = w.cols();
    int x0 = t * cols;
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    for (int b = 0; b < cols / BLOCK; b++) {
      long offset = runOffset(w, r0, b);
      FloatVector zero = FloatVector.zero(F);
      // p{token}{code position}
      FloatVector p00 = zero, p01 = zero, p02 = zero, p03 = zero, p10 = zero, p11 = zero, p12 = zero, p13 = zero;
      FloatVector p20 = zero, p21 = zero, p22 = zero, p23 = zero, p30 = zero, p31 = zero, p32 = zero, p33 = zero;
      for (int k = 0; k < BLOCK / RUN; k++) {
        IntVector run = VectorLoads.ints(I, w.bytes, w.segment, offset + (long) k * RUN_BYTES);
        int c = x0 + b * BLOCK + k * RUN;
        FloatVector w0 = code(run, 0);
        p00 = w0.fma(FloatVector.broadcast(F, xs[c]), p00);
        p10 = w0.fma(FloatVector.broadcast(F, xs[c + cols]), p10);
        p20 = w0.fma(FloatVector.broadcast(F, xs[c + 2 * cols]), p20);
        p30 = w0.fma(FloatVector.broadcast(F, xs[c + 3 * cols]), p30);
        FloatVector w1 = code(run, 1);
        p01 = w1.fma(FloatVector.broadcast(F, xs[c + 1]), p01);
        p11 = w1.fma(FloatVector.broadcast(F, xs[c + 1 + cols]), p11);
        p21 = w1.fma(FloatVector.broadcast(F, xs[c + 1 + 2 * cols]), p21);
        p31 = w1.fma(FloatVector.broadcast(F, xs[c + 1 + 3 * cols]), p31);
        FloatVector w2 = code(run, 2);
        p02 = w2.fma(FloatVector.broadcast(F, xs[c + 2]), p02);
        p12 = w2.fma(FloatVector.broadcast(F, xs[c + 2 + cols]), p12);
        p22 = w2.fma(FloatVector.broadcast(F, xs[c + 2 + 2 * cols]), p22);
        p32 = w2.fma(FloatVector.broadcast(F, xs[c + 2 + 3 * cols]), p32);
        FloatVector w3 = code(run, 3);
        p03 = w3.fma(FloatVector.broadcast(F, xs[c + 3]), p03);
        p13 = w3.fma(FloatVector.broadcast(F, xs[c + 3 + cols]), p13);
        p23 = w3.fma(FloatVector.broadcast(F, xs[c + 3 + 2 * cols]), p23);
        p33 = w3.fma(FloatVector.broadcast(F, xs[c + 3 + 3 * cols]), p33);
      }
      FloatVector scale = scales(w, r0, b);
      a0 = p00.add(p01).add(p02.add(p03)).fma(scale, a0);
      a1 = p10.add(p11).add(p12.add(p13)).fma(scale, a1);
      a2 = p20.add(p21).add(p22.add(p23)).fma(scale, a2);
      a3 = p30.add(p31).add(p32.add(p33)).fma(scale, a3);
    }
    int base = t * w.outRows + w.firstRow + r0;
    store(a0, out, base, valid);
    store(a1, out, base + w.outRows, valid);
    store(a2, out, base + 2 * w.outRows, valid);
    store(a3, out, base + 3 * w.outRows, valid);
  }
}
