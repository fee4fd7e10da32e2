package io.moestream.engine.generate;

import io.moestream.engine.model.WeightsMode;

/**
 * How an engine runs. Immutable; validated on construction.
 *
 * @param threads CPU threads for the forward pass (the calling thread included)
 * @param kernels "auto" (the native kernels where they load, else "vector"), "native" (fails where they do
 *     not load), "amx" (BF16 and Q8_0 matmuls with BF16 / Q8_0 activations on AMX tiles; fails without AMX),
 *     "avx512bf16" (BF16 matmuls with BF16 activations by AVX512_BF16 dot products; fails without it), "vector"
 *     (Java Vector API) or "scalar" (the plain reference, for tests); see {@link
 *     io.moestream.engine.kernel.Kernels#named}
 * @param kvCacheBytes memory for the paged KV cache (keys and values, all layers)
 * @param kvBlockSize tokens per KV block
 * @param maxBatchTokens tokens one step runs at most (decode tokens plus prompt chunks)
 * @param maxRunningSequences sequences decoding at once at most
 * @param backend "auto" (CUDA when a usable device is found; the CPU, logged, when the machine has no GPU),
 *     "cpu" or "cuda" (fails with the reason when no device is usable); see {@link BackendChoice}
 * @param deviceIndex the CUDA device to use (in a Flink TaskManager: the "index" of the GPU external resource)
 * @param allowWeightsOverRam load a model whose mapped weights and heap exceed the RAM (its weights then page
 *     from disk, slowly) with a warning instead of failing; see {@link io.moestream.engine.plan.MemoryCheck}
 * @param allowCpuFallback under {@code auto}, run on the CPU (warned) when a GPU is here but unusable, the model
 *     has no CUDA kernels or the CUDA backend fails to start; without it those are errors
 * @param weights how the weights are held: as the checkpoint stores them (mapped), or quantized to int8 at
 *     load ({@link io.moestream.engine.model.Int8Weights}; CPU backend only)
 */
public record EngineOptions(
    int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens, int maxRunningSequences,
    String backend, int deviceIndex, boolean allowWeightsOverRam, boolean allowCpuFallback, WeightsMode weights) {

  /** Options with the weights as the checkpoint stores them. */
  public EngineOptions(int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens,
      int maxRunningSequences, String backend, int deviceIndex, boolean allowWeightsOverRam, boolean allowCpuFallback) {
    this(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend, deviceIndex,
        allowWeightsOverRam, allowCpuFallback, WeightsMode.CHECKPOINT);
  }

  /** Options without the CPU fallback. */
  public EngineOptions(int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens,
      int maxRunningSequences, String backend, int deviceIndex, boolean allowWeightsOverRam, WeightsMode weights) {
    this(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend, deviceIndex,
        allowWeightsOverRam, false, weights);
  }

  /** Options without the CPU fallback, with the weights as the checkpoint stores them. */
  public EngineOptions(int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens,
      int maxRunningSequences, String backend, int deviceIndex, boolean allowWeightsOverRam) {
    this(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend, deviceIndex,
        allowWeightsOverRam, false, WeightsMode.CHECKPOINT);
  }

  /** Options that refuse weights larger than the RAM. */
  public EngineOptions(int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens,
      int maxRunningSequences, String backend, int deviceIndex) {
    this(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend, deviceIndex,
        false, false, WeightsMode.CHECKPOINT);
  }

  /**
   * Options with {@code backend = "cpu"} on device 0. The CPU is the default until the CUDA backend has
   * been verified on a GPU (docs/CUDA.md); {@code auto} and {@code cuda} are there to choose it.
   */
  public EngineOptions(
      int threads, String kernels, long kvCacheBytes, int kvBlockSize, int maxBatchTokens, int maxRunningSequences) {
    this(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, "cpu", 0);
  }

  public EngineOptions {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, found " + threads);
    }
    if (!io.moestream.engine.kernel.Kernels.NAMES.contains(kernels)) {
      throw new IllegalArgumentException("kernels must be one of " + io.moestream.engine.kernel.Kernels.NAMES
          + ", found '" + kernels + "'");
    }
    if (kvCacheBytes < 1 << 16) {
      throw new IllegalArgumentException("kvCacheBytes must be >= 65536, found " + kvCacheBytes);
    }
    if (kvBlockSize < 1 || maxBatchTokens < 1 || maxRunningSequences < 1) {
      throw new IllegalArgumentException("kvBlockSize, maxBatchTokens and maxRunningSequences must be >= 1");
    }
    if (!"auto".equals(backend) && !"cpu".equals(backend) && !"cuda".equals(backend)) {
      throw new IllegalArgumentException("backend must be 'auto', 'cpu' or 'cuda', found '" + backend + "'");
    }
    if (deviceIndex < 0) {
      throw new IllegalArgumentException("deviceIndex must be >= 0, found " + deviceIndex);
    }
    if (weights == null) {
      throw new IllegalArgumentException("weights must be 'checkpoint' or 'int8', found null");
    }
    if (weights == WeightsMode.INT8 && !"cpu".equals(backend)) {
      // The CUDA backend uploads every matrix as BF16 (docs/CUDA.md): int8 would be widened back.
      throw new IllegalArgumentException("weights 'int8' runs on the CPU backend only, found backend '" + backend
          + "' (use backend cpu, or weights checkpoint)");
    }
  }

  public static EngineOptions defaults() {
    return new EngineOptions(Runtime.getRuntime().availableProcessors(), "auto", 512L << 20, 16, 512, 256);
  }

  public EngineOptions withThreads(int n) {
    return new EngineOptions(n, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withKernels(String name) {
    return new EngineOptions(threads, name, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withKvCacheBytes(long bytes) {
    return new EngineOptions(threads, kernels, bytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withMaxBatchTokens(int tokens) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, tokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withMaxRunningSequences(int n) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, n, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withBackend(String name) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, name,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withAllowWeightsOverRam(boolean allow) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allow, allowCpuFallback, weights);
  }

  public EngineOptions withDeviceIndex(int index) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        index, allowWeightsOverRam, allowCpuFallback, weights);
  }

  public EngineOptions withAllowCpuFallback(boolean allow) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allow, weights);
  }

  public EngineOptions withWeights(WeightsMode mode) {
    return new EngineOptions(threads, kernels, kvCacheBytes, kvBlockSize, maxBatchTokens, maxRunningSequences, backend,
        deviceIndex, allowWeightsOverRam, allowCpuFallback, mode);
  }
}
