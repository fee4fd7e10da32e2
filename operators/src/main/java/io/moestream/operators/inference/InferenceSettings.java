package io.moestream.operators.inference;

import io.moestream.engine.generate.EngineOptions;
import java.io.Serializable;

/**
 * How each inference subtask runs its engine.
 *
 * @param modelDir the model folder, readable on every TaskManager
 * @param maxInFlight requests accepted and not yet answered, at most; input stops at the cap
 * @param threads CPU threads of the forward pass
 * @param kernels "vector" or "scalar"
 * @param kvCacheBytes memory of the paged KV cache
 * @param maxBatchTokens tokens one engine step runs at most
 * @param maxRunningSequences sequences decoding together at most
 */
public record InferenceSettings(String modelDir, int maxInFlight, int threads, String kernels, long kvCacheBytes,
    int maxBatchTokens, int maxRunningSequences) implements Serializable {

  public InferenceSettings {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, found " + maxInFlight);
    }
    engineOptions(threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences);
  }

  public EngineOptions engineOptions() {
    return engineOptions(threads, kernels, kvCacheBytes, maxBatchTokens, maxRunningSequences);
  }

  private static EngineOptions engineOptions(int threads, String kernels, long kvCacheBytes, int maxBatchTokens,
      int maxRunningSequences) {
    return EngineOptions.defaults().withThreads(threads).withKernels(kernels).withKvCacheBytes(kvCacheBytes)
        .withMaxBatchTokens(maxBatchTokens).withMaxRunningSequences(maxRunningSequences);
  }
}
