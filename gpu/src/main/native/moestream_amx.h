/* What the AMX kernels (moestream_amx.c: BF16, moestream_amx_q8.c: Q8_0) share. */
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

#endif
