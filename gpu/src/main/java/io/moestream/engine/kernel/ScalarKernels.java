package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;

/**
 * Plain Java reference of every kernel: the definition {@link VectorKernels} is tested against. Matmuls
 * read every dtype through {@link Matrix#get}, the definition of its values (for Q8_0, int8 code times the
 * block's scale, exact in float), and sum in double.
 */
public final class ScalarKernels implements Kernels {
  @Override
  public String toString() {
    return "ScalarKernels";
  }

  @Override
  public void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (w.parts != null) {
      Matrix.forEachPart(w, rowStart, rowEnd, (part, start, end) -> matmul(part, x, out, start, end));
      return;
    }
    int cols = w.cols();
    boolean mxfp4 = w.dtype() == DType.MXFP4; // weights in double: exact where they exceed float
    for (int t = 0; t < x.numTokens; t++) {
      for (int r = rowStart; r < rowEnd; r++) {
        double sum = 0;
        for (int c = 0; c < cols; c++) {
          sum += (mxfp4 ? w.mxfp4Value(r, c) : (double) w.get(r, c)) * x.plain[t * cols + c];
        }
        out[t * w.outRows + w.firstRow + r] = (float) sum;
      }
    }
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += (double) a[aOffset + i] * b[bOffset + i];
    }
    return (float) sum;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    for (int i = 0; i < n; i++) {
      y[yOffset + i] += alpha * x[xOffset + i];
    }
  }

  @Override
  public void rmsNorm(float[] x, int xOffset, float[] weight, float eps, float[] out, int outOffset, int n) {
    double sumSquares = 0;
    for (int i = 0; i < n; i++) {
      sumSquares += (double) x[xOffset + i] * x[xOffset + i];
    }
    float scale = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
    for (int i = 0; i < n; i++) {
      out[outOffset + i] = x[xOffset + i] * scale * weight[i];
    }
  }

  @Override
  public void siluMul(float[] gate, float[] up, int offset, int n) {
    for (int i = offset; i < offset + n; i++) {
      float g = gate[i];
      gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
    }
  }
}
