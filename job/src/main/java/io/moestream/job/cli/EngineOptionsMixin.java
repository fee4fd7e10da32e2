package io.moestream.job.cli;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.WeightsMode;
import picocli.CommandLine.Option;

/** Engine options shared by every command that loads a model. */
final class EngineOptionsMixin {
  @Option(names = "--threads", description = "CPU threads for the forward pass (default: all cores).")
  Integer threads;

  @Option(names = "--kernels", defaultValue = "vector",
      description = "CPU kernels: vector (Java Vector API) or scalar (plain reference). Default: ${DEFAULT-VALUE}.")
  String kernels;

  @Option(names = "--kv-cache-mb", defaultValue = "512",
      description = "Memory for the paged KV cache in MiB. Default: ${DEFAULT-VALUE}.")
  long kvCacheMb;

  @Option(names = "--max-batch-tokens", defaultValue = "512",
      description = "Tokens one step runs at most. Default: ${DEFAULT-VALUE}.")
  int maxBatchTokens;

  @Option(names = "--backend", defaultValue = "cpu",
      description = "cpu (default), auto (CUDA when a usable GPU is found, else the CPU; the log says which) or"
          + " cuda. The CUDA backend is not yet verified on a GPU (docs/CUDA.md)."
          + " Default: ${DEFAULT-VALUE}.")
  String backend;

  @Option(names = "--device", defaultValue = "0", description = "CUDA device index. Default: ${DEFAULT-VALUE}.")
  int deviceIndex;

  @Option(names = "--allow-weights-over-ram",
      description = "Load a model whose mapped weights and heap exceed the RAM (or the cgroup limit): its weights"
          + " then page from disk on every step. Without it such a model fails at once with the memory plan.")
  boolean allowWeightsOverRam;

  @Option(names = "--weights", defaultValue = "checkpoint",
      description = "checkpoint (default: as stored, read in place from the mapped files) or int8 (16- and 32-bit"
          + " projections quantized at load to ggml's Q8_0, held in memory; CPU backend only; docs/ENGINE.md)."
          + " Default: ${DEFAULT-VALUE}.")
  String weights;

  EngineOptions toOptions() {
    EngineOptions options = EngineOptions.defaults()
        .withKernels(kernels)
        .withKvCacheBytes(kvCacheMb << 20)
        .withMaxBatchTokens(maxBatchTokens)
        .withBackend(backend)
        .withDeviceIndex(deviceIndex)
        .withAllowWeightsOverRam(allowWeightsOverRam)
        .withWeights(WeightsMode.parse(weights, "--weights"));
    return threads == null ? options : options.withThreads(threads);
  }
}
