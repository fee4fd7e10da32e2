package io.moestream.operators.inference;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.WeightsMode;
import java.io.Serializable;

/**
 * How each inference subtask runs its engine.
 *
 * @param modelDir the model folder, readable on every TaskManager
 * @param maxInFlight requests accepted and not yet answered, at most; input stops at the cap
 * @param threads CPU threads of the forward pass
 * @param kernels "auto", "native", "amx", "avx512bf16", "vector" or "scalar" ({@code Kernels.named})
 * @param kvCacheBytes memory of the paged KV cache
 * @param maxBatchTokens tokens one engine step runs at most
 * @param maxRunningSequences sequences decoding together at most
 * @param backend "cpu", "auto" or "cuda"; the GPU's index comes from Flink's external resources
 * @param allowWeightsOverRam load a model whose weights and heap exceed the TaskManager's RAM, warned
 * @param allowCpuFallback with backend "auto", run on the CPU (warned) when the TaskManager's GPU cannot run the
 *     model; without it the subtask fails (EngineOptions.allowCpuFallback)
 * @param weights "checkpoint" (as stored) or "int8" (quantized at load), see {@link WeightsMode}
 */
public record InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
    int maxBatchTokens, int maxRunningSequences, String backend, boolean allowWeightsOverRam, boolean allowCpuFallback,
    String weights)
    implements Serializable {

  public InferenceSettings {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, found " + maxInFlight);
    }
    engineOptions(threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend, 0)
        .withWeights(WeightsMode.parse(weights, "weights"));
  }

  /** Settings with the weights as the checkpoint stores them. */
  public InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
      int maxBatchTokens, int maxRunningSequences, String backend, boolean allowWeightsOverRam,
      boolean allowCpuFallback) {
    this(modelDir, maxInFlight, threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend,
        allowWeightsOverRam, allowCpuFallback, WeightsMode.CHECKPOINT.optionValue());
  }

  /** Settings without the CPU fallback. */
  public InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
      int maxBatchTokens, int maxRunningSequences, String backend, boolean allowWeightsOverRam, String weights) {
    this(modelDir, maxInFlight, threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend,
        allowWeightsOverRam, false, weights);
  }

  /** Settings without the CPU fallback, with the weights as the checkpoint stores them. */
  public InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
      int maxBatchTokens, int maxRunningSequences, String backend, boolean allowWeightsOverRam) {
    this(modelDir, maxInFlight, threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend,
        allowWeightsOverRam, false);
  }

  /** Settings that refuse weights larger than the RAM and a GPU that cannot serve. */
  public InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
      int maxBatchTokens, int maxRunningSequences, String backend) {
    this(modelDir, maxInFlight, threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend, false,
        false);
  }

  /** Settings on the CPU backend. */
  public InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
      int maxBatchTokens, int maxRunningSequences) {
    this(modelDir, maxInFlight, threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, "cpu");
  }

  /** The engine options of a subtask whose GPU (if any) has index {@code deviceIndex}. */
  public EngineOptions engineOptions(int deviceIndex) {
    return engineOptions(threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences, backend, deviceIndex)
        .withAllowWeightsOverRam(allowWeightsOverRam).withAllowCpuFallback(allowCpuFallback)
        .withWeights(WeightsMode.parse(weights, "weights"));
  }

  public EngineOptions engineOptions() {
    return engineOptions(0);
  }

  private static EngineOptions engineOptions(int threads, String kernels, long kvCacheBytes, int maxBatchTokens,
      int maxRunningSequences, String backend, int deviceIndex) {
    return EngineOptions.defaults().withThreads(threads).withKernels(kernels).withKvCacheBytes(kvCacheBytes)
        .withMaxBatchTokens(maxBatchTokens).withMaxRunningSequences(maxRunningSequences).withBackend(backend)
        .withDeviceIndex(deviceIndex);
  }
}
