package io.moestream.engine.kernel;

/**
 * The CPU kernels of the forward pass. Two implementations: {@link ScalarKernels}, the plain reference,
 * and {@link VectorKernels}, the Java Vector API version; tests hold the second to the first.
 *
 * <p>All kernels are single-threaded and reentrant: callers split work (rows, experts, heads) across
 * threads and own every buffer passed in.
 */
public interface Kernels {

  /**
   * {@code out[t * w.rows() + r] = sum_c W[r, c] * x[t, c]} for rows {@code r} in [rowStart, rowEnd)
   * and every token t: W (rows, cols) @ x (numTokens, cols) -> out (numTokens, rows).
   */
  void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd);

  /**
   * {@link #matmul} for a router: its logits pick experts, a discrete choice that a rounded activation can flip,
   * so kernels that round activations ({@code amx}) run the exact matmul here. The router is a small matrix
   * (experts x hidden), so this costs nothing measurable.
   */
  default void routerMatmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    matmul(w, x, out, rowStart, rowEnd);
  }

  /** a[aOffset..+n) . b[bOffset..+n). */
  float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

  /** y[yOffset..+n) += alpha * x[xOffset..+n). */
  void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n);

  /**
   * {@code count} axpys into one y, in order: {@code axpy(alphas[alphaOffset + i], rows, rowsOffset + i * n, y,
   * yOffset, n)} for i in [0, count) (a matrix's rows weighted and summed: latent attention's absorbed keys).
   * Overrides must give the same bits as this loop.
   */
  default void axpyRows(float[] alphas, int alphaOffset, float[] rows, int rowsOffset, int count, float[] y,
      int yOffset, int n) {
    for (int i = 0; i < count; i++) {
      axpy(alphas[alphaOffset + i], rows, rowsOffset + i * n, y, yOffset, n);
    }
  }

  /**
   * Attention's scores for {@code heads} query heads that share their keys (one KV head's group), head h's query
   * at {@code qOffset + h * n}: {@code out[h * count + j] = dot(q, qOffset + h * n, keys, keyOffsets[j], n) *
   * scale} for j in [0, count). Overrides must give the same bits as this loop.
   */
  default void scaledDots(float[] q, int qOffset, int heads, float[] keys, int[] keyOffsets, int count, int n,
      float scale, float[] out) {
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < count; j++) {
        out[h * count + j] = dot(q, qOffset + h * n, keys, keyOffsets[j], n) * scale;
      }
    }
  }

  /**
   * Attention's weighted values for {@code heads} heads sharing their values: {@code axpy(weights[h * count + j],
   * values, valueOffsets[j], y, yOffset + h * n, n)} for j in [0, count), in order, each head. Overrides must
   * give the same bits as this loop.
   */
  default void weightedSum(float[] weights, int heads, float[] values, int[] valueOffsets, int count, float[] y,
      int yOffset, int n) {
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < count; j++) {
        axpy(weights[h * count + j], values, valueOffsets[j], y, yOffset + h * n, n);
      }
    }
  }

  /**
   * x[offset..+n) = e^(x - max) / sum in place, max and sum taking in {@code sink}'s logit too when
   * {@code hasSink} (gpt-oss attention sinks take their share of the mass).
   */
  default void softmax(float[] x, int offset, int n, float sink, boolean hasSink) {
    float max = hasSink ? sink : Float.NEGATIVE_INFINITY;
    for (int i = offset; i < offset + n; i++) {
      max = Math.max(max, x[i]);
    }
    float sum = hasSink ? (float) Math.exp(sink - max) : 0;
    for (int i = offset; i < offset + n; i++) {
      x[i] = (float) Math.exp(x[i] - max);
      sum += x[i];
    }
    float inv = 1f / sum;
    for (int i = offset; i < offset + n; i++) {
      x[i] *= inv;
    }
  }

  /** out = x / sqrt(mean(x^2) + eps) * weight, over n values. {@code out} may be {@code x}. */
  void rmsNorm(float[] x, int xOffset, float[] weight, float eps, float[] out, int outOffset, int n);

  /** gate[i] = silu(gate[i]) * up[i] for i in [offset, offset + n). */
  void siluMul(float[] gate, float[] up, int offset, int n);

  /**
   * Row ranges of a matmul handed to threads start at multiples of this: the AMX kernels' 16-row tiles and int8's
   * 16-row groups are then never split (a split one is multiplied by both threads, or copied to pad it).
   */
  int ROW_ALIGN = 16;

  /** The default: exact results, native where the library loads. */
  String AUTO = "auto";

  /** The kernels that round (BF16) or quantize (Q8_0) activations: results close to, not bitwise, the others'. */
  String AMX = "amx";

  /** BF16 activations by AVX512_BF16 dot products, for CPUs without AMX: close to, not bitwise, the others'. */
  String AVX512_BF16 = "avx512bf16";

  /** The names {@link #named} knows, the default first. */
  java.util.List<String> NAMES = java.util.List.of(AUTO, "native", AMX, AVX512_BF16, "vector", "scalar");

  /** Whether kernels {@code name} round or quantize activations (their results are not bitwise the exact ones). */
  static boolean roundsActivations(String name) {
    return AMX.equals(name) || AVX512_BF16.equals(name);
  }

  /**
   * {@code auto}: the Vector API kernels with {@link NativeKernels}' BF16 matmuls and attention loops where
   * that library loads (bitwise the same results, faster), the Vector API alone elsewhere; {@code native}:
   * the same, but an error naming the reason where the library does not load; {@code amx}: as {@code native},
   * but BF16 and Q8_0 matmuls round or quantize the activations and run on AMX tiles (faster at batch 16+ and
   * prefill, results close to but not bitwise those of the others; an error where the CPU has no AMX);
   * {@code avx512bf16}: as {@code native}, but BF16 matmuls round the activations to BF16 and multiply by
   * AVX512_BF16 dot products (for CPUs with that and no AMX; Q8_0 matrices stay exact; an error where the CPU lacks
   * it); {@code vector}: the Vector API alone; {@code scalar}: the plain reference.
   */
  static Kernels named(String name) {
    return switch (name) {
      case AUTO -> new VectorKernels(NativeKernels.available());
      case "native" -> new VectorKernels(true);
      case AMX -> new VectorKernels(true, true);
      case AVX512_BF16 -> VectorKernels.avx512Bf16();
      case "vector" -> new VectorKernels();
      case "scalar" -> new ScalarKernels();
      default -> throw new IllegalArgumentException("kernels '" + name + "' unknown " + NAMES);
    };
  }
}
