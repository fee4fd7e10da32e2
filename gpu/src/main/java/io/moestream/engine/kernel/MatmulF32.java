package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for F32 weights (plain activation order). Same tile shape as {@link MatmulBf16}:
 * one weight row x 1 or 4 tokens, with the same per-(row, token) accumulation order in both.
 */
final class MatmulF32 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();

  private MatmulF32() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    int cols = w.cols();
    int tokens = x.numTokens;
    int vectorCols = cols / L * L;
    float[] xs = x.plain;
    for (int r = rowStart; r < rowEnd; r++) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, xs, out, r, t, cols, vectorCols);
      }
      for (; t < tokens; t++) {
        FloatVector sum = FloatVector.zero(F);
        long rowBytes = (long) r * cols * 4;
        for (int c = 0; c < vectorCols; c += L) {
          sum = VectorLoads.floats(F, w.bytes, w.segment, rowBytes + c * 4L)
              .fma(FloatVector.fromArray(F, xs, t * cols + c), sum);
        }
        out[t * w.outRows + w.firstRow + r] = Reductions.sum(sum);
      }
    }
    if (vectorCols < cols) {
      for (int t = 0; t < tokens; t++) {
        for (int r = rowStart; r < rowEnd; r++) {
          float tail = 0;
          for (int c = vectorCols; c < cols; c++) {
            tail += w.get(r, c) * xs[t * cols + c];
          }
          out[t * w.outRows + w.firstRow + r] += tail;
        }
      }
    }
  }

  private static void row1x4(Matrix w, float[] xs, float[] out, int r, int t, int cols, int vectorCols) {
    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
    long rowBytes = (long) r * cols * 4;
    int x0 = t * cols;
    for (int c = 0; c < vectorCols; c += L) {
      FloatVector wv = VectorLoads.floats(F, w.bytes, w.segment, rowBytes + c * 4L);
      s0 = wv.fma(FloatVector.fromArray(F, xs, x0 + c), s0);
      s1 = wv.fma(FloatVector.fromArray(F, xs, x0 + cols + c), s1);
      s2 = wv.fma(FloatVector.fromArray(F, xs, x0 + 2 * cols + c), s2);
      s3 = wv.fma(FloatVector.fromArray(F, xs, x0 + 3 * cols + c), s3);
    }
    out[t * w.outRows + w.firstRow + r] = Reductions.sum(s0);
    out[(t + 1) * w.outRows + w.firstRow + r] = Reductions.sum(s1);
    out[(t + 2) * w.outRows + w.firstRow + r] = Reductions.sum(s2);
    out[(t + 3) * w.outRows + w.firstRow + r] = Reductions.sum(s3);
  }
}
