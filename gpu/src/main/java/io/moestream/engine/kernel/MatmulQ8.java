package io.moestream.engine.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for Q8_0 weights ({@code --weights int8}, {@link Q8Blocks}): L int8 codes are loaded
 * as bytes and widened to floats in registers (sign extension, then int to float: exact), so a weight
 * costs one byte of memory traffic.
 *
 * <p>Per row, each block of 32 columns is summed in a vector and folded into the row's accumulator times
 * the block's scale, the order ggml's q8_0 dot product uses (block sums, then scaled). One row x 1 or 4
 * tokens, each (row, token) sum accumulated in the same order in both tiles, so a token's result does not
 * depend on its batch. Species whose float lane count does not divide 32 (no current CPU) use the scalar
 * definition.
 */
final class MatmulQ8 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  private static final int BLOCK = Q8Blocks.BLOCK;

  private MatmulQ8() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (BLOCK % L != 0) {
      new ScalarKernels().matmul(w, x, out, rowStart, rowEnd);
      return;
    }
    int tokens = x.numTokens;
    for (int r = rowStart; r < rowEnd; r++) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, x.plain, out, r, t);
      }
      for (; t < tokens; t++) {
        out[t * w.outRows + w.firstRow + r] = row1x1(w, x.plain, r, t * w.cols());
      }
    }
  }

  /** Codes [byteOffset, byteOffset + L) as floats, before the block's scale. */
  private static FloatVector decode(Matrix w, long byteOffset) {
    return (FloatVector) VectorLoads.bytes(B, w.bytes, w.segment, byteOffset).castShape(F, 0);
  }

  /** One row . one token: (row r of W) . xs[xBase, xBase + cols). */
  private static float row1x1(Matrix w, float[] xs, int r, int xBase) {
    int cols = w.cols();
    long rowBytes = (long) r * cols;
    int scaleBase = r * (cols / BLOCK) * Float.BYTES;
    FloatVector acc = FloatVector.zero(F);
    for (int c0 = 0; c0 < cols; c0 += BLOCK) {
      FloatVector sum = FloatVector.zero(F);
      for (int j = 0; j < BLOCK; j += L) {
        sum = decode(w, rowBytes + c0 + j).fma(FloatVector.fromArray(F, xs, xBase + c0 + j), sum);
      }
      float scale = w.q8Scales.getFloat(scaleBase + (c0 / BLOCK) * Float.BYTES);
      acc = sum.fma(FloatVector.broadcast(F, scale), acc);
    }
    return Reductions.sum(acc);
  }

  /** One row . four tokens, each sum in the same order as {@link #row1x1}. */
  private static void row1x4(Matrix w, float[] xs, float[] out, int r, int t) {
    int cols = w.cols();
    long rowBytes = (long) r * cols;
    int scaleBase = r * (cols / BLOCK) * Float.BYTES;
    int x0 = t * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    for (int c0 = 0; c0 < cols; c0 += BLOCK) {
      FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
      for (int j = 0; j < BLOCK; j += L) {
        FloatVector wv = decode(w, rowBytes + c0 + j);
        int c = c0 + j;
        s0 = wv.fma(FloatVector.fromArray(F, xs, x0 + c), s0);
        s1 = wv.fma(FloatVector.fromArray(F, xs, x1 + c), s1);
        s2 = wv.fma(FloatVector.fromArray(F, xs, x2 + c), s2);
        s3 = wv.fma(FloatVector.fromArray(F, xs, x3 + c), s3);
      }
      FloatVector scale = FloatVector.broadcast(F, w.q8Scales.getFloat(scaleBase + (c0 / BLOCK) * Float.BYTES));
      a0 = s0.fma(scale, a0);
      a1 = s1.fma(scale, a1);
      a2 = s2.fma(scale, a2);
      a3 = s3.fma(scale, a3);
    }
    out[t * w.outRows + w.firstRow + r] = Reductions.sum(a0);
    out[(t + 1) * w.outRows + w.firstRow + r] = Reductions.sum(a1);
    out[(t + 2) * w.outRows + w.firstRow + r] = Reductions.sum(a2);
    out[(t + 3) * w.outRows + w.firstRow + r] = Reductions.sum(a3);
  }
}
