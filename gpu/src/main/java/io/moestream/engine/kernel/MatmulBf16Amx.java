package io.moestream.engine.kernel;

import io.moestream.engine.format.Numerics;

/**
 * BF16 matmuls with BF16 activations on AMX tiles ({@code kernels: amx}, {@code gpu/src/main/native/moestream_amx.c}):
 * each activation is rounded to BF16 (nearest even) and the tile unit multiplies BF16 by BF16 with FP32
 * accumulation, as ik_llama.cpp multiplies BF16 models (it does so with AVX512_BF16 dot products, not AMX: see
 * {@link MatmulBf16Dot}). Measured on an Intel Xeon with AMX
 * (docs/BENCHMARKS.md): the LM head at batch 16 and prefill become weight streams instead of FP32 FMA
 * work.
 *
 * <p>The price: results are not bitwise those of the exact kernels ({@link MatmulBf16}), only close to
 * {@link #reference}, the plain twin ({@code MatmulBf16AmxTest} states the tolerance). What stays: a token's
 * result depends on its own activations and the row only, never on the rest of its batch or on how rows
 * are split across threads (the native code pads tokens and rows to whole tiles with zeros).
 */
final class MatmulBf16Amx {
  private MatmulBf16Amx() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (!w.bytes.isDirect()) {
      throw new IllegalStateException(w.name() + ": kernels amx read weights from native memory only (a mapped "
          + "file or a direct buffer), this one is on the Java heap");
    }
    if (!NativeKernels.amxBf16(w.bytes, w.cols(), x.numTokens, rowStart, rowEnd, x.bf16Tiles(), out,
        w.outRows, w.firstRow)) {
      throw new OutOfMemoryError(w.name() + ": no native memory for the AMX kernel's zero-padded tail rows ("
          + w.cols() + " columns)");
    }
  }

  /** {@code value} rounded to BF16 as {@link MatmulInput#bf16Tiles} rounds activations, as a float. */
  static float toBf16(float value) {
    return Numerics.bf16ToFloat(Numerics.floatToBf16(value));
  }

  /**
   * The plain twin: row {@code r} of {@code w} . token {@code t} of {@code x} (tokens, cols), activations rounded
   * to BF16, products and sum in double. Also returns, in {@code magnitude[0]}, the sum of the products' absolute
   * values, which bounds the FP32 accumulation's error.
   */
  static double reference(Matrix w, float[] x, int t, int r, double[] magnitude) {
    int cols = w.cols();
    double sum = 0;
    double abs = 0;
    for (int c = 0; c < cols; c++) {
      double product = (double) w.get(r, c) * toBf16(x[t * cols + c]);
      sum += product;
      abs += Math.abs(product);
    }
    magnitude[0] = abs;
    return sum;
  }
}
