/*
 * Q8_0 (--weights int8) matmuls on AMX tiles (kernels "amx", io.moestream.engine.kernel.MatmulQ8Amx): the
 * activations are quantized to Q8_0 too (MatmulInput.q8Tiles: per token and block of 32 columns, a float
 * scale and 32 int8 codes), TDPBSSD multiplies 16 weight rows by 16 tokens of one block in int32 (exact),
 * and each block's sums are added into FP32 accumulators:
 *   acc[r, t] = fma((float) intDot(r, t, block), wScale[r, block] * xScale[t, block], acc[r, t]), blocks in order.
 * The int32 sums and the conversion are exact, so this is bitwise MatmulQ8Amx.reference (MatmulQ8AmxTest), and a
 * token's result depends on its own activations only: tokens are packed 16 to a tile (absent ones zero), rows
 * 16 to a tile (past the end of a matrix from a zeroed copy).
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moestream_amx.h"

#define ROWS 16   /* weight rows per A tile */
#define TOKENS 16 /* tokens per B tile */
#define BLOCK 32  /* int8 values per block: A tile rows of 32 bytes, B tiles of 8 rows x 16 tokens x 4 */

/* acc[m] (16 tokens of row m) += (float) c[m] * (rowScales[m * scaleStride] * tokenScales), rows in order. */
static inline void add_block(__m512 *acc, const int32_t (*c)[TOKENS], const float *rowScales, long scaleStride,
    __m512 tokenScales) {
  for (int m = 0; m < ROWS; m++) {
    __m512 scale = _mm512_mul_ps(_mm512_set1_ps(rowScales[m * scaleStride]), tokenScales);
    acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[m])), scale, acc[m]);
  }
}

/*
 * 16 weight rows (codes from `codes`, `stride` bytes apart; scales `scaleStride` floats apart) times every
 * token: out[t * outRows + row + m] for m < validRows. Four blocks at a time, each into its own C tile (0-3),
 * so the tile unit multiplies the next blocks while the last ones' sums are scaled and added: one C tile
 * reused block after block made every block wait for the previous one's store. The blocks are still added to
 * each accumulator in order.
 */
__attribute__((target("amx-tile,amx-int8"))) static void row_block(const int8_t *codes, long stride,
    const float *scales, long scaleStride, int blocks, int nextRows, const int8_t *xCodes, const float *xScales,
    int tokens, float *out, long outRows, long row, int validRows) {
  int32_t c[4][ROWS][TOKENS] __attribute__((aligned(64)));
  for (int m = 0; m < nextRows; m++) { /* the next rows' scales: a stream of their own, 4 bytes a block */
    for (int k = 0; k < blocks; k += 16) {
      _mm_prefetch((const char *) (scales + (ROWS + m) * scaleStride + k), _MM_HINT_T0);
    }
  }
  for (int g = 0; g * TOKENS < tokens; g++) {
    __m512 acc[ROWS];
    for (int m = 0; m < ROWS; m++) {
      acc[m] = _mm512_setzero_ps();
    }
    const int8_t *b = xCodes + (size_t) g * blocks * BLOCK * TOKENS;
    const float *xs = xScales + (size_t) g * blocks * TOKENS;
    int k = 0;
    for (; k + 4 <= blocks; k += 4) {
      if (g == 0) {
        for (int j = 0; j < 4; j++) {
          prefetch_rows((const char *) (codes + ROWS * stride + (long) (k + j) * BLOCK), stride, nextRows);
        }
      }
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      _tile_loadd(4, codes + (long) k * BLOCK, stride);
      _tile_loadd(6, b + (size_t) k * BLOCK * TOKENS, TOKENS * 4);
      _tile_dpbssd(0, 4, 6);
      _tile_loadd(5, codes + (long) (k + 1) * BLOCK, stride);
      _tile_loadd(7, b + (size_t) (k + 1) * BLOCK * TOKENS, TOKENS * 4);
      _tile_dpbssd(1, 5, 7);
      _tile_loadd(4, codes + (long) (k + 2) * BLOCK, stride);
      _tile_loadd(6, b + (size_t) (k + 2) * BLOCK * TOKENS, TOKENS * 4);
      _tile_dpbssd(2, 4, 6);
      _tile_loadd(5, codes + (long) (k + 3) * BLOCK, stride);
      _tile_loadd(7, b + (size_t) (k + 3) * BLOCK * TOKENS, TOKENS * 4);
      _tile_dpbssd(3, 5, 7);
      _tile_stored(0, c[0], TOKENS * 4);
      _tile_stored(1, c[1], TOKENS * 4);
      _tile_stored(2, c[2], TOKENS * 4);
      _tile_stored(3, c[3], TOKENS * 4);
      for (int j = 0; j < 4; j++) {
        add_block(acc, c[j], scales + k + j, scaleStride, _mm512_loadu_ps(xs + (size_t) (k + j) * TOKENS));
      }
    }
    for (; k < blocks; k++) {
      if (g == 0) {
        prefetch_rows((const char *) (codes + ROWS * stride + (long) k * BLOCK), stride, nextRows);
      }
      _tile_zero(0);
      _tile_loadd(4, codes + (long) k * BLOCK, stride);
      _tile_loadd(6, b + (size_t) k * BLOCK * TOKENS, TOKENS * 4);
      _tile_dpbssd(0, 4, 6);
      _tile_stored(0, c[0], TOKENS * 4);
      add_block(acc, c[0], scales + k, scaleStride, _mm512_loadu_ps(xs + (size_t) k * TOKENS));
    }
    int count = tokens - g * TOKENS < TOKENS ? tokens - g * TOKENS : TOKENS;
    float sums[ROWS][TOKENS] __attribute__((aligned(64)));
    for (int m = 0; m < ROWS; m++) {
      _mm512_store_ps(sums[m], acc[m]);
    }
    for (int n = 0; n < count; n++) {
      float *tokenOut = out + (long) (g * TOKENS + n) * outRows + row;
      for (int m = 0; m < validRows; m++) {
        tokenOut[m] = sums[m][n];
      }
    }
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.amxQ8(ByteBuffer codes, ByteBuffer scales, int cols,
 *     int tokens, int rowStart, int rowEnd, byte[] xCodes, float[] xScales, float[] out, int outRows, int firstRow)
 * codes: (rows, cols) int8; scales: (rows, cols / 32) float; xCodes / xScales: MatmulInput.q8Tiles, per group
 * of 16 tokens and block: 8 rows x 16 tokens x 4 codes, and 16 scales. False where no memory could be had for
 * the zero-padded copy of the last rows (nothing written).
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
  int tailRows = (rowEnd - rowStart) % ROWS;
  int8_t *paddedCodes = tailRows > 0 ? aligned_alloc(64, (size_t) ROWS * cols) : NULL;
  float *paddedScales = tailRows > 0 ? aligned_alloc(64, (size_t) ROWS * blocks * sizeof(float) + 64) : NULL;
  if (tailRows > 0 && (paddedCodes == NULL || paddedScales == NULL)) {
    free(paddedCodes);
    free(paddedScales);
    return JNI_FALSE;
  }
  tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 4; t++) { /* C 0-3: 16 rows x 16 int32 */
    config.rows[t] = ROWS;
    config.colsb[t] = TOKENS * 4;
  }
  for (int t = 4; t < 6; t++) { /* A 4-5: 16 rows x 32 codes */
    config.rows[t] = ROWS;
    config.colsb[t] = BLOCK;
  }
  for (int t = 6; t < 8; t++) { /* B 6-7: 8 rows x 16 tokens x 4 codes */
    config.rows[t] = BLOCK / 4;
    config.colsb[t] = TOKENS * 4;
  }
  const int8_t *xCodes = (*env)->GetPrimitiveArrayCritical(env, xCodesArray, NULL);
  const float *xScales = (*env)->GetPrimitiveArrayCritical(env, xScalesArray, NULL);
  float *o = (*env)->GetPrimitiveArrayCritical(env, outArray, NULL);
  float *outBase = o + firstRow;
  _tile_loadconfig(&config);
  long r = rowStart;
  for (; r + ROWS <= rowEnd; r += ROWS) {
    long following = rowEnd - r - ROWS;
    int nextRows = following < ROWS ? (int) following : ROWS;
    row_block(codes + r * cols, cols, scales + r * blocks, blocks, blocks, nextRows, xCodes, xScales, tokens, outBase,
        outRows, r, ROWS);
  }
  if (r < rowEnd) {
    int validRows = (int) (rowEnd - r);
    memset(paddedCodes, 0, (size_t) ROWS * cols);
    memset(paddedScales, 0, (size_t) ROWS * blocks * sizeof(float));
    memcpy(paddedCodes, codes + r * cols, (size_t) validRows * cols);
    memcpy(paddedScales, scales + r * blocks, (size_t) validRows * blocks * sizeof(float));
    row_block(paddedCodes, cols, paddedScales, blocks, blocks, 0, xCodes, xScales, tokens, outBase, outRows, r,
        validRows);
  }
  _tile_release();
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, xScalesArray, (void *) xScales, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, xCodesArray, (void *) xCodes, JNI_ABORT);
  free(paddedCodes);
  free(paddedScales);
  return JNI_TRUE;
}
