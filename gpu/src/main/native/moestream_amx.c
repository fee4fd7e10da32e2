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
 * K loop is the same for every row and token, tokens are always packed 16 to a tile (absent ones are
 * zero), rows always 16 to a tile (the rows past the end of a matrix come from a zeroed copy), and the
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

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

#define TILE_ROWS 16   /* weight rows per A tile, and C tile rows */
#define TILE_TOKENS 16 /* tokens per B tile, C tile columns */
#define TILE_K 32      /* bf16 values per A tile row: 64 bytes */
#define MAX_GROUPS 4   /* C tiles 0-3: up to 4 token groups share each A tile load */
#define TILE_A 6
#define TILE_B0 4
#define TILE_B1 5

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
 * C tiles 0..groups-1 += A (16 rows x 32 columns from `a`, rows `stride` bytes apart) . B tiles of the
 * token groups, chunk by chunk. The tile numbers of the AMX intrinsics are immediates, hence the unrolling.
 */
__attribute__((target("amx-tile,amx-bf16"))) static inline void multiply_chunk(const char *a, long stride,
    const uint32_t *b, size_t groupStride, int groups) {
  _tile_loadd(TILE_A, a, stride);
  _tile_loadd(TILE_B0, b, TILE_TOKENS * 4);
  _tile_dpbf16ps(0, TILE_A, TILE_B0);
  if (groups > 1) {
    _tile_loadd(TILE_B1, b + groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(1, TILE_A, TILE_B1);
  }
  if (groups > 2) {
    _tile_loadd(TILE_B0, b + 2 * groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(2, TILE_A, TILE_B0);
  }
  if (groups > 3) {
    _tile_loadd(TILE_B1, b + 3 * groupStride, TILE_TOKENS * 4);
    _tile_dpbf16ps(3, TILE_A, TILE_B1);
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
 * `nextRows` rows after them (same stride) are prefetched chunk by chunk.
 */
__attribute__((target("amx-tile,amx-bf16"))) static void row_block(const char *rowsAt, long stride,
    const char *lastChunk, int chunks, int nextRows, const uint32_t *packed, int tokens, int groupsAll, float *out,
    long outRows, long row, int validRows) {
  size_t groupStride = (size_t) chunks * (TILE_K / 2) * TILE_TOKENS;
  float c[TILE_ROWS][TILE_TOKENS] __attribute__((aligned(64)));
  for (int g0 = 0; g0 < groupsAll; g0 += MAX_GROUPS) {
    int groups = groupsAll - g0 < MAX_GROUPS ? groupsAll - g0 : MAX_GROUPS;
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
      multiply_chunk(a, aStride, b + (size_t) k * (TILE_K / 2) * TILE_TOKENS, groupStride, groups);
    }
    for (int g = 0; g < groups; g++) {
      store_c(g, &c[0][0]);
      int first = (g0 + g) * TILE_TOKENS;
      int count = tokens - first < TILE_TOKENS ? tokens - first : TILE_TOKENS;
      for (int n = 0; n < count; n++) { /* a token's 16 results are adjacent in out: one cache line */
        float *tokenOut = out + (long) (first + n) * outRows + row;
        for (int m = 0; m < validRows; m++) {
          tokenOut[m] = c[m][n];
        }
      }
    }
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.amxBf16(ByteBuffer weights, int cols, int tokens,
 *     int rowStart, int rowEnd, int[] bf16Tiles, float[] out, int outRows, int firstRow)
 * out[t * outRows + firstRow + r] = sum_c W[r, c] * bf16(x[t, c]) for r in [rowStart, rowEnd), every t, the
 * activations packed by MatmulInput.bf16Tiles: per group of 16 tokens and chunk of 32 columns, 16 rows (column
 * pairs) x 16 tokens of (bf16 even, bf16 odd) pairs, zero where a token or a column does not exist.
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
  int groups = (tokens + TILE_TOKENS - 1) / TILE_TOKENS;
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
  for (int t = 0; t < 7; t++) { /* C 0-3 and B 4-5: 16 x 16 fp32 / pairs; A 6: 16 rows x 32 bf16 */
    config.rows[t] = TILE_ROWS;
    config.colsb[t] = 64;
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
    row_block(rowsAt, rowBytes, lastChunk, chunks, nextRows, packed, tokens, groups, outBase, outRows, r, TILE_ROWS);
  }
  if (r < rowEnd) {
    int validRows = (int) (rowEnd - r);
    memset(tailRows, 0, (size_t) TILE_ROWS * paddedBytes);
    for (int m = 0; m < validRows; m++) {
      memcpy(tailRows + m * paddedBytes, w + (r + m) * rowBytes, (size_t) rowBytes);
    }
    row_block(tailRows, paddedBytes, NULL, chunks, 0, packed, tokens, groups, outBase, outRows, r, validRows);
  }
  _tile_release();
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, tilesArray, (void *) packed, JNI_ABORT);
  free(tailRows);
  free(lastChunk);
  return JNI_TRUE;
}
