package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelWeights;
import org.junit.jupiter.api.Test;

class DeviceMemoryPlanTest {
  private static final ModelWeights WEIGHTS = ModelWeights.load(TestModels.folder("qwen3moe-tiny-bf16"));

  @Test
  void weightsCountEveryMatrixAsBf16() {
    long matrices = 0;
    long matrixCount = 0;
    for (Matrix m : allMatrices(WEIGHTS)) {
      matrices += 2L * m.rows() * m.cols();
      matrixCount++;
    }
    long weightBytes = DeviceMemoryPlan.weightBytes(WEIGHTS);
    assertTrue(weightBytes >= matrices, weightBytes + " < " + matrices);
    // the rest is float32 norms/biases and 8-byte address tables: far less than the matrices in BF16
    assertTrue(weightBytes - matrices < matrices / 4 + 64 * matrixCount, weightBytes + " vs " + matrices);
  }

  @Test
  void kvAndScratchFollowTheCacheAndTheStepSize() {
    PagedKvCache cache = CpuBackend.newKvCache(WEIGHTS.config(), 16, 10);
    DeviceMemoryPlan plan = DeviceMemoryPlan.of(WEIGHTS, cache, 64);
    assertEquals(2L * cache.numLayers() * 10 * 16 * cache.keyWidth() * Float.BYTES, plan.kvCacheBytes());
    assertTrue(DeviceMemoryPlan.of(WEIGHTS, cache, 128).scratchBytes() > plan.scratchBytes());
    long logits = 64L * WEIGHTS.config().vocabSize() * Float.BYTES;
    assertTrue(plan.scratchBytes() > logits, "the logits of every token are in the scratch");
    assertEquals(plan.weightBytes() + plan.kvCacheBytes() + plan.scratchBytes() + DeviceMemoryPlan.RESERVE_BYTES,
        plan.totalBytes());
  }

  @Test
  void theShortfallNamesTheModelTheDeviceAndBothNumbers() {
    DeviceMemoryPlan plan = new DeviceMemoryPlan(60L << 30, 8L << 30, 1L << 30, 512L << 20);
    assertNull(plan.shortfall(80L << 30, 80L << 30, "qwen3_moe", "cuda:0"));
    String message = plan.shortfall(40L << 30, 80L << 30, "qwen3_moe model (30532M parameters)",
        "cuda:1 NVIDIA H100 80GB HBM3");
    assertTrue(message.contains("qwen3_moe model (30532M parameters)"), message);
    assertTrue(message.contains("cuda:1 NVIDIA H100 80GB HBM3"), message);
    assertTrue(message.contains("needs " + (plan.totalBytes() >> 20) + " MiB"), message);
    assertTrue(message.contains((40L << 30 >> 20) + " MiB (" + (40L << 30) + " bytes) free"), message);
    assertTrue(message.contains("--kv-cache-mb"), message);
  }

  private static java.util.List<Matrix> allMatrices(ModelWeights w) {
    java.util.List<Matrix> out = new java.util.ArrayList<>();
    out.add(w.embedTokens());
    if (w.lmHead() != w.embedTokens()) {
      out.add(w.lmHead());
    }
    for (LayerWeights layer : w.layers()) {
      out.add(layer.attention().qProj());
      out.add(layer.attention().kProj());
      out.add(layer.attention().vProj());
      out.add(layer.attention().oProj());
      if (layer.moe() != null) {
        out.add(layer.moe().router());
        for (ExpertWeights e : layer.moe().experts()) {
          out.add(e.gateProj());
          out.add(e.upProj());
          out.add(e.downProj());
        }
      }
      if (layer.denseMlp() != null) {
        out.add(layer.denseMlp().gateProj());
        out.add(layer.denseMlp().upProj());
        out.add(layer.denseMlp().downProj());
      }
    }
    return out;
  }
}
