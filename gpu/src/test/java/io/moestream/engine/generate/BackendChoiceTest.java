package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.cuda.CudaProbe;
import io.moestream.engine.cuda.CudaProbe.Status;
import io.moestream.engine.generate.BackendChoice.Kind;
import org.junit.jupiter.api.Test;

/** Every case of the backend decision: (backend, probe, support, start failure, fallback allowed) -> choice. */
class BackendChoiceTest {
  private static final CudaProbe.Result FOUND = new CudaProbe.Result(Status.AVAILABLE, "1 device(s), using index 0");
  private static final CudaProbe.Result NONE = new CudaProbe.Result(Status.NO_DEVICE,
      "the CUDA driver library (libcuda.so.1) or JCuda's native library did not load: libcuda.so.1: cannot open");
  private static final CudaProbe.Result BROKEN = new CudaProbe.Result(Status.FAILED,
      "the CUDA driver failed: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH");
  private static final String UNSUPPORTED = "deepseek_v3: multi-head latent attention has no CUDA kernels yet";

  @Test
  void cpuIsTheCpuWhateverElse() {
    assertEquals(Kind.CPU, BackendChoice.beforeStart("cpu", false, null, null).kind());
  }

  @Test
  void autoWithoutAnyGpuIsTheCpuWithTheReason() {
    for (boolean fallback : new boolean[] {false, true}) {
      BackendChoice choice = BackendChoice.beforeStart("auto", fallback, NONE, null);
      assertEquals(Kind.CPU, choice.kind());
      assertTrue(choice.message().contains("libcuda.so.1"), choice.message());
    }
  }

  @Test
  void autoWithAUsableGpuAndASupportedModelStartsCuda() {
    assertEquals(Kind.CUDA, BackendChoice.beforeStart("auto", false, FOUND, null).kind());
    assertEquals(Kind.CUDA, BackendChoice.beforeStart("cuda", false, FOUND, null).kind());
  }

  @Test
  void autoWithAGpuThatCannotServeIsAnErrorThatSaysHowToAllowTheFallback() {
    BackendChoice unsupported = BackendChoice.beforeStart("auto", false, FOUND, UNSUPPORTED);
    BackendChoice broken = BackendChoice.beforeStart("auto", false, BROKEN, null);
    BackendChoice failed = BackendChoice.afterStartFailure("auto", false,
        new IllegalStateException("CUDA_ERROR_OUT_OF_MEMORY"));
    for (BackendChoice choice : new BackendChoice[] {unsupported, broken, failed}) {
      assertEquals(Kind.ERROR, choice.kind(), choice.message());
      assertTrue(choice.message().contains("--allow-cpu-fallback")
          && choice.message().contains("model.allow_cpu_fallback: true"), choice.message());
    }
    assertTrue(unsupported.message().contains(UNSUPPORTED), unsupported.message());
    assertTrue(broken.message().contains("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"), broken.message());
    assertTrue(failed.message().contains("did not start") && failed.message().contains("CUDA_ERROR_OUT_OF_MEMORY"),
        failed.message());
  }

  @Test
  void autoWithTheFallbackAllowedRunsOnTheCpuAndSaysWhy() {
    BackendChoice unsupported = BackendChoice.beforeStart("auto", true, FOUND, UNSUPPORTED);
    BackendChoice broken = BackendChoice.beforeStart("auto", true, BROKEN, null);
    BackendChoice failed = BackendChoice.afterStartFailure("auto", true, new IllegalStateException("boom"));
    for (BackendChoice choice : new BackendChoice[] {unsupported, broken, failed}) {
      assertEquals(Kind.CPU, choice.kind(), choice.message());
      assertTrue(choice.message().contains("fallback is allowed"), choice.message());
    }
  }

  @Test
  void cudaNeverFallsBackEvenWhenAllowed() {
    assertEquals(Kind.ERROR, BackendChoice.beforeStart("cuda", true, NONE, null).kind());
    assertEquals(Kind.ERROR, BackendChoice.beforeStart("cuda", true, BROKEN, null).kind());
    assertEquals(Kind.ERROR, BackendChoice.beforeStart("cuda", true, FOUND, UNSUPPORTED).kind());
    assertEquals(Kind.ERROR, BackendChoice.afterStartFailure("cuda", true, new IllegalStateException("x")).kind());
    assertTrue(BackendChoice.beforeStart("cuda", false, NONE, null).message().contains("no CUDA device is usable"));
  }
}
