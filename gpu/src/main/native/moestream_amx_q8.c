/*
 * Q8_0 (--weights int8) matmuls on AMX tiles (kernels "amx", io.moestream.engine.kernel.MatmulQ8Amx): the
 * activations are quantized to Q8_0 too (MatmulInput.q8Activations: per token and block of 32 columns, a float
 * scale and 32 int8 codes), and TDPBSSD multiplies up to 16 tokens (A: a token a row) by 16 weight rows of one
 * block (B: the weights as Q8Blocks stores them, 8 runs of 4 codes of 16 rows) in int32 (exact). Each block's
 * sums are added into FP32 accumulators, one a token holding its 16 rows:
 *   acc[t, r] = fma((float) intDot(r, t, block), wScale[r, block] * xScale[t, block], acc[t, r]), blocks in order.
 * The int32 sums and the conversion are exact, so this is bitwise MatmulQ8Amx.reference (MatmulQ8AmxTest), and a
 * token's result depends on its own activations only.
 *
 * Why tokens in A and weights in B: the scaling step costs one vector FMA per token and block, so one token
 * costs 1/16 of what 16 token slots did with the weights in A. A throwaway C microbenchmark (not in the
 * repository) on the 2-core AMX Xeon, 1 GiB of 512 x 1024 int8 matrices, 2 threads: 23-27 GB/s at 1-4 tokens
 * against ~18 for the weights-in-A kernel; 15 at 16 tokens.
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "moestream_amx.h"

#define ROWS 16   /* weight rows per B tile (its 16 int32 columns) */
#define TOKENS 16 /* tokens per A tile (its rows) */
#define BLOCK 32  /* int8 values per block: A tile rows of 32 bytes, B tiles of 8 runs x 16 rows x 4 */
#define GROUP_BLOCK_BYTES (BLOCK * ROWS) /* one block of a 16-row group: 512 bytes */

/* acc[t] (16 rows of token t) += (float) c[t] * (rowScales * tokenScales[t * blocks]), for t < count. */
static inline void add_block(__m512 *acc, const int32_t (*c)[ROWS], __m512 rowScales, const float *tokenScales,
    int blocks, int count) {
  for (int t = 0; t < count; t++) {
    __m512 scale = _mm512_mul_ps(rowScales, _mm512_set1_ps(tokenScales[(long) t * blocks]));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[t])), scale, acc[t]);
  }
}

/*
 * The codes this far ahead of the block being multiplied are prefetched, and their scales (an eighth as many
 * bytes) as far ahead in blocks: a group's codes follow the last group's, so one linear stream per matrix. A
 * throwaway C microbenchmark (not in the repository) of group_tokens over 2 GiB of 512 x 1024 Q8_0 matrices in a
 * shuffled order, 2 threads, AMX Xeon: 1 token 22-24 -> 26-28 GB/s, 16 tokens 13-14.6 -> 18.5-19 (4 KiB ahead:
 * 26-27, 15-18; 8 KiB: 22-27, 12-17). A prefetch changes no result.
 */
#define AHEAD_BYTES 2048

/* Blocks [k, k + n) of a group being multiplied: the codes and scales of the blocks AHEAD_BYTES of codes later. */
static inline void prefetch_ahead(const int8_t *codes, const float *scales, int k, int n) {
  long ahead = k + AHEAD_BYTES / GROUP_BLOCK_BYTES; /* the first block to prefetch */
  const char *nextCodes = (const char *) (codes + ahead * GROUP_BLOCK_BYTES);
  for (int line = 0; line < n * GROUP_BLOCK_BYTES; line += 64) {
    _mm_prefetch(nextCodes + line, _MM_HINT_T0);
  }
  const char *nextScales = (const char *) (scales + ahead * ROWS);
  for (int line = 0; line < n * ROWS * 4; line += 64) {
    _mm_prefetch(nextScales + line, _MM_HINT_T0);
  }
}

/*
 * One group of 16 weight rows (codes: its 16 * cols bytes; scales: its 16 * blocks floats) times `count` tokens
 * from xCodes (a token a row of `cols` codes; A tiles of `tileTokens` rows, padded with zero tokens) into acc.
 * Four blocks at a time, each into its own C tile (0-3), so the tile unit multiplies the next blocks while the
 * last ones are scaled and added; the blocks are still added to each accumulator in order.
 */
__attribute__((target("amx-tile,amx-int8"))) static void group_tokens(const int8_t *codes, const float *scales,
    int cols, const int8_t *xCodes, const float *xScales, int count, __m512 *acc) {
  int32_t c[4][TOKENS][ROWS] __attribute__((aligned(64)));
  int blocks = cols / BLOCK;
  for (int t = 0; t < count; t++) {
    acc[t] = _mm512_setzero_ps();
  }
  int k = 0;
  for (; k + 4 <= blocks; k += 4) {
    prefetch_ahead(codes, scales, k, 4);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, xCodes + (long) k * BLOCK, cols);
    _tile_loadd(6, codes + (long) k * GROUP_BLOCK_BYTES, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_loadd(5, xCodes + (long) (k + 1) * BLOCK, cols);
    _tile_loadd(7, codes + (long) (k + 1) * GROUP_BLOCK_BYTES, 64);
    _tile_dpbssd(1, 5, 7);
    _tile_loadd(4, xCodes + (long) (k + 2) * BLOCK, cols);
    _tile_loadd(6, codes + (long) (k + 2) * GROUP_BLOCK_BYTES, 64);
    _tile_dpbssd(2, 4, 6);
    _tile_loadd(5, xCodes + (long) (k + 3) * BLOCK, cols);
    _tile_loadd(7, codes + (long) (k + 3) * GROUP_BLOCK_BYTES, 64);
    _tile_dpbssd(3, 5, 7);
    _tile_stored(0, c[0], ROWS * 4);
    _tile_stored(1, c[1], ROWS * 4);
    _tile_stored(2, c[2], ROWS * 4);
    _tile_stored(3, c[3], ROWS * 4);
    for (int j = 0; j < 4; j++) {
      add_block(acc, c[j], _mm512_loadu_ps(scales + (long) (k + j) * ROWS), xScales + k + j, blocks, count);
    }
  }
  for (; k < blocks; k++) {
    prefetch_ahead(codes, scales, k, 1);
    _tile_zero(0);
    _tile_loadd(4, xCodes + (long) k * BLOCK, cols);
    _tile_loadd(6, codes + (long) k * GROUP_BLOCK_BYTES, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_stored(0, c[0], ROWS * 4);
    add_block(acc, c[0], _mm512_loadu_ps(scales + (long) k * ROWS), xScales + k, blocks, count);
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.amxQ8(ByteBuffer codes, ByteBuffer scales, int cols, int tokens,
 *     int rowStart, int rowEnd, byte[] xCodes, float[] xScales, float[] out, int outRows, int firstRow)
 * codes / scales: Q8Blocks' layout (groups of 16 rows, zero-padded to whole groups); xCodes / xScales:
 * MatmulInput.q8Activations, (paddedTokens, cols) codes and (paddedTokens, cols / 32) scales. Whole groups are
 * multiplied; only rows [rowStart, rowEnd) are written. False where a buffer has no address.
 */
__attribute__((target("amx-tile,amx-int8"))) JNIEXPORT jboolean JNICALL
Java_io_moestream_engine_kernel_NativeKernels_amxQ8(JNIEnv *env, jclass cls, jobject codesBuffer,
    jobject scalesBuffer, jint cols, jint tokens, jint rowStart, jint rowEnd, jbyteArray xCodesArray,
    jfloatArray xScalesArray, jfloatArray outArray, jint outRows, jint firstRow) {
  (void) cls;
  const int8_t *codes = (*env)->GetDirectBufferAddress(env, codesBuffer);
  const float *scales = (*env)->GetDirectBufferAddress(env, scalesBuffer);
  if (codes == NULL || scales == NULL || tokens <= 0 || rowEnd <= rowStart) {
    return codes != NULL && scales != NULL;
  }
  int blocks = cols / BLOCK;
  int tileTokens = tokens < TOKENS ? tokens : TOKENS; /* beyond 16 tokens the copy holds whole tiles */
  tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 4; t++) { /* C 0-3: tokens x 16 rows of int32 */
    config.rows[t] = tileTokens;
    config.colsb[t] = ROWS * 4;
  }
  for (int t = 4; t < 6; t++) { /* A 4-5: tokens x 32 codes */
    config.rows[t] = tileTokens;
    config.colsb[t] = BLOCK;
  }
  for (int t = 6; t < 8; t++) { /* B 6-7: 8 runs x 16 rows x 4 codes */
    config.rows[t] = BLOCK / 4;
    config.colsb[t] = ROWS * 4;
  }
  const int8_t *xCodes = (*env)->GetPrimitiveArrayCritical(env, xCodesArray, NULL);
  const float *xScales = (*env)->GetPrimitiveArrayCritical(env, xScalesArray, NULL);
  float *o = (*env)->GetPrimitiveArrayCritical(env, outArray, NULL);
  float *outBase = o + firstRow;
  _tile_loadconfig(&config);
  __m512 acc[TOKENS];
  for (long group = rowStart / ROWS; group * ROWS < rowEnd; group++) {
    long first = group * ROWS;
    /* the lanes of rows [rowStart, rowEnd) in this group */
    int lo = rowStart > first ? (int) (rowStart - first) : 0;
    int hi = rowEnd < first + ROWS ? (int) (rowEnd - first) : ROWS;
    __mmask16 valid = (__mmask16) (((1u << hi) - 1) & ~((1u << lo) - 1));
    for (int tg = 0; tg < tokens; tg += TOKENS) {
      int count = tokens - tg < TOKENS ? tokens - tg : TOKENS;
      group_tokens(codes + first * cols, scales + first * blocks, cols, xCodes + (long) tg * cols,
          xScales + (long) tg * blocks, count, acc);
      for (int t = 0; t < count; t++) {
        _mm512_mask_storeu_ps(outBase + (long) (tg + t) * outRows + first, valid, acc[t]);
      }
    }
  }
  _tile_release();
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, xScalesArray, (void *) xScales, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, xCodesArray, (void *) xCodes, JNI_ABORT);
  return JNI_TRUE;
}

/* Java's (int) d for 8 doubles: truncation, NaN to 0, beyond the int range saturated (cvttpd gives INT_MIN for all three). */
static inline __m256i java_double_to_int(__m512d d) {
  __m256i truncated = _mm512_cvttpd_epi32(d);
  __mmask8 nan = _mm512_cmp_pd_mask(d, d, _CMP_UNORD_Q);
  __mmask8 above = _mm512_cmp_pd_mask(d, _mm512_set1_pd(2147483647.0), _CMP_GT_OQ);
  __m512i wide = _mm512_castsi256_si512(truncated);
  wide = _mm512_mask_mov_epi32(wide, (__mmask16) above, _mm512_set1_epi32(2147483647));
  wide = _mm512_mask_mov_epi32(wide, (__mmask16) nan, _mm512_setzero_si512());
  return _mm512_castsi512_si256(wide);
}

/* Q8Blocks.roundHalfAwayFromZero of 8 floats: (int) ((double) v + copySign(0.5, v)). */
static inline __m256i round_half_away(__m256 v) {
  __m512d d = _mm512_cvtps_pd(v);
  __m512i sign = _mm512_and_si512(_mm512_castpd_si512(d), _mm512_set1_epi64((long long) 0x8000000000000000ULL));
  __m512d half = _mm512_castsi512_pd(_mm512_or_si512(sign, _mm512_castpd_si512(_mm512_set1_pd(0.5))));
  return java_double_to_int(_mm512_add_pd(d, half));
}

/*
 * io.moestream.engine.kernel.NativeKernels.quantizeQ8(float[] x, int tokens, int cols, byte[] codes, float[] scales)
 * MatmulInput.q8Activations' loop (bitwise, NaN and overflow included): per token and block of 32,
 * scale = max|x| / 127 (Math.max: a NaN wins), inverse = scale != 0 ? 1 / scale : 0,
 * code = (byte) roundHalfAwayFromZero(x * inverse); codes (tokens, cols), scales (tokens, cols / 32).
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_quantizeQ8(JNIEnv *env, jclass cls,
    jfloatArray xArray, jint tokens, jint cols, jbyteArray codesArray, jfloatArray scalesArray) {
  (void) cls;
  int blocks = cols / BLOCK;
  float *x = (*env)->GetPrimitiveArrayCritical(env, xArray, NULL);
  int8_t *codes = (*env)->GetPrimitiveArrayCritical(env, codesArray, NULL);
  float *scales = (*env)->GetPrimitiveArrayCritical(env, scalesArray, NULL);
  for (long i = 0; i < (long) tokens * blocks; i++) {
    const float *block = x + i * BLOCK;
    __m512 lo = _mm512_loadu_ps(block);
    __m512 hi = _mm512_loadu_ps(block + 16);
    float max;
    if (_mm512_cmp_ps_mask(lo, lo, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(hi, hi, _CMP_UNORD_Q)) {
      max = __builtin_nanf("");
    } else { /* no NaN: the largest |x| (all non-negative), as the Math.max loop */
      max = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
    }
    float scale = max / 127.0f;
    float inverse = scale != 0.0f ? 1.0f / scale : 0.0f;
    __m512 inv = _mm512_set1_ps(inverse);
    lo = _mm512_mul_ps(lo, inv);
    hi = _mm512_mul_ps(hi, inv);
    __m512i codesLo = _mm512_inserti64x4(_mm512_castsi256_si512(round_half_away(_mm512_castps512_ps256(lo))),
        round_half_away(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(lo), 1))), 1);
    __m512i codesHi = _mm512_inserti64x4(_mm512_castsi256_si512(round_half_away(_mm512_castps512_ps256(hi))),
        round_half_away(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(hi), 1))), 1);
    _mm_storeu_si128((__m128i *) (codes + i * BLOCK), _mm512_cvtepi32_epi8(codesLo)); /* (byte): the low 8 bits */
    _mm_storeu_si128((__m128i *) (codes + i * BLOCK + 16), _mm512_cvtepi32_epi8(codesHi));
    scales[i] = scale;
  }
  (*env)->ReleasePrimitiveArrayCritical(env, scalesArray, scales, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, codesArray, codes, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, xArray, x, JNI_ABORT);
}
