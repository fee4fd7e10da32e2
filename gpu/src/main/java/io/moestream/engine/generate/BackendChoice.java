package io.moestream.engine.generate;

import io.moestream.engine.cuda.CudaProbe;

/**
 * Which backend to run, decided from what was found: {@link BackendSelector}'s rules as a pure function,
 * so each case is tested without a GPU. The CPU fallback is never silent: under {@code auto} a GPU that
 * is here but cannot run the model is an error unless {@link EngineOptions#allowCpuFallback()} says the
 * CPU is acceptable; with no GPU at all {@code auto} means the CPU.
 *
 * @param kind what to do
 * @param message the log line (CPU or CUDA) or the error's message (ERROR); never null
 */
public record BackendChoice(Kind kind, String message) {
  public enum Kind { CPU, CUDA, ERROR }

  /** How to allow the fallback, in every spelling a user may meet. */
  static final String FALLBACK_HINT = "--allow-cpu-fallback (job: model.allow_cpu_fallback: true)";

  /**
   * Before the CUDA backend is started.
   *
   * @param backend "cpu", "auto" or "cuda"
   * @param probe what the probe found; null for "cpu" (nothing is probed)
   * @param unsupported why the CUDA kernels cannot run this model ({@code CudaBackend.unsupportedReason}), or null
   * @return CPU, ERROR, or CUDA meaning "start the CUDA backend" (its failure goes to {@link #afterStartFailure})
   */
  public static BackendChoice beforeStart(String backend, boolean allowCpuFallback, CudaProbe.Result probe,
      String unsupported) {
    if (backend.equals("cpu")) {
      return new BackendChoice(Kind.CPU, "backend=cpu: using the CPU backend");
    }
    boolean auto = backend.equals("auto");
    switch (probe.status()) {
      case NO_DEVICE -> {
        return auto
            ? new BackendChoice(Kind.CPU, "backend=auto: no CUDA device here (" + probe.detail() + "): using the CPU backend")
            : new BackendChoice(Kind.ERROR, "backend=cuda, but no CUDA device is usable: " + probe.detail()
                + " (use backend auto or cpu to run on the CPU)");
      }
      case FAILED -> {
        return refuse(backend, allowCpuFallback, "a CUDA device is unusable: " + probe.detail());
      }
      default -> {
        if (unsupported != null) {
          return refuse(backend, allowCpuFallback, "CUDA device found (" + probe.detail() + "), but " + unsupported);
        }
        return new BackendChoice(Kind.CUDA, "CUDA device found (" + probe.detail() + ")");
      }
    }
  }

  /** After the CUDA backend failed to start with {@code failure} (backend "auto" or "cuda"). */
  public static BackendChoice afterStartFailure(String backend, boolean allowCpuFallback, Throwable failure) {
    return refuse(backend, allowCpuFallback, "the CUDA backend did not start: " + failure);
  }

  /**
   * A GPU is here but cannot serve: {@code cuda} always fails; {@code auto} fails unless the fallback is
   * allowed, since a GPU TaskManager silently decoding on its CPU is orders of magnitude slower.
   */
  private static BackendChoice refuse(String backend, boolean allowCpuFallback, String what) {
    if (backend.equals("cuda")) {
      return new BackendChoice(Kind.ERROR, "backend=cuda: " + what + " (use backend cpu to run on the CPU)");
    }
    if (allowCpuFallback) {
      return new BackendChoice(Kind.CPU, "backend=auto: " + what + "; the CPU fallback is allowed: using the CPU backend");
    }
    return new BackendChoice(Kind.ERROR, "backend=auto: " + what + ". Refusing to fall back to the CPU silently: set "
        + FALLBACK_HINT + " to run on the CPU instead, or backend cpu");
  }
}
