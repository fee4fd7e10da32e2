package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.backend.Backend;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.cuda.CudaProbe;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Backend selection on a machine without a usable GPU: auto runs on the CPU, cuda refuses with the reason; with
 * a probe that reports a device, a CUDA start that fails is an error under auto unless the fallback is allowed.
 */
class BackendSelectorTest {
  private static final EngineOptions OPTIONS = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20);

  @Test
  void autoFallsBackToTheCpu() {
    Assumptions.assumeFalse(CudaProbe.probe(0).available(), "a CUDA device is usable here");
    assertEquals("cpu", EngineOptions.defaults().backend(), "the CPU stays the default until CUDA is verified on a GPU");
    try (LoadedModel model = LoadedModel.load(TestModels.folder("qwen3moe-tiny-bf16"), OPTIONS.withBackend("auto"))) {
      assertTrue(model.backend().name().startsWith("cpu"), model.backend().name());
    }
  }

  @Test
  void cudaWithoutADeviceFailsWithTheReason() {
    Assumptions.assumeFalse(CudaProbe.probe(0).available(), "a CUDA device is usable here");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LoadedModel.load(TestModels.folder("qwen3moe-tiny-bf16"), OPTIONS.withBackend("cuda")));
    assertTrue(e.getMessage().contains("no CUDA device is usable"), e.getMessage());
  }

  @Test
  void cpuNeverProbes() {
    try (LoadedModel model = LoadedModel.load(TestModels.folder("qwen3moe-tiny-bf16"), OPTIONS.withBackend("cpu"))) {
      assertTrue(model.backend().name().startsWith("cpu"), model.backend().name());
    }
  }

  @Test
  void optionsNameTheBadValue() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.defaults().withBackend("gpu"));
    assertTrue(e.getMessage().contains("'gpu'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> EngineOptions.defaults().withDeviceIndex(-1));
    EngineOptions carried = EngineOptions.defaults().withBackend("cpu").withDeviceIndex(2).withThreads(3);
    assertEquals("cpu", carried.backend());
    assertEquals(2, carried.deviceIndex());
  }

  @Test
  void aGpuThatFailsToStartIsAnErrorUnlessTheFallbackIsAllowed() {
    ModelWeights weights = ModelWeights.load(TestModels.folder("qwen3moe-tiny-bf16"));
    PagedKvCache cache = CpuBackend.newKvCache(weights.config(), 16, 8);
    CudaProbe.Result found = new CudaProbe.Result(CudaProbe.Status.AVAILABLE, "1 device(s), using index 0");
    java.util.function.Supplier<Backend> failingStart = () -> {
      throw new IllegalStateException("CUDA_ERROR_OUT_OF_MEMORY");
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> BackendSelector.create(OPTIONS.withBackend("auto"), weights, cache, index -> found, failingStart));
    assertTrue(e.getMessage().contains("did not start") && e.getMessage().contains("--allow-cpu-fallback"),
        e.getMessage());
    try (Backend backend = BackendSelector.create(OPTIONS.withBackend("auto").withAllowCpuFallback(true), weights,
        cache, index -> found, failingStart)) {
      assertTrue(backend.name().startsWith("cpu"), backend.name());
    }
    assertThrows(IllegalStateException.class, () -> BackendSelector.create(
        OPTIONS.withBackend("cuda").withAllowCpuFallback(true), weights, cache, index -> found, failingStart));
  }

  @Test
  void autoOnAMachineWithoutAGpuNeedsNoFallbackOption() {
    ModelWeights weights = ModelWeights.load(TestModels.folder("qwen3moe-tiny-bf16"));
    PagedKvCache cache = CpuBackend.newKvCache(weights.config(), 16, 8);
    CudaProbe.Result none = new CudaProbe.Result(CudaProbe.Status.NO_DEVICE, "the CUDA driver reports no device");
    try (Backend backend = BackendSelector.create(OPTIONS.withBackend("auto"), weights, cache, index -> none,
        () -> {
          throw new AssertionError("no device: nothing to start");
        })) {
      assertTrue(backend.name().startsWith("cpu"), backend.name());
    }
  }
}
