package io.moestream.engine.generate;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.cuda.CudaBackend;
import io.moestream.engine.cuda.CudaProbe;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the backend named by {@link EngineOptions#backend()}:
 * <ul>
 *   <li>{@code cpu}: the CPU backend, no probing;
 *   <li>{@code cuda}: the CUDA backend on {@link EngineOptions#deviceIndex()}; fails with the reason when no
 *       device is usable (no libcuda.so.1, no device, JCuda missing) or the model has no CUDA kernels yet;
 *   <li>{@code auto}: CUDA when a device is usable and the model is supported, else the CPU; the choice
 *       and its reason are logged either way.
 * </ul>
 * Probing never crashes the JVM: missing native libraries come back as a reason (see {@link CudaProbe}).
 */
public final class BackendSelector {
  private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);

  private BackendSelector() {}

  public static Backend create(EngineOptions options, ModelWeights weights, PagedKvCache cache) {
    return switch (options.backend()) {
      case "cpu" -> cpu(options, weights, cache);
      case "cuda" -> cuda(options, weights, cache);
      default -> auto(options, weights, cache);
    };
  }

  private static Backend cpu(EngineOptions options, ModelWeights weights, PagedKvCache cache) {
    return new CpuBackend(weights, Kernels.named(options.kernels()), options.threads(), cache);
  }

  private static Backend cuda(EngineOptions options, ModelWeights weights, PagedKvCache cache) {
    CudaProbe.Result probe = CudaProbe.probe(options.deviceIndex());
    if (!probe.available()) {
      throw new IllegalStateException("backend=cuda, but no CUDA device is usable: " + probe.detail()
          + " (use backend auto to fall back to the CPU, or cpu)");
    }
    String unsupported = CudaBackend.unsupportedReason(weights.config());
    if (unsupported != null) {
      throw new UnsupportedOperationException("backend=cuda: " + unsupported + " (use backend cpu)");
    }
    Backend backend = new CudaBackend(weights, options.deviceIndex(), cache, false);
    LOG.info("using the CUDA backend: {}", backend.name());
    return backend;
  }

  private static Backend auto(EngineOptions options, ModelWeights weights, PagedKvCache cache) {
    CudaProbe.Result probe = CudaProbe.probe(options.deviceIndex());
    if (!probe.available()) {
      LOG.info("no CUDA device found ({}): using the CPU backend", probe.detail());
      return cpu(options, weights, cache);
    }
    String unsupported = CudaBackend.unsupportedReason(weights.config());
    if (unsupported != null) {
      LOG.info("CUDA device found, but {}: using the CPU backend", unsupported);
      return cpu(options, weights, cache);
    }
    try {
      Backend backend = new CudaBackend(weights, options.deviceIndex(), cache, false);
      LOG.info("CUDA device found ({}): using the CUDA backend {}", probe.detail(), backend.name());
      return backend;
    } catch (RuntimeException e) {
      LOG.warn("CUDA device found, but the CUDA backend did not start ({}): using the CPU backend", e.toString());
      return cpu(options, weights, cache);
    }
  }
}
