package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.cuda.CudaProbe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Backend selection on a machine without a usable GPU: auto falls back, cuda refuses with the reason. */
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
}
