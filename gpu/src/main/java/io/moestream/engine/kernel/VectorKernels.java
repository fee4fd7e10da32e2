package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Java Vector API kernels. Matmuls read weights straight from the mapped checkpoint: 16-bit weights
 * are widened with a shift (bf16) or a rebias (f16) and never copied. Tiles of 4 rows x 4 tokens keep
 * 16 accumulators in registers so a batch of tokens reads each weight row once per step.
 */
public final class VectorKernels implements Kernels {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final int BLOCK = MatmulInput.PAIR_BLOCK;
  private static final float HALF_REBIAS = 0x1p112f;

  @Override
  public void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (x.cols != w.cols()) {
      throw new IllegalArgumentException(w.name() + ": input has " + x.cols + " columns, matrix " + w.cols());
    }
    if (w.dtype() == DType.F32) {
      MatmulF32.matmul(w, x, out, rowStart, rowEnd);
    } else {
      matmul16(w, x, out, rowStart, rowEnd, w.dtype() == DType.F16);
    }
  }

  // ---- 16-bit weights (BF16, F16) -------------------------------------------------------------

  private static void matmul16(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd, boolean half) {
    int rows = w.rows();
    int cols = w.cols();
    int tokens = x.numTokens;
    int vectorCols = cols / BLOCK * BLOCK;
    int r = rowStart;
    for (; r + 4 <= rowEnd; r += 4) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        tile4x4(w, x.paired, out, r, t, rows, cols, vectorCols, half);
      }
      for (; t < tokens; t++) {
        tile4x1(w, x.paired, out, r, t, rows, cols, vectorCols, half);
      }
    }
    for (; r < rowEnd; r++) {
      for (int t = 0; t < tokens; t++) {
        out[t * rows + r] = row1(w, x.paired, r, t * cols, cols, vectorCols, half);
      }
    }
    if (vectorCols < cols) {
      for (int t = 0; t < tokens; t++) {
        for (int rr = rowStart; rr < rowEnd; rr++) {
          float tail = 0;
          for (int c = vectorCols; c < cols; c++) {
            tail += w.get(rr, c) * x.paired[t * cols + c];
          }
          out[t * rows + rr] += tail;
        }
      }
    }
  }

  private static FloatVector evens(IntVector packed, boolean half) {
    if (half) {
      IntVector magnitude = packed.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
      IntVector scaled = magnitude.reinterpretAsFloats().mul(HALF_REBIAS).reinterpretAsInts();
      return scaled.or(packed.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
    return packed.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  private static FloatVector odds(IntVector packed, boolean half) {
    if (half) {
      IntVector magnitude = packed.lanewise(VectorOperators.LSHR, 3).and(0x7FFF << 13);
      IntVector scaled = magnitude.reinterpretAsFloats().mul(HALF_REBIAS).reinterpretAsInts();
      return scaled.or(packed.and(0x80000000)).reinterpretAsFloats();
    }
    return packed.and(0xFFFF0000).reinterpretAsFloats();
  }

  private static float row1(Matrix w, float[] xp, int r, int xBase, int cols, int vectorCols, boolean half) {
    FloatVector acc = FloatVector.zero(F);
    long rowBytes = (long) r * cols * 2;
    for (int c = 0; c < vectorCols; c += BLOCK) {
      IntVector packed = VectorLoads.ints(I, w.bytes, w.segment, rowBytes + c * 2L);
      acc = evens(packed, half).fma(FloatVector.fromArray(F, xp, xBase + c), acc);
      acc = odds(packed, half).fma(FloatVector.fromArray(F, xp, xBase + c + L), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  private static void tile4x1(Matrix w, float[] xp, float[] out, int r, int t, int rows, int cols, int vectorCols, boolean half) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    FloatVector a2 = FloatVector.zero(F);
    FloatVector a3 = FloatVector.zero(F);
    long rowBytes = (long) cols * 2;
    long base = r * rowBytes;
    int xBase = t * cols;
    for (int c = 0; c < vectorCols; c += BLOCK) {
      FloatVector xe = FloatVector.fromArray(F, xp, xBase + c);
      FloatVector xo = FloatVector.fromArray(F, xp, xBase + c + L);
      long offset = base + c * 2L;
      IntVector p0 = VectorLoads.ints(I, w.bytes, w.segment, offset);
      IntVector p1 = VectorLoads.ints(I, w.bytes, w.segment, offset + rowBytes);
      IntVector p2 = VectorLoads.ints(I, w.bytes, w.segment, offset + 2 * rowBytes);
      IntVector p3 = VectorLoads.ints(I, w.bytes, w.segment, offset + 3 * rowBytes);
      a0 = odds(p0, half).fma(xo, evens(p0, half).fma(xe, a0));
      a1 = odds(p1, half).fma(xo, evens(p1, half).fma(xe, a1));
      a2 = odds(p2, half).fma(xo, evens(p2, half).fma(xe, a2));
      a3 = odds(p3, half).fma(xo, evens(p3, half).fma(xe, a3));
    }
    int o = t * rows + r;
    out[o] = a0.reduceLanes(VectorOperators.ADD);
    out[o + 1] = a1.reduceLanes(VectorOperators.ADD);
    out[o + 2] = a2.reduceLanes(VectorOperators.ADD);
    out[o + 3] = a3.reduceLanes(VectorOperators.ADD);
  }

  private static void tile4x4(Matrix w, float[] xp, float[] out, int r, int t, int rows, int cols, int vectorCols, boolean half) {
    // a{row}{token}: the accumulation order per (row, token) is the same as in tile4x1 and row1, so a
    // token's result does not depend on which other tokens share its step.
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    long rowBytes = (long) cols * 2;
    long base = r * rowBytes;
    int x0 = t * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    for (int c = 0; c < vectorCols; c += BLOCK) {
      FloatVector e0 = FloatVector.fromArray(F, xp, x0 + c), o0 = FloatVector.fromArray(F, xp, x0 + c + L);
      FloatVector e1 = FloatVector.fromArray(F, xp, x1 + c), o1 = FloatVector.fromArray(F, xp, x1 + c + L);
      FloatVector e2 = FloatVector.fromArray(F, xp, x2 + c), o2 = FloatVector.fromArray(F, xp, x2 + c + L);
      FloatVector e3 = FloatVector.fromArray(F, xp, x3 + c), o3 = FloatVector.fromArray(F, xp, x3 + c + L);
      long offset = base + c * 2L;
      IntVector p = VectorLoads.ints(I, w.bytes, w.segment, offset);
      FloatVector we = evens(p, half), wo = odds(p, half);
      a00 = wo.fma(o0, we.fma(e0, a00));
      a01 = wo.fma(o1, we.fma(e1, a01));
      a02 = wo.fma(o2, we.fma(e2, a02));
      a03 = wo.fma(o3, we.fma(e3, a03));
      p = VectorLoads.ints(I, w.bytes, w.segment, offset + rowBytes);
      we = evens(p, half);
      wo = odds(p, half);
      a10 = wo.fma(o0, we.fma(e0, a10));
      a11 = wo.fma(o1, we.fma(e1, a11));
      a12 = wo.fma(o2, we.fma(e2, a12));
      a13 = wo.fma(o3, we.fma(e3, a13));
      p = VectorLoads.ints(I, w.bytes, w.segment, offset + 2 * rowBytes);
      we = evens(p, half);
      wo = odds(p, half);
      a20 = wo.fma(o0, we.fma(e0, a20));
      a21 = wo.fma(o1, we.fma(e1, a21));
      a22 = wo.fma(o2, we.fma(e2, a22));
      a23 = wo.fma(o3, we.fma(e3, a23));
      p = VectorLoads.ints(I, w.bytes, w.segment, offset + 3 * rowBytes);
      we = evens(p, half);
      wo = odds(p, half);
      a30 = wo.fma(o0, we.fma(e0, a30));
      a31 = wo.fma(o1, we.fma(e1, a31));
      a32 = wo.fma(o2, we.fma(e2, a32));
      a33 = wo.fma(o3, we.fma(e3, a33));
    }
    store4(out, t * rows + r, a00, a10, a20, a30);
    store4(out, (t + 1) * rows + r, a01, a11, a21, a31);
    store4(out, (t + 2) * rows + r, a02, a12, a22, a32);
    store4(out, (t + 3) * rows + r, a03, a13, a23, a33);
  }

  static void store4(float[] out, int o, FloatVector r0, FloatVector r1, FloatVector r2, FloatVector r3) {
    out[o] = r0.reduceLanes(VectorOperators.ADD);
    out[o + 1] = r1.reduceLanes(VectorOperators.ADD);
    out[o + 2] = r2.reduceLanes(VectorOperators.ADD);
    out[o + 3] = r3.reduceLanes(VectorOperators.ADD);
  }

  // ---- element-wise kernels -------------------------------------------------------------------

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    int bound = F.loopBound(n);
    for (; i < bound; i += L) {
      acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
    }
    float sum = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    int i = 0;
    int bound = F.loopBound(n);
    for (; i < bound; i += L) {
      FloatVector.fromArray(F, x, xOffset + i)
          .fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOffset + i))
          .intoArray(y, yOffset + i);
    }
    for (; i < n; i++) {
      y[yOffset + i] += alpha * x[xOffset + i];
    }
  }

  @Override
  public void rmsNorm(float[] x, int xOffset, float[] weight, float eps, float[] out, int outOffset, int n) {
    float sumSquares = dot(x, xOffset, x, xOffset, n);
    float scale = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
    int i = 0;
    int bound = F.loopBound(n);
    for (; i < bound; i += L) {
      FloatVector.fromArray(F, x, xOffset + i)
          .mul(scale)
          .mul(FloatVector.fromArray(F, weight, i))
          .intoArray(out, outOffset + i);
    }
    for (; i < n; i++) {
      out[outOffset + i] = x[xOffset + i] * scale * weight[i];
    }
  }

  @Override
  public void siluMul(float[] gate, float[] up, int offset, int n) {
    // exp is not vectorized on JDK 17 without SVML; the matmuls dominate, so keep this scalar.
    for (int i = offset; i < offset + n; i++) {
      float g = gate[i];
      gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
    }
  }
}
