/* What the AMX kernels (moestream_amx.c: BF16, moestream_amx_q8.c: Q8_0) share, and docs/bench/amx_stream.c measures. */
#ifndef MOESTREAM_AMX_H
#define MOESTREAM_AMX_H

#include <immintrin.h>
#include <stdint.h>

/* LDTILECFG's 64-byte operand, palette 1. */
typedef struct {
  uint8_t palette;
  uint8_t startRow;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} tile_config;

/*
 * The next 16 rows' lines at this column are prefetched (into L1) while this block's are multiplied: the
 * streams of a new matrix otherwise start cold at every row block. Measured (a throwaway C microbenchmark of
 * this loop, not in the repository) on the AMX Xeon, one thread,
 * 1.5 GB of 2-token BF16 matmuls streamed from memory: 512 x 1024 (an expert's gate) 8.3 -> 14.6 GB/s,
 * 1024 x 512 13.0 -> 13.5, 2048 x 768 14.1 -> 13.4, the LM head 14.7 -> 14.6 (the machine streams 15.3 per
 * core).
 */
static inline void prefetch_rows(const char *next, long stride, int nextRows) {
  for (int m = 0; m < nextRows; m++) {
    _mm_prefetch(next + m * stride, _MM_HINT_T0);
  }
}

/*
 * C tile (16 weight rows x 16 tokens, row-major) to 16 vectors, one per token, of its 16 rows' results (the BF16
 * kernel's way out of the C tile). docs/bench/amx_stream.c, 16-token LM head, 2 threads: 21-23.5 GB/s with scalar
 * copies out of the tile, 24.5-25 with this, 29 with the results dropped.
 */
static inline void transpose16(const float *c, __m512 *byToken) {
  __m512 r[16], t[16], u[16], v[16];
  for (int i = 0; i < 16; i++) {
    r[i] = _mm512_load_ps(c + 16 * i);
  }
  for (int i = 0; i < 8; i++) { /* pairs of rows interleaved: (r0[0], r1[0], r0[1], r1[1]) per 128-bit lane */
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) { /* quads of rows: each 128-bit lane holds one column of 4 rows */
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 2; i++) { /* 128-bit lanes gathered across quads */
    for (int j = 0; j < 4; j++) {
      v[8 * i + j] = _mm512_shuffle_f32x4(u[8 * i + j], u[8 * i + 4 + j], 0x88);
      v[8 * i + 4 + j] = _mm512_shuffle_f32x4(u[8 * i + j], u[8 * i + 4 + j], 0xDD);
    }
  }
  for (int j = 0; j < 8; j++) {
    byToken[j] = _mm512_shuffle_f32x4(v[j], v[8 + j], 0x88);
    byToken[8 + j] = _mm512_shuffle_f32x4(v[j], v[8 + j], 0xDD);
  }
}

#endif
