/* Float to BF16 rounding shared by the activation packers of the AMX (moestream_amx.c) and AVX512_BF16
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

#endif
