// A CPU emulation of the small part of CUDA the kernels under src/main/cuda use, so their indexing,
// reductions and synchronization can be checked against plain references on a machine without a
// GPU (run-emulated.sh). Each CUDA thread of a block is an OS thread; blocks run one after another,
// so __shared__ variables become function statics. Warp shuffles exchange through per-warp slots
// between two per-warp barriers, which holds because every shuffle in the kernels is warp-uniform.
// It checks logic, not performance, and not the memory model (nothing here reorders accesses).
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
#include <algorithm>

using std::max;
using std::min;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static

struct dim3e {
  unsigned x, y, z;
};
struct uint4 {
  unsigned int x, y, z, w;
};
struct float4 {
  float x, y, z, w;
};
struct int4 {
  int x, y, z, w;
};

inline thread_local dim3e threadIdx;
inline thread_local dim3e blockIdx;
inline dim3e blockDim;
inline dim3e gridDim;
inline char emu_dynamic_shared[1 << 20];
inline std::barrier<>* emu_block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> emu_warp_barriers;
inline float emu_shuffle[32][32];

inline void __syncthreads() {
  emu_block_barrier->arrive_and_wait();
}

inline float __shfl_xor_sync(unsigned, float value, int offset) {
  int warp = threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  emu_shuffle[warp][lane] = value;
  emu_warp_barriers[warp]->arrive_and_wait();
  float other = emu_shuffle[warp][lane ^ offset];
  emu_warp_barriers[warp]->arrive_and_wait();
  return other;
}

inline float __uint_as_float(unsigned int bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float rsqrtf(float x) {
  return 1.f / std::sqrt(x);
}

/** Host buffers: plain vectors here (managed memory in cuda_gpu.h). */
template <typename T>
using vec = std::vector<T>;

inline dim3e G(unsigned x, unsigned y) {
  return {x, y, 1};
}

/** kernel<<<grid, threads, sharedBytes>>>(args...) run on the CPU (shared memory is a static buffer here). */
#define LAUNCH(kernel, grid, threads, sharedBytes, ...) \
  emu_launch(grid, {(unsigned) (threads), 1, 1}, [&] { kernel(__VA_ARGS__); })

/** Runs kernel() over grid x block threads (block.x a multiple of 32, at most 1024). */
template <typename Kernel>
void emu_launch(dim3e grid, dim3e block, Kernel kernel) {
  gridDim = grid;
  blockDim = block;
  for (unsigned by = 0; by < grid.y; by++) {
    for (unsigned bx = 0; bx < grid.x; bx++) {
      std::barrier<> blockBarrier(block.x);
      emu_block_barrier = &blockBarrier;
      emu_warp_barriers.clear();
      for (unsigned w = 0; w < block.x / 32; w++) {
        emu_warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
      }
      std::vector<std::thread> threads;
      for (unsigned t = 0; t < block.x; t++) {
        threads.emplace_back([=] {
          threadIdx = {t, 0, 0};
          blockIdx = {bx, by, 0};
          kernel();
        });
      }
      for (auto& thread : threads) {
        thread.join();
      }
    }
  }
}
