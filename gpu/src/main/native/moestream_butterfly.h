/*
 * Horizontal sums of 16-lane float vectors in one fixed order (lanes i and i^8, then ^4, ^2, ^1, lane 0), shared by
 * the exact kernels (moestream_kernels.c) and the AVX512_BF16 dot kernels (moestream_dpbf16.c): a result's bits
 * depend on its own vector only, never on which other vectors were reduced with it.
 */
#ifndef MOESTREAM_BUTTERFLY_H
#define MOESTREAM_BUTTERFLY_H

#include <immintrin.h>

static inline float butterfly_sum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_permutexvar_ps(_mm512_set_epi32(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8), v));
  v = _mm512_add_ps(v, _mm512_permutexvar_ps(_mm512_set_epi32(11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4), v));
  v = _mm512_add_ps(v, _mm512_permutexvar_ps(_mm512_set_epi32(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2), v));
  v = _mm512_add_ps(v, _mm512_permutexvar_ps(_mm512_set_epi32(14, 15, 12, 13, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1), v));
  return _mm512_cvtss_f32(v);
}

/*
 * butterfly_sum of each of v[0..16), in one go, lane i of the result holding v[i]'s: every add of the 16
 * butterflies is the same add of the same two partial sums, in the same operand order, so each result has the
 * same bits as butterfly_sum(v[i]);
 * 4 stages of 2-vector shuffles and adds (15 adds, 30 shuffles) instead of 16 x (4 permutes + 4 adds).
 */
static inline __attribute__((always_inline)) __m512 butterfly_sums16_vector(const __m512 *v) {
  __m512 s1[8], s2[4], s3[2];
  for (int m = 0; m < 8; m++) { /* distance 8: lanes 0-7 of v[2m], then of v[2m+1] */
    s1[m] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], 0x44),
        _mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], 0xEE));
  }
  for (int m = 0; m < 4; m++) { /* distance 4: 128-bit block b holds lanes 0-3 of vector 4m + b */
    s2[m] = _mm512_add_ps(_mm512_shuffle_f32x4(s1[2 * m], s1[2 * m + 1], 0x88),
        _mm512_shuffle_f32x4(s1[2 * m], s1[2 * m + 1], 0xDD));
  }
  for (int m = 0; m < 2; m++) { /* distance 2, within 128-bit blocks */
    s3[m] = _mm512_add_ps(_mm512_shuffle_ps(s2[2 * m], s2[2 * m + 1], 0x44),
        _mm512_shuffle_ps(s2[2 * m], s2[2 * m + 1], 0xEE));
  }
  /* distance 1: lane 4k + j holds the sum of vector 4j + k; lane i of the result takes lane 4(i % 4) + i / 4 */
  __m512 s4 = _mm512_add_ps(_mm512_shuffle_ps(s3[0], s3[1], 0x88), _mm512_shuffle_ps(s3[0], s3[1], 0xDD));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), s4);
}

/* The same sums, sums[i] = butterfly_sum(v[i]), stored. */
static inline void butterfly_sums16(const __m512 *v, float *sums) {
  _mm512_storeu_ps(sums, butterfly_sums16_vector(v));
}

#endif
