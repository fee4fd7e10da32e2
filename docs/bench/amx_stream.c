/*
 * How fast this machine streams BF16 expert matrices through the AMX tile unit, with nothing of the engine around
 * them: the ceiling a memory-bound decode step can reach (docs/BENCHMARKS.md, "batch 16"). Not part of the build.
 *
 *   gcc -O2 -march=native -pthread docs/bench/amx_stream.c -o /tmp/amx_stream
 *   /tmp/amx_stream THREADS TOKENS [ROWS COLS] [4k|scalar|vector]
 *
 * 4 GiB of BF16 weights (2 MiB pages unless "4k") are cut into ROWS x COLS matrices (default 512 x 1024, an
 * expert's gate of the "small" shape) that THREADS threads multiply, in a shuffled order, by TOKENS tokens (1-16),
 * 16 weight rows at a time as the engine's kernel does (moestream_amx.c: weights as the A tile, read in place, the
 * next 16 rows prefetched). Prints GB/s of weights read, 3 repetitions. "scalar" and "vector" also write the results
 * out, token-major as the engine does (out[token * ROWS + row]): by scalar copies out of the C tile, or by the
 * kernel's 16x16 transposition and one vector store per token.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../gpu/src/main/native/moestream_amx.h" /* tile_config, prefetch_rows, transpose16 */

static int tokens = 2, rows = 512, cols = 1024;
static char *weights;
static int writeMode; /* 0: results dropped, 1: scalar copies, 2: transposed */
static __thread float *results;
static long matrixBytes;
static uint32_t packed[64 * 16 * 16] __attribute__((aligned(64)));

typedef struct {
  long *order;
  long count;
  double seconds;
} work;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("amx-tile,amx-bf16"))) static void multiply(const char *m, float *sink) {
  long rowBytes = (long) cols * 2;
  int chunks = cols / 32;
  float c[16][16] __attribute__((aligned(64)));
  for (int r = 0; r < rows; r += 16) {
    const char *at = m + r * rowBytes;
    _tile_zero(0);
    for (int k = 0; k < chunks; k++) {
      prefetch_rows(at + 16 * rowBytes + k * 64, rowBytes, r + 16 < rows ? 16 : 0);
      _tile_loadd(6, at + k * 64, rowBytes);
      _tile_loadd(4, packed + k * 16 * tokens, tokens * 4);
      _tile_dpbf16ps(0, 6, 4);
    }
    _tile_stored(0, &c[0][0], 64);
    if (writeMode == 1) {
      for (int n = 0; n < tokens; n++) {
        for (int i = 0; i < 16; i++) {
          results[(long) n * rows + r + i] = c[i][n];
        }
      }
    } else if (writeMode == 2) {
      __m512 byToken[16];
      transpose16(&c[0][0], byToken);
      for (int n = 0; n < tokens; n++) {
        _mm512_storeu_ps(results + (long) n * rows + r, byToken[n]);
      }
    }
    *sink += c[0][0];
  }
}

__attribute__((target("amx-tile,amx-bf16"))) static void *run(void *argument) {
  work *w = argument;
  if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) { /* ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA */
    perror("arch_prctl");
    exit(1);
  }
  tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; t++) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  config.colsb[0] = config.colsb[4] = (uint16_t) (tokens * 4);
  _tile_loadconfig(&config);
  float sink = 0;
  results = writeMode ? aligned_alloc(64, (size_t) 16 * rows * 4) : NULL;
  double start = now();
  for (long i = 0; i < w->count; i++) {
    multiply(weights + w->order[i] * matrixBytes, &sink);
  }
  w->seconds = now() - start;
  _tile_release();
  return sink == 12345 ? argument : NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: amx_stream THREADS TOKENS [ROWS COLS] [4k]\n");
    return 2;
  }
  int threads = atoi(argv[1]);
  tokens = atoi(argv[2]);
  if (argc >= 5) {
    rows = atoi(argv[3]);
    cols = atoi(argv[4]);
  }
  int smallPages = argc >= 6 && strcmp(argv[5], "4k") == 0;
  writeMode = argc >= 6 && strcmp(argv[5], "scalar") == 0 ? 1 : argc >= 6 && strcmp(argv[5], "vector") == 0 ? 2 : 0;
  if (threads < 1 || threads > 64 || tokens < 1 || tokens > 16 || rows % 16 || cols % 32 || rows < 16 || cols > 2048) {
    fprintf(stderr, "amx_stream: THREADS 1-64, TOKENS 1-16, ROWS a multiple of 16, COLS of 32 up to 2048\n");
    return 2;
  }
  long total = 4L << 30;
  matrixBytes = (long) rows * cols * 2;
  weights = aligned_alloc(2 << 20, total);
  madvise(weights, total, smallPages ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
  for (long i = 0; i < total; i += 2) {
    *(uint16_t *) (weights + i) = 0x3c00;
  }
  for (int i = 0; i < 64 * 256; i++) {
    packed[i] = 0x3f803f80;
  }
  long matrices = total / matrixBytes;
  long *order = malloc(sizeof(long) * matrices);
  for (long i = 0; i < matrices; i++) {
    order[i] = i;
  }
  srand(1);
  for (long i = matrices - 1; i > 0; i--) {
    long j = rand() % (i + 1), swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  for (int repetition = 0; repetition < 3; repetition++) {
    pthread_t thread[64];
    work w[64];
    long each = matrices / threads;
    for (int t = 0; t < threads; t++) {
      w[t].order = order + t * each;
      w[t].count = each;
      pthread_create(&thread[t], NULL, run, &w[t]);
    }
    double slowest = 0;
    for (int t = 0; t < threads; t++) {
      pthread_join(thread[t], NULL);
      slowest = w[t].seconds > slowest ? w[t].seconds : slowest;
    }
    printf("%d threads, %d tokens, %d x %d matrices, %s pages, results %s: %.1f GB/s\n", threads, tokens, rows,
        cols, smallPages ? "4 KiB" : "2 MiB", writeMode == 1 ? "written (scalar)" : writeMode == 2 ? "written (vector)"
        : "dropped", (double) each * threads * matrixBytes / slowest / 1e9);
  }
  return 0;
}
