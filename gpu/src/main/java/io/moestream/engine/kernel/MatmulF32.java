package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The Vector API matmul for F32 weights (plain activation order): 4 rows x 1 or 4 tokens per tile. */
final class MatmulF32 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();

  private MatmulF32() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    int rows = w.rows();
    int cols = w.cols();
    int tokens = x.numTokens;
    int vectorCols = cols / L * L;
    int r = rowStart;
    for (; r + 4 <= rowEnd; r += 4) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        tile4x4(w, x.plain, out, r, t, rows, cols, vectorCols);
      }
      for (; t < tokens; t++) {
        tile4x1(w, x.plain, out, r, t, rows, cols, vectorCols);
      }
    }
    for (; r < rowEnd; r++) {
      for (int t = 0; t < tokens; t++) {
        FloatVector acc = FloatVector.zero(F);
        long rowBytes = (long) r * cols * 4;
        for (int c = 0; c < vectorCols; c += L) {
          acc = VectorLoads.floats(F, w.bytes, w.segment, rowBytes + c * 4L)
              .fma(FloatVector.fromArray(F, x.plain, t * cols + c), acc);
        }
        out[t * rows + r] = acc.reduceLanes(VectorOperators.ADD);
      }
    }
    if (vectorCols < cols) {
      for (int t = 0; t < tokens; t++) {
        for (int rr = rowStart; rr < rowEnd; rr++) {
          float tail = 0;
          for (int c = vectorCols; c < cols; c++) {
            tail += w.get(rr, c) * x.plain[t * cols + c];
          }
          out[t * rows + rr] += tail;
        }
      }
    }
  }

  private static void tile4x1(Matrix w, float[] xs, float[] out, int r, int t, int rows, int cols, int vectorCols) {
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    long rowBytes = (long) cols * 4;
    long base = r * rowBytes;
    int xBase = t * cols;
    for (int c = 0; c < vectorCols; c += L) {
      FloatVector xv = FloatVector.fromArray(F, xs, xBase + c);
      long offset = base + c * 4L;
      a0 = VectorLoads.floats(F, w.bytes, w.segment, offset).fma(xv, a0);
      a1 = VectorLoads.floats(F, w.bytes, w.segment, offset + rowBytes).fma(xv, a1);
      a2 = VectorLoads.floats(F, w.bytes, w.segment, offset + 2 * rowBytes).fma(xv, a2);
      a3 = VectorLoads.floats(F, w.bytes, w.segment, offset + 3 * rowBytes).fma(xv, a3);
    }
    VectorKernels.store4(out, t * rows + r, a0, a1, a2, a3);
  }

  private static void tile4x4(Matrix w, float[] xs, float[] out, int r, int t, int rows, int cols, int vectorCols) {
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    long rowBytes = (long) cols * 4;
    long base = r * rowBytes;
    int x0 = t * cols;
    for (int c = 0; c < vectorCols; c += L) {
      FloatVector v0 = FloatVector.fromArray(F, xs, x0 + c);
      FloatVector v1 = FloatVector.fromArray(F, xs, x0 + cols + c);
      FloatVector v2 = FloatVector.fromArray(F, xs, x0 + 2 * cols + c);
      FloatVector v3 = FloatVector.fromArray(F, xs, x0 + 3 * cols + c);
      long offset = base + c * 4L;
      FloatVector wv = VectorLoads.floats(F, w.bytes, w.segment, offset);
      a00 = wv.fma(v0, a00);
      a01 = wv.fma(v1, a01);
      a02 = wv.fma(v2, a02);
      a03 = wv.fma(v3, a03);
      wv = VectorLoads.floats(F, w.bytes, w.segment, offset + rowBytes);
      a10 = wv.fma(v0, a10);
      a11 = wv.fma(v1, a11);
      a12 = wv.fma(v2, a12);
      a13 = wv.fma(v3, a13);
      wv = VectorLoads.floats(F, w.bytes, w.segment, offset + 2 * rowBytes);
      a20 = wv.fma(v0, a20);
      a21 = wv.fma(v1, a21);
      a22 = wv.fma(v2, a22);
      a23 = wv.fma(v3, a23);
      wv = VectorLoads.floats(F, w.bytes, w.segment, offset + 3 * rowBytes);
      a30 = wv.fma(v0, a30);
      a31 = wv.fma(v1, a31);
      a32 = wv.fma(v2, a32);
      a33 = wv.fma(v3, a33);
    }
    VectorKernels.store4(out, t * rows + r, a00, a10, a20, a30);
    VectorKernels.store4(out, (t + 1) * rows + r, a01, a11, a21, a31);
    VectorKernels.store4(out, (t + 2) * rows + r, a02, a12, a22, a32);
    VectorKernels.store4(out, (t + 3) * rows + r, a03, a13, a23, a33);
  }
}
