package io.moestream.engine.kernel;

/**
 * BF16 matmuls with BF16 activations by AVX512_BF16 dot products ({@code kernels: avx512bf16},
 * {@code gpu/src/main/native/moestream_dpbf16.c}), for CPUs that have AVX512_BF16 but no AMX tiles (AMD Zen 4 and 5,
 * Intel Cooper Lake; AMX CPUs run it too): each activation is rounded to BF16 (nearest even, as
 * {@link MatmulBf16Amx} rounds them) and {@code VDPBF16PS} multiplies 32 weights by 32 activations into 16 FP32
 * sums, as ik_llama.cpp does for BF16 models on such CPUs. Batch 16+ and prefill stop being FP32 FMA work.
 *
 * <p>The price is that of {@link MatmulBf16Amx}: results close to {@link MatmulBf16Amx#reference} (the plain twin,
 * {@code MatmulBf16DotTest} states the tolerance), not bitwise the exact kernels, and not bitwise the AMX kernel
 * either (another order of sums). What stays: a token's result depends on its own activations and the row only,
 * never on the rest of its batch or on how rows are split across threads.
 */
final class MatmulBf16Dot {
  private MatmulBf16Dot() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (!w.bytes.isDirect()) {
      throw new IllegalStateException(w.name() + ": kernels avx512bf16 read weights from native memory only (a "
          + "mapped file or a direct buffer), this one is on the Java heap");
    }
    NativeKernels.dotBf16(w.bytes, w.cols(), x.numTokens, rowStart, rowEnd, x.bf16Rows(), out, w.outRows,
        w.firstRow);
  }
}
