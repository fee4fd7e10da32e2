package io.moestream.engine.generate;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.cuda.CudaBackend;
import io.moestream.engine.cuda.CudaProbe;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelWeights;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the backend named by {@link EngineOptions#backend()}, by the rules of {@link BackendChoice}:
 * <ul>
 *   <li>{@code cpu}: the CPU backend, no probing;
 *   <li>{@code cuda}: the CUDA backend on {@link EngineOptions#deviceIndex()}; fails with the reason when no
 *       device is usable, the model has no CUDA kernels yet or the backend does not start;
 *   <li>{@code auto}: CUDA when a device is usable and the model is supported; the CPU when this machine has
 *       no GPU; an error when a GPU is here but unusable, the model unsupported or the start failed, unless
 *       {@link EngineOptions#allowCpuFallback()} (then the CPU, with a warning). Logged either way.
 * </ul>
 * Probing never crashes the JVM: missing native libraries come back as a reason (see {@link CudaProbe}).
 */
public final class BackendSelector {
  private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);

  private BackendSelector() {}

  public static Backend create(EngineOptions options, ModelWeights weights, PagedKvCache cache) {
    return create(options, weights, cache, CudaProbe::probe,
        () -> new CudaBackend(weights, options.deviceIndex(), cache, false, options.maxBatchTokens()));
  }

  /**
   * @param probe the device probe (tests pass a found or failed device)
   * @param startCuda starts the CUDA backend (tests pass one that fails)
   */
  static Backend create(EngineOptions options, ModelWeights weights, PagedKvCache cache,
      IntFunction<CudaProbe.Result> probe, Supplier<Backend> startCuda) {
    String backend = options.backend();
    boolean fallback = options.allowCpuFallback();
    CudaProbe.Result found = backend.equals("cpu") ? null : probe.apply(options.deviceIndex());
    String unsupported = found == null || !found.available() ? null : CudaBackend.unsupportedReason(weights.config());
    BackendChoice choice = BackendChoice.beforeStart(backend, fallback, found, unsupported);
    if (choice.kind() == BackendChoice.Kind.CUDA) {
      try {
        Backend cuda = startCuda.get();
        LOG.info("{}: using the CUDA backend {}", choice.message(), cuda.name());
        return cuda;
      } catch (RuntimeException | LinkageError e) {
        choice = BackendChoice.afterStartFailure(backend, fallback, e);
        if (choice.kind() == BackendChoice.Kind.ERROR) {
          throw new IllegalStateException(choice.message(), e);
        }
      }
    }
    if (choice.kind() == BackendChoice.Kind.ERROR) {
      throw new IllegalStateException(choice.message());
    }
    if (backend.equals("cpu")) {
      LOG.debug(choice.message());
    } else if (found.status() == CudaProbe.Status.NO_DEVICE) {
      LOG.info(choice.message());
    } else {
      LOG.warn(choice.message()); // the fallback was allowed, but a GPU sits idle
    }
    return new CpuBackend(weights, Kernels.named(options.kernels()), options.threads(), cache);
  }
}
