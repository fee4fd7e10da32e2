package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Java Vector API kernels. Matmuls read weights straight from the mapped checkpoint: 16-bit weights
 * are widened with a shift (bf16) or a rebias (f16) and never copied. Tiles of 4 rows x 4 tokens keep
 * 16 accumulators in registers so a batch of tokens reads each weight row once per step.
 */
public final class VectorKernels implements Kernels {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();

  /** BF16 matmuls and attention's loops through {@link NativeKernels} (bitwise the same results). */
  private final boolean nativeKernels;
  /**
   * BF16 and Q8_0 matmuls through {@link MatmulBf16Amx} and {@link MatmulQ8Amx} (BF16 or Q8_0 activations: close
   * to, not bitwise, the exact kernels).
   */
  private final boolean amx;
  /** BF16 matmuls through {@link MatmulBf16Dot} (BF16 activations, AVX512_BF16 dot products). */
  private final boolean bf16Dot;
  /** Either of the two above: SiLU and softmax take the vectorized exp as well. */
  private final boolean roundsActivations;

  /** The pure-Java kernels. */
  public VectorKernels() {
    this(false);
  }

  /** See {@link #VectorKernels(boolean, boolean)}, without AMX. */
  public VectorKernels(boolean nativeKernels) {
    this(nativeKernels, false);
  }

  /**
   * {@code nativeKernels}: BF16 matmuls and attention's scores and weighted values run {@link NativeKernels}
   * (which loads only where the float vector has 16 lanes); {@code amx}: BF16 matmuls with BF16 activations
   * on AMX tiles instead ({@link MatmulBf16Amx}). Throws, with the reason, where either cannot run here.
   */
  public VectorKernels(boolean nativeKernels, boolean amx) {
    this(nativeKernels, amx, false);
  }

  /**
   * The native kernels with BF16 matmuls by AVX512_BF16 dot products ({@link MatmulBf16Dot}, BF16 activations);
   * Q8_0 matrices keep the exact kernel. Throws, with the reason, where the CPU or the library cannot.
   */
  public static VectorKernels avx512Bf16() {
    return new VectorKernels(true, false, true);
  }

  private VectorKernels(boolean nativeKernels, boolean amx, boolean bf16Dot) {
    if ((nativeKernels || amx || bf16Dot) && !NativeKernels.available()) {
      throw new IllegalStateException("native kernels unavailable: " + NativeKernels.unavailableReason());
    }
    if (amx && !NativeKernels.amxAvailable()) {
      throw new IllegalStateException("AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    }
    if (bf16Dot && !NativeKernels.bf16DotAvailable()) {
      throw new IllegalStateException("AVX512_BF16 kernels unavailable: " + NativeKernels.bf16DotUnavailableReason());
    }
    this.nativeKernels = nativeKernels || amx || bf16Dot;
    this.amx = amx;
    this.bf16Dot = bf16Dot;
    this.roundsActivations = amx || bf16Dot;
  }

  @Override
  public String toString() {
    return amx ? "VectorKernels, native tiles, AMX BF16/int8 matmuls"
        : bf16Dot ? "VectorKernels, native tiles, AVX512_BF16 BF16 matmuls"
        : nativeKernels ? "VectorKernels, native tiles" : "VectorKernels";
  }

  @Override
  public void scaledDots(float[] q, int qOffset, int heads, float[] keys, int[] keyOffsets, int count, int n,
      float scale, float[] out) {
    if (nativeKernels) {
      NativeKernels.scaledDots(q, qOffset, heads, keys, keyOffsets, count, n, scale, out);
    } else {
      Kernels.super.scaledDots(q, qOffset, heads, keys, keyOffsets, count, n, scale, out);
    }
  }

  @Override
  public void weightedSum(float[] weights, int heads, float[] values, int[] valueOffsets, int count, float[] y,
      int yOffset, int n) {
    if (nativeKernels) {
      NativeKernels.weightedSum(weights, heads, values, valueOffsets, count, y, yOffset, n);
    } else {
      Kernels.super.weightedSum(weights, heads, values, valueOffsets, count, y, yOffset, n);
    }
  }

  @Override
  public void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    matmul(w, x, out, rowStart, rowEnd, roundsActivations);
  }

  /**
   * The router's logits with float activations even on {@code amx} and {@code avx512bf16}: see
   * {@link Kernels#routerMatmul}.
   */
  @Override
  public void routerMatmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    matmul(w, x, out, rowStart, rowEnd, false);
  }

  /**
   * {@code rounded}: BF16 matrices (and Q8_0 ones on AMX) through the kernels that round or quantize the
   * activations.
   */
  private void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd, boolean rounded) {
    if (x.cols != w.cols()) {
      throw new IllegalArgumentException(w.name() + ": input has " + x.cols + " columns, matrix " + w.cols());
    }
    if (w.parts != null) {
      Matrix.forEachPart(w, rowStart, rowEnd, (part, start, end) -> matmul(part, x, out, start, end, rounded));
      return;
    }
    if (w.transposed) {
      MatmulTransposed.matmul(w, x, out, rowStart, rowEnd);
      return;
    }
    switch (w.dtype()) {
      case MXFP4 -> MatmulMxfp4.matmul(w, x, out, rowStart, rowEnd);
      case F32 -> MatmulF32.matmul(w, x, out, rowStart, rowEnd);
      case BF16 -> {
        if (rounded && amx) {
          MatmulBf16Amx.matmul(w, x, out, rowStart, rowEnd);
        } else if (rounded && bf16Dot) {
          MatmulBf16Dot.matmul(w, x, out, rowStart, rowEnd);
        } else {
          MatmulBf16.matmul(w, x, out, rowStart, rowEnd, nativeKernels);
        }
      }
      case F16 -> MatmulF16.matmul(w, x, out, rowStart, rowEnd);
      case F8_E4M3 -> MatmulFp8.matmul(w, x, out, rowStart, rowEnd);
      case Q8_0 -> {
        if (rounded && amx) {
          MatmulQ8Amx.matmul(w, x, out, rowStart, rowEnd);
        } else {
          MatmulQ8.matmul(w, x, out, rowStart, rowEnd);
        }
      }
      default -> throw new IllegalArgumentException(w.name() + ": no matmul for " + w.dtype());
    }
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
    float sum = Reductions.sum(acc);
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

  /**
   * {@link Kernels#axpyRows} with y held in registers, four vectors at a time, across the rows: each element sees the
   * same fused multiply-adds in the same order as the loop of {@link #axpy} calls, without loading and storing y
   * once per row.
   */
  @Override
  public void axpyRows(float[] alphas, int alphaOffset, float[] rows, int rowsOffset, int count, float[] y,
      int yOffset, int n) {
    int bound = F.loopBound(n);
    int c = 0;
    for (; c + 4 * L <= bound; c += 4 * L) {
      FloatVector y0 = FloatVector.fromArray(F, y, yOffset + c);
      FloatVector y1 = FloatVector.fromArray(F, y, yOffset + c + L);
      FloatVector y2 = FloatVector.fromArray(F, y, yOffset + c + 2 * L);
      FloatVector y3 = FloatVector.fromArray(F, y, yOffset + c + 3 * L);
      for (int i = 0; i < count; i++) {
        FloatVector alpha = FloatVector.broadcast(F, alphas[alphaOffset + i]);
        int row = rowsOffset + i * n + c;
        y0 = FloatVector.fromArray(F, rows, row).fma(alpha, y0);
        y1 = FloatVector.fromArray(F, rows, row + L).fma(alpha, y1);
        y2 = FloatVector.fromArray(F, rows, row + 2 * L).fma(alpha, y2);
        y3 = FloatVector.fromArray(F, rows, row + 3 * L).fma(alpha, y3);
      }
      y0.intoArray(y, yOffset + c);
      y1.intoArray(y, yOffset + c + L);
      y2.intoArray(y, yOffset + c + 2 * L);
      y3.intoArray(y, yOffset + c + 3 * L);
    }
    for (; c < bound; c += L) {
      FloatVector acc = FloatVector.fromArray(F, y, yOffset + c);
      for (int i = 0; i < count; i++) {
        acc = FloatVector.fromArray(F, rows, rowsOffset + i * n + c).fma(FloatVector.broadcast(F, alphas[alphaOffset + i]),
            acc);
      }
      acc.intoArray(y, yOffset + c);
    }
    for (; c < n; c++) { // axpy's scalar tail: a multiply and an add, not fused
      float acc = y[yOffset + c];
      for (int i = 0; i < count; i++) {
        acc += alphas[alphaOffset + i] * rows[rowsOffset + i * n + c];
      }
      y[yOffset + c] = acc;
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
  public void softmax(float[] x, int offset, int n, float sink, boolean hasSink) {
    if (roundsActivations) {
      NativeKernels.softmax(x, offset, n, sink, hasSink);
    } else {
      Kernels.super.softmax(x, offset, n, sink, hasSink);
    }
  }

  @Override
  public void siluMul(float[] gate, float[] up, int offset, int n) {
    if (roundsActivations) { // the exact kernels keep Math.exp, one value at a time
      NativeKernels.siluMul(gate, up, offset, n);
      return;
    }
    // exp is not vectorized on JDK 17 without SVML; the matmuls dominate, so keep this scalar.
    for (int i = offset; i < offset + n; i++) {
      float g = gate[i];
      gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
    }
  }
}
