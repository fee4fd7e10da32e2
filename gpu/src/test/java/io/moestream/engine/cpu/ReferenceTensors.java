package io.moestream.engine.cpu;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.TensorData;

/**
 * What the float64 reference forward passes share: checkpoint tensors read element by element (an
 * F8_E4M3 weight times its {@code weight_scale_inv} block scale), the matrix-vector product of the
 * nn.Linear layout, RMSNorm, top-k and in-place addition. Nothing of the engine's loader or kernels.
 */
final class ReferenceTensors {
  private final Checkpoint checkpoint;
  /** (rows, cols) of an FP8 weight's scale blocks; null when the model has no FP8 weights. */
  private final int[] fp8Block;
  private final double eps;

  ReferenceTensors(Checkpoint checkpoint, int[] fp8Block, double eps) {
    this.checkpoint = checkpoint;
    this.fp8Block = fp8Block;
    this.eps = eps;
  }

  /** y = W x for W (rows, cols) as stored (nn.Linear layout). */
  double[] linear(String name, int rows, int cols, double[] x) {
    TensorData w = checkpoint.require(name);
    if (w.dim(0) != rows || w.dim(1) != cols) {
      throw new IllegalStateException(name + " is not (" + rows + ", " + cols + ")");
    }
    double[] y = new double[rows];
    for (int r = 0; r < rows; r++) {
      double[] weights = row(name, r, cols);
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += weights[c] * x[c];
      }
      y[r] = sum;
    }
    return y;
  }

  /** Row {@code row} of W; an F8_E4M3 weight times its {@code weight_scale_inv} block scales. */
  double[] row(String name, int row, int cols) {
    TensorData w = checkpoint.require(name);
    TensorData scales = w.dtype() == DType.F8_E4M3 ? checkpoint.require(name + "_scale_inv") : null;
    double[] out = new double[cols];
    for (int c = 0; c < cols; c++) {
      out[c] = w.getFloat((long) row * cols + c);
      if (scales != null) {
        out[c] *= scales.getFloat((long) (row / fp8Block[0]) * scales.dim(1) + c / fp8Block[1]);
      }
    }
    return out;
  }

  double[] vector(String name, int n) {
    if (checkpoint.require(name).numElements() != n) {
      throw new IllegalStateException(name + " does not hold " + n + " values");
    }
    return row(name, 0, n);
  }

  /** x / sqrt(mean(x^2) + eps) * weight over x[offset..offset+n). */
  double[] rmsNorm(double[] x, int offset, int n, double[] weight) {
    double sumSquares = 0;
    for (int i = 0; i < n; i++) {
      sumSquares += x[offset + i] * x[offset + i];
    }
    double inv = 1.0 / Math.sqrt(sumSquares / n + eps);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = x[offset + i] * inv * weight[i];
    }
    return out;
  }

  double[] rmsNorm(double[] x, double[] weight) {
    return rmsNorm(x, 0, x.length, weight);
  }

  /** Indices of the k largest values, largest first; ties to the lower index. */
  static int[] topk(double[] values, int k) {
    int[] out = new int[k];
    boolean[] taken = new boolean[values.length];
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int i = 0; i < values.length; i++) {
        if (!taken[i] && (best < 0 || values[i] > values[best])) {
          best = i;
        }
      }
      taken[best] = true;
      out[j] = best;
    }
    return out;
  }

  static void add(double[] target, double[] addend) {
    for (int i = 0; i < target.length; i++) {
      target[i] += addend[i];
    }
  }
}
