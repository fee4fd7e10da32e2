package io.moestream.engine.kernel;

/**
 * Q8_0 matmuls ({@code --weights int8}) on AMX tiles ({@code kernels: amx}, {@code gpu/src/main/native/moestream_amx_q8.c}):
 * the activations are quantized to Q8_0 as well ({@link MatmulInput#q8Activations}), as CPU engines such as
 * llama.cpp do for q8_0 weights, so the tile unit multiplies int8 by int8 into exact int32 block sums.
 *
 * <p>Each (row, token) result is {@code sum over blocks b, in order, of fma((float) intDot_b, wScale_b * xScale_b,
 * acc)}: the int32 sums and their conversion are exact, so the native result is bitwise {@link #reference}, and
 * a token's result depends on its own activations only. Not bitwise the exact kernels ({@link MatmulQ8}, float
 * activations): the activations lose precision to their 8-bit codes ({@code eval-quality} measures what that
 * costs).
 */
final class MatmulQ8Amx {
  private static final int BLOCK = Q8Blocks.BLOCK;

  private MatmulQ8Amx() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (!w.bytes.isDirect() || !w.q8Scales.isDirect()) {
      throw new IllegalStateException(w.name() + ": kernels amx read int8 weights from direct buffers only");
    }
    MatmulInput.Q8Activations activations = x.q8Activations();
    if (!NativeKernels.amxQ8(w.bytes, w.q8Scales, w.cols(), x.numTokens, rowStart, rowEnd,
        activations.codes(), activations.scales(), out, w.outRows, w.firstRow)) {
      throw new IllegalStateException(w.name() + ": the AMX kernel found no address for its int8 buffers");
    }
  }

  /**
   * The plain twin: row {@code r} of the Q8_0 matrix {@code w} . token {@code t} of {@code x} (tokens, cols), the
   * token quantized per block of 32 as {@code quantize_row_q8_0_ref} does (scale max|x| / 127, kept as a float
   * rather than rounded to FP16, codes roundf(x * (1 / scale))), then the blocks' exact integer sums added in order with
   * {@link Math#fma}, as the native kernel does.
   */
  static float reference(Matrix w, float[] x, int t, int r) {
    int cols = w.cols();
    int blocks = cols / BLOCK;
    float acc = 0f;
    for (int b = 0; b < blocks; b++) {
      float max = 0f;
      for (int i = 0; i < BLOCK; i++) {
        max = Math.max(max, Math.abs(x[t * cols + b * BLOCK + i]));
      }
      float xScale = max / 127f;
      float inverse = xScale != 0f ? 1f / xScale : 0f;
      int dot = 0;
      for (int i = 0; i < BLOCK; i++) {
        int xCode = Q8Blocks.roundHalfAwayFromZero(x[t * cols + b * BLOCK + i] * inverse);
        int wCode = w.q8Code(r, b * BLOCK + i);
        dot += xCode * wCode;
      }
      float wScale = w.q8Scale(r, b);
      acc = Math.fma((float) dot, wScale * xScale, acc);
    }
    return acc;
  }
}
