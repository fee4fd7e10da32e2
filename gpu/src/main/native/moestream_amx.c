/*
 * BF16 matmuls on AMX tiles (kernels "amx", io.moestream.engine.kernel.MatmulBf16Amx): the activations,
 * rounded to BF16 (nearest even) and laid out as tiles by MatmulInput.bf16Tiles once per input, are multiplied
 * with the BF16 weights by TDPBF16PS, which accumulates in FP32.
 * Not bitwise the exact kernels (moestream_kernels.c): the activations lose their low 16 bits and the
 * tile unit sums its products in an order of its own; MatmulBf16AmxTest holds the results to the plain
 * twin (MatmulBf16Amx.reference) at a stated tolerance.
 *
 * Why each result depends on its own row and token only (so a token's logits do not depend on its batch):
 * every C tile element is the dot product of one weight row (A tile row) and one token (B tile column), the
 * K loop is the same for every row and token and the tile unit computes each C element on its own (a token's
 * sum is the same in a tile of 16 tokens as in a narrow one of 1-15: MatmulBf16AmxTest checks it), rows always
 * 16 to a tile (the rows past the end of a matrix come from a zeroed copy), and the
 * columns past the last full 32 are a zeroed copy too. MatmulBf16AmxTest checks it.
 *
 * Compiled with the rest of the library for AVX-512F; only the functions below use AMX (target
 * attribute), and only after amxInit has checked the CPU and asked Linux for the tile state.
 */
#include <jni.h>
#include <immintrin.h>
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "moestream_amx.h"
#include "moestream_bf16.h"

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

#define TILE_ROWS 16   /* weight rows per A tile, and C tile rows */
#define TILE_TOKENS 16 /* tokens per B tile, C tile columns */
#define TILE_K 32      /* bf16 values per A tile row: 64 bytes */
#define MAX_GROUPS 4   /* C tiles 0-3: up to 4 token groups share each A tile load */
#define TILE_A 6
#define TILE_B0 4
#define TILE_B1 5
#define TILE_NARROW 7 /* the B tile of a group of fewer than 16 tokens */

/*
 * io.moestream.engine.kernel.NativeKernels.amxInit(): null where the CPU has AMX (BF16 and INT8) and Linux granted
 * this process the tile state, else why not.
 */
JNIEXPORT jstring JNICALL Java_io_moestream_engine_kernel_NativeKernels_amxInit(JNIEnv *env, jclass cls) {
  (void) cls;
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 24)) || !(edx & (1u << 22))
      || !(edx & (1u << 25))) {
    return (*env)->NewStringUTF(env, "this CPU has no AMX tiles (cpuid leaf 7: amx-tile, amx-bf16, amx-int8)");
  }
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
    char message[160];
    snprintf(message, sizeof message, "Linux refused the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM: %s)",
        strerror(errno));
    return (*env)->NewStringUTF(env, message);
  }
  return NULL;
}

/*
 * A tile rows: 16 weight rows x 32 columns from `a` (rows `stride` bytes apart); C tiles 0..full-1 += A . the B
 * tiles of `full` whole groups of 16 tokens (`groupStride` ints apart), and C tile 3 += A . the B tile of the narrow
 * last group (fewer than 16 tokens) where `narrow` is not null. The tile numbers of the AMX intrinsics are
 * immediates, hence the unrolling.
 */
__attribute__((target("amx-tile,amx-bf16"))) static inline void multiply_chunk(const char *a, long stride,
    const uint32_t *b, size_t groupStride, int full, const uint32_t *narrow, int narrowWidth) {
  _tile_loadd(TILE_A, a, stride);
  if (full > 0) {
    _tile_loadd(TILE_B0, b, TILE_TOKENS * 4);
    _tile_dpbf16ps(0, TILE_A, TILE_B0);
  }
  if (full > 1) {
    _tile_loadd(TILE_B1, b + groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(1, TILE_A, TILE_B1);
  }
  if (full > 2) {
    _tile_loadd(TILE_B0, b + 2 * groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(2, TILE_A, TILE_B0);
  }
  if (full > 3) {
    _tile_loadd(TILE_B1, b + 3 * groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(3, TILE_A, TILE_B1);
  }
  if (narrow != NULL) {
    _tile_loadd(TILE_NARROW, narrow, narrowWidth * 4);
    _tile_dpbf16ps(3, TILE_A, TILE_NARROW);
  }
}

__attribute__((target("amx-tile,amx-bf16"))) static inline void store_c(int tileIndex, float *c) {
  switch (tileIndex) {
    case 0: _tile_stored(0, c, TILE_TOKENS * 4); break;
    case 1: _tile_stored(1, c, TILE_TOKENS * 4); break;
    case 2: _tile_stored(2, c, TILE_TOKENS * 4); break;
    default: _tile_stored(3, c, TILE_TOKENS * 4); break;
  }
}

/*
 * 16 weight rows (from `rowsAt`, `stride` bytes apart; all `chunks` chunks readable, or the last from
 * `lastChunk` when it is not null) times every token: out[t * outRows + row + m] for m < validRows. The
 * `nextRows` rows after them (same stride) are prefetched chunk by chunk. Each pass over the rows takes up to
 * 4 whole groups of 16 tokens when the tokens fill whole groups, else up to 3 and, in the last pass, the narrow group
 * (C tile 3, configured that narrow).
 */
__attribute__((target("amx-tile,amx-bf16"))) static void row_block(const char *rowsAt, long stride,
    const char *lastChunk, int chunks, int nextRows, const uint32_t *packed, int tokens, float *out,
    long outRows, long row, int validRows) {
  int fullGroups = tokens / TILE_TOKENS;
  int narrowWidth = tokens % TILE_TOKENS;
  int perPass = narrowWidth == 0 ? MAX_GROUPS : MAX_GROUPS - 1;
  size_t groupStride = (size_t) chunks * (TILE_K / 2) * TILE_TOKENS;
  const uint32_t *narrowTiles = narrowWidth == 0 ? NULL : packed + fullGroups * groupStride;
  float c[TILE_ROWS][TILE_TOKENS] __attribute__((aligned(64)));
  for (int g0 = 0; g0 < fullGroups || (g0 == 0 && narrowWidth > 0); g0 += perPass) {
    int full = fullGroups - g0 < perPass ? fullGroups - g0 : perPass;
    int withNarrow = narrowWidth > 0 && g0 + full == fullGroups;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const uint32_t *b = packed + g0 * groupStride;
    for (int k = 0; k < chunks; k++) {
      const char *a = lastChunk != NULL && k == chunks - 1 ? lastChunk : rowsAt + (long) k * TILE_K * 2;
      long aStride = lastChunk != NULL && k == chunks - 1 ? TILE_K * 2 : stride;
      if (g0 == 0) {
        prefetch_rows(rowsAt + TILE_ROWS * stride + (long) k * TILE_K * 2, stride, nextRows);
      }
      multiply_chunk(a, aStride, b + (size_t) k * (TILE_K / 2) * TILE_TOKENS, groupStride, full,
          withNarrow ? narrowTiles + (size_t) k * (TILE_K / 2) * narrowWidth : NULL, narrowWidth);
    }
    for (int g = 0; g < full + withNarrow; g++) {
      int tile = g < full ? g : 3;
      store_c(tile, &c[0][0]);
      int first = (g < full ? g0 + g : fullGroups) * TILE_TOKENS;
      int count = g < full ? TILE_TOKENS : narrowWidth;
      __m512 byToken[TILE_TOKENS];
      transpose16(&c[0][0], byToken);
      __mmask16 rowsMask = validRows == TILE_ROWS ? 0xFFFF : (__mmask16) ((1u << validRows) - 1);
      for (int n = 0; n < count; n++) { /* a token's 16 results are adjacent in out: one vector store */
        _mm512_mask_storeu_ps(out + (long) (first + n) * outRows + row, rowsMask, byToken[n]);
      }
    }
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.amxBf16(ByteBuffer weights, int cols, int tokens,
 *     int rowStart, int rowEnd, int[] bf16Tiles, float[] out, int outRows, int firstRow)
 * out[t * outRows + firstRow + r] = sum_c W[r, c] * bf16(x[t, c]) for r in [rowStart, rowEnd), every t, the
 * activations packed by MatmulInput.bf16Tiles: per group of 16 tokens (the last one 1-15 where the tokens do not
 * fill it) and chunk of 32 columns, 16 rows (column pairs) x the group's tokens of (bf16 even, bf16 odd) pairs,
 * zero where a column does not exist.
 * Returns false where memory for a zero-padded copy of the tail rows or columns could not be had (nothing written).
 */
__attribute__((target("amx-tile,amx-bf16"))) JNIEXPORT jboolean JNICALL
Java_io_moestream_engine_kernel_NativeKernels_amxBf16(JNIEnv *env, jclass cls, jobject weights, jint cols, jint tokens, jint rowStart, jint rowEnd, jintArray tilesArray, jfloatArray outArray, jint outRows, jint firstRow) {
  (void) cls;
  const char *w = (const char *) (*env)->GetDirectBufferAddress(env, weights);
  if (w == NULL || tokens <= 0 || rowEnd <= rowStart) {
    return w != NULL;
  }
  int chunks = (cols + TILE_K - 1) / TILE_K;
  long rowBytes = (long) cols * 2;
  int fullChunks = cols % TILE_K == 0;
  /* rows past the last full block, and the columns past the last full chunk, read from zero-padded copies */
  long paddedBytes = (long) chunks * TILE_K * 2;
  int tailRowCount = (rowEnd - rowStart) % TILE_ROWS;
  char *tailRows = tailRowCount > 0 ? aligned_alloc(64, (size_t) TILE_ROWS * paddedBytes) : NULL;
  char *lastChunk = fullChunks ? NULL : aligned_alloc(64, TILE_ROWS * TILE_K * 2);
  if ((tailRowCount > 0 && tailRows == NULL) || (!fullChunks && lastChunk == NULL)) {
    free(tailRows);
    free(lastChunk);
    return JNI_FALSE;
  }
  tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; t++) { /* C 0-3 and B 4-5: 16 x 16 fp32 / pairs; A 6: 16 rows x 32 bf16 */
    config.rows[t] = TILE_ROWS;
    config.colsb[t] = 64;
  }
  if (tokens % TILE_TOKENS != 0) { /* C 3 and B 7: 16 x (the narrow group's tokens) */
    config.colsb[3] = (uint16_t) (tokens % TILE_TOKENS * 4);
    config.colsb[TILE_NARROW] = (uint16_t) (tokens % TILE_TOKENS * 4);
  }
  const uint32_t *packed = (*env)->GetPrimitiveArrayCritical(env, tilesArray, NULL);
  float *o = (*env)->GetPrimitiveArrayCritical(env, outArray, NULL);
  float *outBase = o + firstRow;
  _tile_loadconfig(&config);
  long r = rowStart;
  for (; r + TILE_ROWS <= rowEnd; r += TILE_ROWS) {
    const char *rowsAt = w + r * rowBytes;
    if (!fullChunks) {
      memset(lastChunk, 0, TILE_ROWS * TILE_K * 2);
      for (int m = 0; m < TILE_ROWS; m++) {
        memcpy(lastChunk + m * TILE_K * 2, rowsAt + m * rowBytes + (long) (chunks - 1) * TILE_K * 2,
            (size_t) (cols - (chunks - 1) * TILE_K) * 2);
      }
    }
    long following = rowEnd - r - TILE_ROWS;
    int nextRows = following < TILE_ROWS ? (int) following : TILE_ROWS;
    row_block(rowsAt, rowBytes, lastChunk, chunks, nextRows, packed, tokens, outBase, outRows, r, TILE_ROWS);
  }
  if (r < rowEnd) {
    int validRows = (int) (rowEnd - r);
    memset(tailRows, 0, (size_t) TILE_ROWS * paddedBytes);
    for (int m = 0; m < validRows; m++) {
      memcpy(tailRows + m * paddedBytes, w + (r + m) * rowBytes, (size_t) rowBytes);
    }
    row_block(tailRows, paddedBytes, NULL, chunks, 0, packed, tokens, outBase, outRows, r, validRows);
  }
  _tile_release();
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, tilesArray, (void *) packed, JNI_ABORT);
  free(tailRows);
  free(lastChunk);
  return JNI_TRUE;
}

/*
 * io.moestream.engine.kernel.NativeKernels.packBf16Tiles(float[] x, int tokens, int cols, int[] tiles)
 * MatmulInput.packBf16Tiles, bitwise: per token, 32 columns at a time become 16 (even | odd << 16) pairs, stored
 * `width` ints apart (the token's group's width) from the token's base.
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_packBf16Tiles(JNIEnv *env, jclass cls,
    jfloatArray xArray, jint tokens, jint cols, jintArray tilesArray) {
  (void) cls;
  int chunks = (cols + TILE_K - 1) / TILE_K;
  float *x = (*env)->GetPrimitiveArrayCritical(env, xArray, NULL);
  uint32_t *tiles = (*env)->GetPrimitiveArrayCritical(env, tilesArray, NULL);
  uint32_t pairs[TILE_K / 2] __attribute__((aligned(64)));
  for (int t = 0; t < tokens; t++) {
    int first = t / TILE_TOKENS * TILE_TOKENS;
    int width = tokens - first < TILE_TOKENS ? tokens - first : TILE_TOKENS;
    uint32_t *base = tiles + (long) first * chunks * (TILE_K / 2) + (t - first);
    const float *row = x + (long) t * cols;
    for (int c = 0; c < cols; c += TILE_K) {
      int left = cols - c;
      _mm512_store_si512(pairs, bf16_chunk(row + c, left));
      int count = left >= TILE_K ? TILE_K / 2 : (left + 1) / 2;
      uint32_t *to = base + (long) (c / 2) * width;
      for (int p = 0; p < count; p++) {
        to[(long) p * width] = pairs[p];
      }
    }
  }
  (*env)->ReleasePrimitiveArrayCritical(env, tilesArray, tiles, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, xArray, x, JNI_ABORT);
}
