/*
 * BF16 matmuls with BF16 activations by AVX512_BF16 dot products (kernels "avx512bf16",
 * io.moestream.engine.kernel.MatmulBf16Dot), for CPUs that multiply BF16 pairs but have no AMX tiles: AMD Zen 4
 * and 5, Intel Cooper Lake; it runs on AMX CPUs as well. VDPBF16PS multiplies 32 BF16 weights by 32 BF16
 * activations into 16 FP32 lanes (each lane adds the products of one even/odd column pair), twice the work per
 * instruction of the exact kernels' widened FP32 FMAs, without their shifts and masks. This is what ik_llama.cpp
 * does for BF16 models on such CPUs.
 *
 * Not bitwise the exact kernels (the activations lose their low 16 bits, the pairs are summed by the instruction):
 * MatmulBf16DotTest holds each result to the plain twin (MatmulBf16Amx.reference: BF16 activations, double sums)
 * within the bound of any FP32 summation order. Each (row, token) sum is accumulated in its own register, chunk
 * by chunk in column order, and reduced by the fixed butterfly of moestream_butterfly.h, whatever tile it was
 * computed in: a token's result depends on its own activations and the row only, never on its batch or on the
 * row split across threads.
 *
 * The functions below the target pragma run only after bf16DotInit has found AVX512_BF16 and AVX512BW.
 */
#include <jni.h>
#include <immintrin.h>
#include <cpuid.h>
#include <stdint.h>

#include "moestream_bf16.h"
#include "moestream_butterfly.h"

#define DOT_K 32         /* bf16 values per chunk: one 64-byte load */
#define DOT_ROWS 4       /* weight rows per tile */
#define DOT_TOKENS 4     /* tokens per tile: 16 accumulators (one butterfly_sums16), 4 weight vectors, 1 activation */
#define DOT_PREFETCH_BYTES 8192 /* each row's stream prefetched into L2 this far ahead, as the exact kernels do */
/* Tokens whose activations are kept close (L2) while every row block of a range multiplies them: a larger batch
 * goes through the rows once per block of this many activation bytes, not once per row block. */
#define DOT_TOKEN_BLOCK_BYTES (256 * 1024)

/*
 * io.moestream.engine.kernel.NativeKernels.bf16DotInit(): null where the CPU has AVX512_BF16 and AVX512BW, else
 * why not.
 */
JNIEXPORT jstring JNICALL Java_io_moestream_engine_kernel_NativeKernels_bf16DotInit(JNIEnv *env, jclass cls) {
  (void) cls;
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(ebx & (1u << 30))) {
    return (*env)->NewStringUTF(env, "this CPU has no AVX512BW (cpuid leaf 7)");
  }
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax & (1u << 5))) {
    return (*env)->NewStringUTF(env, "this CPU has no AVX512_BF16 (cpuid leaf 7, subleaf 1)");
  }
  return NULL;
}

#pragma GCC push_options
#pragma GCC target("avx512bw,avx512bf16")

/* acc[r][t] += row r's chunk i . token t's chunk i; the weights read under `mask` where `masked`. */
static inline __attribute__((always_inline)) void dot_chunk(__m512 acc[DOT_ROWS][DOT_TOKENS], const char *rowsAt,
    long rowBytes, int nrows, const uint32_t *x, long xStride, int i, __mmask32 mask, int masked, int ntokens) {
  __m512bh w[DOT_ROWS];
  for (int r = 0; r < nrows; r++) {
    const char *at = rowsAt + r * rowBytes + (long) i * DOT_K * 2;
    _mm_prefetch(at + DOT_PREFETCH_BYTES, _MM_HINT_T1);
    w[r] = (__m512bh) (masked ? _mm512_maskz_loadu_epi16(mask, at) : _mm512_loadu_si512(at));
  }
  for (int t = 0; t < ntokens; t++) {
    __m512bh xv = (__m512bh) _mm512_loadu_si512(x + t * xStride + (long) i * (DOT_K / 2));
    for (int r = 0; r < nrows; r++) {
      acc[r][t] = _mm512_dpbf16_ps(acc[r][t], w[r], xv);
    }
  }
}

/*
 * nrows rows (from rowsAt, rowBytes apart) x ntokens tokens (token t's chunk i at x + t * chunks * 16 + i * 16, in
 * uint32 pairs): out[t * outRows + row + r]. The last chunk's weights are read under lastMask (columns past the
 * row are zero, so a NaN beyond it cannot reach the sums). Inlined with constant nrows and ntokens, so the
 * accumulators stay in registers.
 */
static inline __attribute__((always_inline)) void dot_tile(const char *rowsAt, long rowBytes, int nrows,
    const uint32_t *x, int chunks, __mmask32 lastMask, int ntokens, float *out, long outRows, long row) {
  __m512 acc[DOT_ROWS][DOT_TOKENS];
  for (int r = 0; r < nrows; r++) {
    for (int t = 0; t < ntokens; t++) {
      acc[r][t] = _mm512_setzero_ps();
    }
  }
  long xStride = (long) chunks * (DOT_K / 2);
  /* The last chunk apart, its loads masked: a mask chosen per chunk inside the loop made gcc store every
   * accumulator to the stack at every chunk. */
  for (int i = 0; i < chunks - 1; i++) {
    dot_chunk(acc, rowsAt, rowBytes, nrows, x, xStride, i, (__mmask32) 0xFFFFFFFFu, 0, ntokens);
  }
  dot_chunk(acc, rowsAt, rowBytes, nrows, x, xStride, chunks - 1, lastMask, 1, ntokens);
  int count = nrows * ntokens;
  if (count < 6) { /* too few to pay for the shuffles of a 16-vector reduction; the same bits either way */
    for (int r = 0; r < nrows; r++) {
      for (int t = 0; t < ntokens; t++) {
        out[t * outRows + row + r] = butterfly_sum(acc[r][t]);
      }
    }
    return;
  }
  __m512 sumsOf[16];
  float sums[16];
  for (int i = 0; i < 16; i++) {
    sumsOf[i] = i < count ? acc[i / ntokens][i % ntokens] : _mm512_setzero_ps();
  }
  butterfly_sums16(sumsOf, sums);
  for (int r = 0; r < nrows; r++) {
    for (int t = 0; t < ntokens; t++) {
      out[t * outRows + row + r] = sums[r * ntokens + t];
    }
  }
}

#define DOT_TILE(R, T) dot_tile(rowsAt, rowBytes, R, x, chunks, lastMask, T, out, outRows, row)

#define DOT_TOKEN_CASES(R)          \
  switch (ntokens) {                \
    case 1: DOT_TILE(R, 1); break;  \
    case 2: DOT_TILE(R, 2); break;  \
    case 3: DOT_TILE(R, 3); break;  \
    default: DOT_TILE(R, 4); break; \
  }

/* One tile of nrows (1 to DOT_ROWS) rows at `row` and ntokens (1 to DOT_TOKENS) tokens from x, out shifted to them. */
static void dot_tile_at(const char *rowsAt, long rowBytes, int nrows, const uint32_t *x, int chunks,
    __mmask32 lastMask, int ntokens, float *out, long outRows, long row) {
  switch (nrows) {
    case 1: DOT_TOKEN_CASES(1); break;
    case 2: DOT_TOKEN_CASES(2); break;
    case 3: DOT_TOKEN_CASES(3); break;
    default: DOT_TOKEN_CASES(4); break;
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.dotBf16(ByteBuffer weights, int cols, int tokens, int rowStart,
 *     int rowEnd, int[] bf16Rows, float[] out, int outRows, int firstRow)
 * out[t * outRows + firstRow + r] = sum_c W[r, c] * bf16(x[t, c]) for r in [rowStart, rowEnd), every t, the
 * activations as MatmulInput.bf16Rows: per token, chunks of 32 columns as 16 (even | odd << 16) BF16 pairs,
 * zero past the last column. Blocks of tokens outermost (their activations stay in L2), then rows in tiles of 4
 * (read from memory once per token block, kept in L1 while every token tile of the block uses them).
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_dotBf16(JNIEnv *env, jclass cls,
    jobject weights, jint cols, jint tokens, jint rowStart, jint rowEnd, jintArray rowsArray, jfloatArray outArray,
    jint outRows, jint firstRow) {
  (void) cls;
  const char *w = (const char *) (*env)->GetDirectBufferAddress(env, weights);
  if (w == NULL || tokens <= 0 || rowEnd <= rowStart) {
    return; /* NativeKernels only passes direct buffers */
  }
  int chunks = (cols + DOT_K - 1) / DOT_K;
  long rowBytes = (long) cols * 2;
  int tail = cols - (chunks - 1) * DOT_K;
  __mmask32 lastMask = tail == DOT_K ? (__mmask32) 0xFFFFFFFFu : (__mmask32) ((1u << tail) - 1);
  long tokenBytes = (long) chunks * DOT_K * 2;
  int tokenBlock = (int) (DOT_TOKEN_BLOCK_BYTES / tokenBytes) / DOT_TOKENS * DOT_TOKENS;
  if (tokenBlock < DOT_TOKENS) {
    tokenBlock = DOT_TOKENS;
  }
  const uint32_t *packed = (*env)->GetPrimitiveArrayCritical(env, rowsArray, NULL);
  float *o = (*env)->GetPrimitiveArrayCritical(env, outArray, NULL);
  float *outBase = o + firstRow;
  long xStride = (long) chunks * (DOT_K / 2);
  for (int b0 = 0; b0 < tokens; b0 += tokenBlock) {
    int blockEnd = tokens - b0 < tokenBlock ? tokens : b0 + tokenBlock;
    for (long row = rowStart; row < rowEnd; row += DOT_ROWS) {
      int nrows = rowEnd - row < DOT_ROWS ? (int) (rowEnd - row) : DOT_ROWS;
      const char *rowsAt = w + row * rowBytes;
      for (int t0 = b0; t0 < blockEnd; t0 += DOT_TOKENS) {
        int ntokens = blockEnd - t0 < DOT_TOKENS ? blockEnd - t0 : DOT_TOKENS;
        dot_tile_at(rowsAt, rowBytes, nrows, packed + t0 * xStride, chunks, lastMask, ntokens,
            outBase + (long) t0 * outRows, outRows, row);
      }
    }
  }
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, rowsArray, (void *) packed, JNI_ABORT);
}

/*
 * io.moestream.engine.kernel.NativeKernels.packBf16Rows(float[] x, int tokens, int cols, int[] rows)
 * MatmulInput.packBf16Rows, bitwise (the rounding of to_bf16_lanes, not the conversion instruction, which flushes
 * subnormals): per token, 32 columns at a time become 16 (even | odd << 16) pairs, zero past the last column.
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_packBf16Rows(JNIEnv *env, jclass cls,
    jfloatArray xArray, jint tokens, jint cols, jintArray rowsArray) {
  (void) cls;
  int chunks = (cols + DOT_K - 1) / DOT_K;
  float *x = (*env)->GetPrimitiveArrayCritical(env, xArray, NULL);
  uint32_t *rows = (*env)->GetPrimitiveArrayCritical(env, rowsArray, NULL);
  for (int t = 0; t < tokens; t++) {
    const float *from = x + (long) t * cols;
    uint32_t *to = rows + (long) t * chunks * (DOT_K / 2);
    for (int c = 0; c < cols; c += DOT_K) {
      _mm512_storeu_si512(to + c / 2, bf16_chunk(from + c, cols - c));
    }
  }
  (*env)->ReleasePrimitiveArrayCritical(env, rowsArray, rows, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, xArray, x, JNI_ABORT);
}

#pragma GCC pop_options
