/* Float to BF16 rounding and the 32-column chunk shared by the activation packers of the AMX (moestream_amx.c) and AVX512_BF16
 * (moestream_dpbf16.c) kernels. */
#ifndef MOESTREAM_BF16_H
#define MOESTREAM_BF16_H

#include <immintrin.h>

/* 16 floats to their BF16 bits in the low halves of 32-bit lanes, as Numerics.floatToBf16: nearest even by integer
 * arithmetic (subnormals kept), a NaN keeps its top bits with the quiet bit set. */
static inline __m512i to_bf16_lanes(__m512 x) {
  __m512i bits = _mm512_castps_si512(x);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lsb), 16);
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
  return _mm512_mask_mov_epi32(rounded, nan, quiet);
}

/* The 32 columns of a row from `from` (`left` columns to the row's end) rounded to BF16, in column order: columns
 * 2p and 2p + 1 in 32-bit lane p as (even | odd << 16); zero past the row's end. Both packers' chunk. */
static inline __m512i bf16_chunk(const float *from, int left) {
  __mmask16 lowMask = left >= 16 ? 0xFFFF : (__mmask16) ((1u << left) - 1);
  __mmask16 highMask = left >= 32 ? 0xFFFF : left <= 16 ? 0 : (__mmask16) ((1u << (left - 16)) - 1);
  __m256i low = _mm512_cvtepi32_epi16(to_bf16_lanes(_mm512_maskz_loadu_ps(lowMask, from)));
  __m256i high = _mm512_cvtepi32_epi16(to_bf16_lanes(_mm512_maskz_loadu_ps(highMask, from + 16)));
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

#endif
