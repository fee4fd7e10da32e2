package io.moestream.job.cli;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.WeightsMode;
import picocli.CommandLine.Option;

/** Engine options shared by every command that loads a model. */
final class EngineOptionsMixin {
  @Option(names = "--threads", paramLabel = "<n>",
      description = "CPU threads for the forward pass (default: all cores).")
  Integer threads;

  @Option(names = "--kernels", defaultValue = "auto", paramLabel = "<kernels>",
      description = "CPU kernels: auto (native kernels where they load, else vector), native, amx (BF16 "
          + "or, with int8 weights, Q8_0 activations on AMX tiles: faster at batch 16+ and prefill, results close to but not bitwise the others'), "
          + "avx512bf16 (BF16 activations by AVX512_BF16 dot products, for CPUs without AMX such as AMD Zen 4: the same "
          + "trade; int8 weights stay exact), vector (Java Vector API) or scalar (plain reference). Default: ${DEFAULT-VALUE}.")
  String kernels;

  @Option(names = "--kv-cache-mb", defaultValue = "512", paramLabel = "<n>",
      description = "Memory for the paged KV cache in MiB. Default: ${DEFAULT-VALUE}.")
  long kvCacheMb;

  @Option(names = "--max-batch-tokens", defaultValue = "512", paramLabel = "<n>",
      description = "Tokens one step runs at most. Default: ${DEFAULT-VALUE}.")
  int maxBatchTokens;

  @Option(names = "--backend", defaultValue = "cpu", paramLabel = "<backend>",
      description = "cpu, auto (CUDA when a usable GPU is found, the CPU when the machine has none; a GPU that"
          + " cannot run the model is an error unless --allow-cpu-fallback; the log says which) or cuda. The CUDA"
          + " backend is not yet verified on a GPU (docs/CUDA.md). Default: ${DEFAULT-VALUE}.")
  String backend;

  @Option(names = "--device", defaultValue = "0", paramLabel = "<n>",
      description = "CUDA device index. Default: ${DEFAULT-VALUE}.")
  int deviceIndex;

  @Option(names = "--allow-weights-over-ram",
      description = "Load a model whose mapped weights and heap exceed the RAM (or the cgroup limit): its weights"
          + " then page from disk on every step. Without it such a model fails at once with the memory plan.")
  boolean allowWeightsOverRam;

  @Option(names = "--allow-cpu-fallback",
      description = "With --backend auto: run on the CPU (with a warning) when a GPU is present but unusable, the"
          + " model has no CUDA kernels or the CUDA backend fails to start. Without it those are errors; a machine"
          + " without any GPU runs on the CPU either way.")
  boolean allowCpuFallback;

  @Option(names = "--weights", defaultValue = "checkpoint", paramLabel = "<mode>",
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
        .withAllowCpuFallback(allowCpuFallback)
        .withWeights(WeightsMode.parse(weights, "--weights"));
    return threads == null ? options : options.withThreads(threads);
  }
}
