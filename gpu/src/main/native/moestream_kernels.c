/*
 * Native twin of MatmulBf16 (io.moestream.engine.kernel): the same arithmetic, in the same order, for
 * every (row, token) sum, with tiles the Java Vector API does not compile well (2 rows x up to 5
 * tokens in registers: the fastest of 1-4 rows x 1-12 tokens measured on
 * an Intel Xeon with AVX-512). Each sum is accumulated exactly as MatmulBf16.row1x1 does it:
 *   per chunk of 32 bf16 weights loaded as 16 ints: evens = int << 16, odds = int & 0xFFFF0000 (as
 *   floats), evenSum = fma(evens, x[c..c+16), evenSum), oddSum = fma(odds, x[c+16..c+32), oddSum);
 *   the first and last chunk ANDed with their masks when the row is read from an aligned start;
 *   result = butterfly sum of (evenSum + oddSum): lanes i and i^8, then ^4, ^2, ^1, lane 0.
 * so the results are bitwise those of the Java kernel (NativeKernelsTest holds them to it), and a
 * token's result does not depend on the tile, the batch or the thread that computed it.
 *
 * Built by gpu/pom.xml where gcc is installed, for AVX-512F (x86-64-v4 without the other extensions);
 * NativeKernels loads it only where the JVM's preferred float vector has 16 lanes (AVX-512 in use).
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>
#include <sys/mman.h>

#include "moestream_butterfly.h"

#define LANES 16
#define BLOCK 32 /* bf16 values per chunk: one 64-byte load */
#define MAX_ROWS 2
#define MAX_TOKENS 5
/*
 * Each weight line is prefetched into L2 this far ahead of its load: one core's own outstanding misses
 * cap a plain stream well below the memory's bandwidth. Measured on the small shape, k=8, 2 threads
 * (bench-decode, tok/s): none 30.9 (B=1) / 79.9 (B=16); L1 at 1, 2, 4, 8 KB 35-38 / 86-98; L2 at 4, 8,
 * 16 KB 39-42 / 97-101. A prefetch changes no result.
 */
#define PREFETCH_BYTES 8192

/*
 * nrows rows (first at byte `start`, then every rowBytes) x ntokens tokens (first at x, then every
 * xStride floats), `chunks` chunks each; masks (2 x 16 ints: first chunk, last chunk) or NULL.
 * Writes out[t * outRows + row + r]. Inlined with constant nrows/ntokens, so the loops unroll and the
 * accumulators stay in registers.
 */
static inline __attribute__((always_inline)) void tile(const char *weights, long start, long rowBytes, int nrows,
    const float *x, long xStride, int ntokens, int chunks, const int32_t *firstMask, const int32_t *lastMask,
    float *out, long outRows, long row) {
  __m512 even[MAX_ROWS][MAX_TOKENS];
  __m512 odd[MAX_ROWS][MAX_TOKENS];
  for (int r = 0; r < nrows; r++) {
    for (int t = 0; t < ntokens; t++) {
      even[r][t] = _mm512_setzero_ps();
      odd[r][t] = _mm512_setzero_ps();
    }
  }
  const __m512i high = _mm512_set1_epi32((int32_t) 0xFFFF0000);
  for (int i = 0; i < chunks; i++) {
    __m512 ev[MAX_ROWS];
    __m512 od[MAX_ROWS];
    for (int r = 0; r < nrows; r++) {
      const char *at = weights + start + r * rowBytes + (long) i * BLOCK * 2;
      _mm_prefetch(at + PREFETCH_BYTES, _MM_HINT_T1);
      __m512i packed = _mm512_loadu_si512(at);
      if (firstMask != NULL && (i == 0 || i == chunks - 1)) {
        packed = _mm512_and_si512(packed, _mm512_loadu_si512(i == 0 ? firstMask : lastMask));
      }
      ev[r] = _mm512_castsi512_ps(_mm512_slli_epi32(packed, 16));
      od[r] = _mm512_castsi512_ps(_mm512_and_si512(packed, high));
    }
    for (int t = 0; t < ntokens; t++) {
      const float *xc = x + t * xStride + (long) i * BLOCK;
      __m512 xe = _mm512_loadu_ps(xc);
      __m512 xo = _mm512_loadu_ps(xc + LANES);
      for (int r = 0; r < nrows; r++) {
        even[r][t] = _mm512_fmadd_ps(ev[r], xe, even[r][t]);
        odd[r][t] = _mm512_fmadd_ps(od[r], xo, odd[r][t]);
      }
    }
  }
  if (nrows * ntokens < 6) { /* too few to pay for the shuffles of a 16-vector reduction */
    for (int r = 0; r < nrows; r++) {
      for (int t = 0; t < ntokens; t++) {
        out[t * outRows + row + r] = butterfly_sum(_mm512_add_ps(even[r][t], odd[r][t]));
      }
    }
    return;
  }
  __m512 sumsOf[16];
  float sums[16];
  for (int i = 0; i < 16; i++) {
    sumsOf[i] = i < nrows * ntokens ? _mm512_add_ps(even[i / ntokens][i % ntokens], odd[i / ntokens][i % ntokens])
                                    : _mm512_setzero_ps();
  }
  butterfly_sums16(sumsOf, sums);
  for (int r = 0; r < nrows; r++) {
    for (int t = 0; t < ntokens; t++) {
      out[t * outRows + row + r] = sums[r * ntokens + t];
    }
  }
}

#define TILE(R, T) tile(weights, start, rowBytes, R, x, xStride, T, chunks, firstMask, lastMask, out, outRows, r)

/* One tile of nrows rows (up to MAX_ROWS) at row r, tokens [t0, t0 + ntokens), ntokens <= MAX_TOKENS. */
static inline __attribute__((always_inline)) void tile_at(const char *weights, long rowBytes, long rowOffset, long r,
    int nrows, const float *xAll, long xStride, int t0, int ntokens, int chunks, const int32_t *firstMask,
    const int32_t *lastMask, float *outAll, long outRows) {
  long start = r * rowBytes - rowOffset;
  const float *x = xAll + t0 * xStride;
  float *out = outAll + t0 * outRows;
  if (nrows == MAX_ROWS) {
    switch (ntokens) {
      case 1: TILE(2, 1); break;
      case 2: TILE(2, 2); break;
      case 3: TILE(2, 3); break;
      case 4: TILE(2, 4); break;
      default: TILE(2, 5); break;
    }
  } else {
    switch (ntokens) {
      case 1: TILE(1, 1); break;
      case 2: TILE(1, 2); break;
      case 3: TILE(1, 3); break;
      case 4: TILE(1, 4); break;
      default: TILE(1, 5); break;
    }
  }
}

/*
 * Rows [row, row + nrows) of one kind (same reading offset, activations and masks), every token. Rows
 * outermost: a group of rows is read from memory once and stays in L1 while every token group uses it
 * (tokens outermost streamed a large matrix such as the LM head once per token group).
 */
static void rows_of_one_kind(const char *weights, long rowBytes, long rowOffset, long row, int nrows,
    const float *xAll, long xStride, int tokens, int chunks, const int32_t *firstMask, const int32_t *lastMask,
    float *outAll, long outRows) {
  int done = 0;
  while (done < nrows) {
    int group = nrows - done >= MAX_ROWS ? MAX_ROWS : 1;
    for (int t0 = 0; t0 < tokens; t0 += MAX_TOKENS) {
      int ntokens = tokens - t0 < MAX_TOKENS ? tokens - t0 : MAX_TOKENS;
      tile_at(weights, rowBytes, rowOffset, row + done, group, xAll, xStride, t0, ntokens, chunks, firstMask, lastMask,
          outAll, outRows);
    }
    done += group;
  }
}

/*
 * io.moestream.engine.kernel.NativeKernels.bf16(ByteBuffer weights, int rows, int cols, int tokens,
 *     int rowStart, int rowEnd, int misalignment, float[] paired, float[] shifted, int[] alignedMasks,
 *     float[] out, int outRows, int firstRow)
 * misalignment > 0: interior rows are read from (r * rowBytes - misalignment) with `shifted`
 * activations (stride cols + 32) and (chunks + 1) chunks, the end chunks masked; 0: every row in place.
 * Columns past the last full chunk are left to the caller (MatmulBf16 adds them in Java).
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_bf16(JNIEnv *env, jclass cls, jobject weights,
    jint rows, jint cols, jint tokens, jint rowStart, jint rowEnd, jint misalignment, jfloatArray paired,
    jfloatArray shifted, jintArray alignedMasks, jfloatArray out, jint outRows, jint firstRow) {
  (void) cls;
  const char *w = (const char *) (*env)->GetDirectBufferAddress(env, weights);
  if (w == NULL) {
    return; /* NativeKernels only passes direct buffers */
  }
  int chunks = cols / BLOCK;
  long rowBytes = (long) cols * 2;
  float *xPaired = (*env)->GetPrimitiveArrayCritical(env, paired, NULL);
  float *xShifted = misalignment > 0 ? (*env)->GetPrimitiveArrayCritical(env, shifted, NULL) : NULL;
  int32_t *masks = misalignment > 0 ? (*env)->GetPrimitiveArrayCritical(env, alignedMasks, NULL) : NULL;
  float *o = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
  float *outBase = o + firstRow;
  long r = rowStart;
  while (r < rowEnd) {
    int interior = misalignment > 0 && r > 0 && r < rows - 1;
    /* the first and last row of a misaligned matrix are read in place, one at a time */
    long end = interior ? (rowEnd < rows - 1 ? rowEnd : rows - 1) : misalignment > 0 ? r + 1 : rowEnd;
    if (interior) {
      rows_of_one_kind(w, rowBytes, misalignment, r, (int) (end - r), xShifted, cols + BLOCK, tokens, chunks + 1,
          masks, masks + (long) chunks * LANES, outBase, outRows);
    } else {
      rows_of_one_kind(w, rowBytes, 0, r, (int) (end - r), xPaired, cols, tokens, chunks, NULL, NULL, outBase,
          outRows);
    }
    r = end;
  }
  (*env)->ReleasePrimitiveArrayCritical(env, out, o, 0);
  if (masks != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, alignedMasks, masks, JNI_ABORT);
  }
  if (xShifted != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, shifted, xShifted, JNI_ABORT);
  }
  (*env)->ReleasePrimitiveArrayCritical(env, paired, xPaired, JNI_ABORT);
}

/*
 * Attention's inner loops, twins of VectorKernels.dot and VectorKernels.axpy as CpuAttention calls them
 * key after key, with the same operations in the same order (so bitwise the same), but with the lane
 * sums of 16 keys reduced together and one call per (token, group of query heads sharing a KV head)
 * instead of two per key and head: the heads reuse each key and value while it is in L1, and their
 * independent sums keep the FMA units busy where one head's sum is a chain of dependent FMAs.
 */

/*
 * One head's dots with 16 keys: q's columns V vectors at a time in registers (V constant when inlined),
 * the 16 keys' accumulators in registers across all columns, each acc = fma(q, k, acc) in column order.
 * Lane g of the result is key g's butterfly sum. A key is read once per head (from L1 after the first).
 */
static inline __attribute__((always_inline)) __m512 dots16(int V, const float *q, const float *const *k,
    int vectorCols) {
  __m512 acc[16];
  for (int g = 0; g < 16; g++) {
    acc[g] = _mm512_setzero_ps();
  }
  for (int c0 = 0; c0 < vectorCols; c0 += V * LANES) {
    __m512 qv[8];
    for (int v = 0; v < V; v++) {
      qv[v] = _mm512_loadu_ps(q + c0 + v * LANES);
    }
    for (int g = 0; g < 16; g++) {
      for (int v = 0; v < V; v++) {
        acc[g] = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k[g] + c0 + v * LANES), acc[g]);
      }
    }
  }
  return butterfly_sums16_vector(acc);
}

/*
 * io.moestream.engine.kernel.NativeKernels.scaledDots(float[] q, int qOffset, int heads, float[] keys,
 *     int[] keyOffsets, int count, int n, float scale, float[] out):
 *   out[h * count + j] = dot(q[qOffset + h * n..+n), keys[keyOffsets[j]..+n)) * scale, h in [0, heads),
 *   j in [0, count), where dot is VectorKernels.dot: acc = fma(q, k, acc) per 16 lanes, butterfly sum,
 *   then sum += q[i] * k[i] for the columns past the last full vector (not fused: -ffp-contract=off).
 * A last block of fewer than 16 keys repeats its first key in the missing slots and stores only its own.
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_scaledDots(JNIEnv *env, jclass cls,
    jfloatArray qArray, jint qOffset, jint heads, jfloatArray keysArray, jintArray offsetsArray, jint count, jint n,
    jfloat scale, jfloatArray outArray) {
  (void) cls;
  int vectorCols = n - n % LANES;
  int vectors = vectorCols / LANES;
  int chunk = vectors < 8 ? vectors : 8; /* vectors of q in registers at a time: a divisor of vectors */
  while (chunk > 1 && vectors % chunk != 0) {
    chunk--;
  }
  __m512 scaleV = _mm512_set1_ps(scale);
  float *qAll = (*env)->GetPrimitiveArrayCritical(env, qArray, NULL);
  float *keys = (*env)->GetPrimitiveArrayCritical(env, keysArray, NULL);
  int32_t *offsets = (*env)->GetPrimitiveArrayCritical(env, offsetsArray, NULL);
  float *out = (*env)->GetPrimitiveArrayCritical(env, outArray, NULL);
  for (int j0 = 0; j0 < count; j0 += 16) {
    int group = count - j0 < 16 ? count - j0 : 16;
    const float *k[16];
    for (int g = 0; g < 16; g++) {
      k[g] = keys + offsets[j0 + (g < group ? g : 0)];
    }
    for (int h = 0; h < heads; h++) {
      const float *q = qAll + qOffset + (long) h * n;
      __m512 sums;
      switch (chunk) { /* constant V, so the loops unroll and q stays in registers */
        case 1: sums = dots16(1, q, k, vectorCols); break;
        case 2: sums = dots16(2, q, k, vectorCols); break;
        case 3: sums = dots16(3, q, k, vectorCols); break;
        case 4: sums = dots16(4, q, k, vectorCols); break;
        case 5: sums = dots16(5, q, k, vectorCols); break;
        case 6: sums = dots16(6, q, k, vectorCols); break;
        case 7: sums = dots16(7, q, k, vectorCols); break;
        default: sums = dots16(8, q, k, vectorCols); break;
      }
      float *o = out + (long) h * count + j0;
      if (vectorCols == n) {
        _mm512_mask_storeu_ps(o, (__mmask16) ((1u << group) - 1), _mm512_mul_ps(sums, scaleV));
      } else {
        float s16[16];
        _mm512_storeu_ps(s16, sums);
        for (int g = 0; g < group; g++) {
          float sum = s16[g];
          for (int i = vectorCols; i < n; i++) {
            sum += q[i] * k[g][i];
          }
          o[g] = sum * scale;
        }
      }
    }
  }
  (*env)->ReleasePrimitiveArrayCritical(env, outArray, out, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, offsetsArray, offsets, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, keysArray, keys, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, qArray, qAll, JNI_ABORT);
}

/*
 * H heads x V vectors of y (from column c0) in registers while every value j is read once:
 * y_h = fma(x_j, w_hj, y_h), j in order.
 */
static inline __attribute__((always_inline)) void weighted_block(int H, int V, const float *weights, long count,
    const float *values, const int32_t *offsets, float *y, long n, int c0) {
  __m512 acc[16];
  for (int h = 0; h < H; h++) {
    for (int v = 0; v < V; v++) {
      acc[h * V + v] = _mm512_loadu_ps(y + h * n + c0 + v * LANES);
    }
  }
  for (long j = 0; j < count; j++) {
    const float *x = values + offsets[j] + c0;
    __m512 xv[8];
    for (int v = 0; v < V; v++) {
      xv[v] = _mm512_loadu_ps(x + v * LANES);
    }
    for (int h = 0; h < H; h++) {
      __m512 w = _mm512_set1_ps(weights[h * count + j]);
      for (int v = 0; v < V; v++) {
        acc[h * V + v] = _mm512_fmadd_ps(xv[v], w, acc[h * V + v]);
      }
    }
  }
  for (int h = 0; h < H; h++) {
    for (int v = 0; v < V; v++) {
      _mm512_storeu_ps(y + h * n + c0 + v * LANES, acc[h * V + v]);
    }
  }
}

#define WEIGHTED(H, V) weighted_block(H, V, w, count, values, offsets, yh, n, c0)

/*
 * io.moestream.engine.kernel.NativeKernels.weightedSum(float[] weights, int heads, float[] values,
 *     int[] valueOffsets, int count, float[] y, int yOffset, int n):
 *   for h in [0, heads), j in [0, count): y[yOffset + h * n..+n) += weights[h * count + j] *
 *   values[valueOffsets[j]..+n), as VectorKernels.axpy does it (y = fma(x, w, y) per 16 lanes, y += w * x
 *   past the last full vector), j in order, so every element sees the same adds in the same order; up to 8
 *   heads' y stay in registers (16 vectors in all) across j.
 */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_weightedSum(JNIEnv *env, jclass cls,
    jfloatArray weightsArray, jint heads, jfloatArray valuesArray, jintArray offsetsArray, jint count,
    jfloatArray yArray, jint yOffset, jint n) {
  (void) cls;
  int vectorCols = n - n % LANES;
  float *weights = (*env)->GetPrimitiveArrayCritical(env, weightsArray, NULL);
  float *values = (*env)->GetPrimitiveArrayCritical(env, valuesArray, NULL);
  int32_t *offsets = (*env)->GetPrimitiveArrayCritical(env, offsetsArray, NULL);
  float *yAll = (*env)->GetPrimitiveArrayCritical(env, yArray, NULL);
  for (int h0 = 0; h0 < heads; h0 += 8) {
    int hs = heads - h0 < 8 ? heads - h0 : 8;
    const float *w = weights + (long) h0 * count;
    float *yh = yAll + yOffset + (long) h0 * n;
    int perBlock = 16 / hs < 8 ? 16 / hs : 8; /* vectors per head in registers: 16 accumulators, xv[8] */
    for (int c0 = 0; c0 < vectorCols; c0 += perBlock * LANES) {
      int vectors = (vectorCols - c0) / LANES < perBlock ? (vectorCols - c0) / LANES : perBlock;
      switch (hs * 16 + vectors) { /* constant H and V, so the accumulators stay in registers */
        case 1 * 16 + 1: WEIGHTED(1, 1); break;
        case 1 * 16 + 2: WEIGHTED(1, 2); break;
        case 1 * 16 + 3: WEIGHTED(1, 3); break;
        case 1 * 16 + 4: WEIGHTED(1, 4); break;
        case 1 * 16 + 5: WEIGHTED(1, 5); break;
        case 1 * 16 + 6: WEIGHTED(1, 6); break;
        case 1 * 16 + 7: WEIGHTED(1, 7); break;
        case 1 * 16 + 8: WEIGHTED(1, 8); break;
        case 2 * 16 + 1: WEIGHTED(2, 1); break;
        case 2 * 16 + 2: WEIGHTED(2, 2); break;
        case 2 * 16 + 3: WEIGHTED(2, 3); break;
        case 2 * 16 + 4: WEIGHTED(2, 4); break;
        case 2 * 16 + 5: WEIGHTED(2, 5); break;
        case 2 * 16 + 6: WEIGHTED(2, 6); break;
        case 2 * 16 + 7: WEIGHTED(2, 7); break;
        case 2 * 16 + 8: WEIGHTED(2, 8); break;
        case 3 * 16 + 1: WEIGHTED(3, 1); break;
        case 3 * 16 + 2: WEIGHTED(3, 2); break;
        case 3 * 16 + 3: WEIGHTED(3, 3); break;
        case 3 * 16 + 4: WEIGHTED(3, 4); break;
        case 3 * 16 + 5: WEIGHTED(3, 5); break;
        case 4 * 16 + 1: WEIGHTED(4, 1); break;
        case 4 * 16 + 2: WEIGHTED(4, 2); break;
        case 4 * 16 + 3: WEIGHTED(4, 3); break;
        case 4 * 16 + 4: WEIGHTED(4, 4); break;
        case 5 * 16 + 1: WEIGHTED(5, 1); break;
        case 5 * 16 + 2: WEIGHTED(5, 2); break;
        case 5 * 16 + 3: WEIGHTED(5, 3); break;
        case 6 * 16 + 1: WEIGHTED(6, 1); break;
        case 6 * 16 + 2: WEIGHTED(6, 2); break;
        case 7 * 16 + 1: WEIGHTED(7, 1); break;
        case 7 * 16 + 2: WEIGHTED(7, 2); break;
        case 8 * 16 + 1: WEIGHTED(8, 1); break;
        default: WEIGHTED(8, 2); break;
      }
    }
    for (int h = 0; h < hs; h++) {
      for (int j = 0; j < count; j++) {
        const float *x = values + offsets[j];
        float wj = w[(long) h * count + j];
        for (int i = vectorCols; i < n; i++) {
          yh[(long) h * n + i] += wj * x[i];
        }
      }
    }
  }
  (*env)->ReleasePrimitiveArrayCritical(env, yArray, yAll, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, offsetsArray, offsets, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, valuesArray, values, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, weightsArray, weights, JNI_ABORT);
}

/*
 * Memory for the int8 weights in 2 MiB pages (io.moestream.engine.kernel.Q8Arena): an anonymous mapping whose
 * start is 2 MiB aligned, advised MADV_HUGEPAGE before anything touches it. Without the advice a machine whose
 * transparent_hugepage/defrag is "madvise" (Debian's default) gives a direct buffer 4 KiB pages, and the AMX kernel
 * streams int8 weights about 5% slower from them (a throwaway harness of the Q8_0 kernel, 2 threads: 27.2 against
 * 28.5 GB/s).
 *
 * io.moestream.engine.kernel.NativeKernels.mapHugePages(long bytes): a direct buffer of `bytes` zeroed bytes, or
 * null where the mapping failed; the advice is best effort (a kernel without THP keeps 4 KiB pages).
 */
#define HUGE_PAGE (2L << 20)
JNIEXPORT jobject JNICALL Java_io_moestream_engine_kernel_NativeKernels_mapHugePages(JNIEnv *env, jclass cls,
    jlong bytes) {
  (void) cls;
  if (bytes <= 0) {
    return NULL;
  }
  size_t length = (size_t) bytes;
  char *mapped = mmap(NULL, length + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    return NULL;
  }
  char *start = (char *) (((uintptr_t) mapped + HUGE_PAGE - 1) & ~(uintptr_t) (HUGE_PAGE - 1));
  if (start > mapped) { /* the unaligned head and the tail past the aligned range go back */
    munmap(mapped, (size_t) (start - mapped));
  }
  char *end = mapped + length + HUGE_PAGE;
  if (end > start + length) {
    munmap(start + length, (size_t) (end - (start + length)));
  }
  madvise(start, length, MADV_HUGEPAGE);
  jobject buffer = (*env)->NewDirectByteBuffer(env, start, bytes);
  if (buffer == NULL) {
    munmap(start, length);
  }
  return buffer;
}

/* io.moestream.engine.kernel.NativeKernels.address(ByteBuffer buffer): where a direct buffer's bytes start. */
JNIEXPORT jlong JNICALL Java_io_moestream_engine_kernel_NativeKernels_address(JNIEnv *env, jclass cls,
    jobject buffer) {
  (void) cls;
  return (jlong) (uintptr_t) (*env)->GetDirectBufferAddress(env, buffer);
}

/* io.moestream.engine.kernel.NativeKernels.unmap(long address, long bytes): gives back a mapHugePages mapping. */
JNIEXPORT void JNICALL Java_io_moestream_engine_kernel_NativeKernels_unmap(JNIEnv *env, jclass cls, jlong address,
    jlong bytes) {
  (void) env;
  (void) cls;
  munmap((void *) (uintptr_t) address, (size_t) bytes);
}
