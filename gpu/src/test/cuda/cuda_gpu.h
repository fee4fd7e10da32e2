// The real-GPU side of kernels_emulated.cpp (built by run-on-gpu.sh with nvcc -DKERNELS_ON_GPU): host
// buffers in managed memory so the same checks read and write them directly, launches with <<<>>>
// followed by a synchronization and an error check.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>
#include <vector>

template <typename T>
struct ManagedAllocator {
  using value_type = T;
  ManagedAllocator() = default;
  template <typename U>
  ManagedAllocator(const ManagedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = nullptr;
    if (cudaMallocManaged(&p, std::max<size_t>(n, 1) * sizeof(T)) != cudaSuccess) {
      std::fprintf(stderr, "cudaMallocManaged of %zu bytes failed\n", n * sizeof(T));
      std::exit(2);
    }
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) {
    cudaFree(p);
  }
  template <typename U>
  bool operator==(const ManagedAllocator<U>&) const {
    return true;
  }
  template <typename U>
  bool operator!=(const ManagedAllocator<U>&) const {
    return false;
  }
};

template <typename T>
using vec = std::vector<T, ManagedAllocator<T>>;

inline dim3 G(unsigned x, unsigned y) {
  return dim3(x, y, 1);
}

inline void check_launch(const char* kernel) {
  cudaError_t error = cudaDeviceSynchronize();
  if (error == cudaSuccess) {
    error = cudaGetLastError();
  }
  if (error != cudaSuccess) {
    std::fprintf(stderr, "FAIL %s: %s\n", kernel, cudaGetErrorString(error));
    std::exit(3);
  }
}

#define LAUNCH(kernel, grid, threads, sharedBytes, ...)            \
  do {                                                             \
    kernel<<<grid, (threads), (sharedBytes)>>>(__VA_ARGS__);       \
    check_launch(#kernel);                                         \
  } while (0)
