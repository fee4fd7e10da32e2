package io.moestream.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan's weight and KV figures of small configs, computed by hand from the tensor shapes. */
class MemoryPlanTest {
  @TempDir Path tmp;

  /**
   * Qwen3-MoE, F32: hidden 64, 2 layers, 4 query heads and 2 KV heads of 16, 8 experts of 32, vocab 512,
   * untied LM head, per-head q/k norms.
   */
  @Test
  void qwen3MoeF32ByHand() throws Exception {
    MemoryPlan plan = plan(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 2, 32),
        new EngineOptions(2, "vector", 1 << 20, 16, 64, 8));
    WeightBytes w = plan.weights();
    assertEquals(2L * 512 * 64 * 4, w.mapped(WeightKind.EMBEDDINGS_AND_LM_HEAD));
    // q (64x64) + k (32x64) + v (32x64) + o (64x64) + q_norm (16) + k_norm (16), per layer
    assertEquals(2L * (64 * 64 + 32 * 64 + 32 * 64 + 64 * 64 + 16 + 16) * 4, w.mapped(WeightKind.ATTENTION));
    assertEquals(2L * 8 * 3 * 32 * 64 * 4, w.mapped(WeightKind.ROUTED_EXPERTS));
    assertEquals(2L * 8 * 64 * 4, w.mapped(WeightKind.ROUTERS));
    assertEquals(0, w.mapped(WeightKind.SHARED_AND_DENSE_MLP));
    assertEquals((2L * 2 * 64 + 64) * 4, w.mapped(WeightKind.NORMS_AND_OTHER)); // two layer norms per layer, the final
    // copied to the heap as float32: every norm weight (q/k norms too)
    assertEquals((2L * (2 * 64 + 16 + 16) + 64) * 4, w.heapCopiedBytes());
    // (2 KV heads x 16) keys + as many values, 2 layers, float32
    assertEquals((32 + 32) * 4, plan.kvBytesPerTokenPerLayer());
    assertEquals(2 * (32 + 32) * 4, plan.kvBytesPerToken());
    // 1 MiB / (512 B per token x 16 tokens per block) = 128 blocks; the cache is exactly 1 MiB
    assertEquals(128, plan.kvBlocks());
    assertEquals(1L << 20, plan.kvCacheBytes());
  }

  /**
   * gpt-oss, 4 layers alternating window 4 and full attention: the windowed pool gets 8 running sequences
   * x ceil((4 + 64 - 2) / 16) + 1 = 6 blocks = 48 blocks, the full-attention pool the rest of the budget,
   * more than every layer would get without windows; the cache stays within the budget.
   */
  @Test
  void slidingWindowLayersLeaveTheirShareToFullAttention() throws Exception {
    MemoryPlan plan = plan(TestModelSpec.defaults(Architecture.GPT_OSS).withNumLayers(4),
        new EngineOptions(2, "vector", 1 << 20, 16, 64, 8));
    ModelConfig config = plan.config();
    assertEquals(4, config.slidingWindow(0));
    assertEquals(0, config.slidingWindow(1));
    long blockBytesPerLayer = 16L * (config.kvKeyWidth() + config.kvValueWidth()) * Float.BYTES;
    int unwindowed = (int) ((1L << 20) / (4 * blockBytesPerLayer));
    assertEquals(List.of(0, 4), Arrays.stream(plan.kvLayout().poolWindow()).boxed().toList());
    assertEquals(Math.min(unwindowed, 48), plan.kvLayout().poolBlocks()[1]);
    int full = (int) (((1L << 20) - 2L * Math.min(unwindowed, 48) * blockBytesPerLayer) / (2 * blockBytesPerLayer));
    assertEquals(full, plan.kvBlocks());
    assertTrue(plan.kvBlocks() > unwindowed, plan.kvBlocks() + " vs " + unwindowed);
    assertTrue(plan.kvCacheBytes() <= 1L << 20);
    assertEquals((2L * full + 2L * Math.min(unwindowed, 48)) * blockBytesPerLayer, plan.kvCacheBytes());
  }

  /** BF16 halves every mapped weight; what is copied to the heap stays float32. */
  @Test
  void bf16MapsHalfTheBytes() throws Exception {
    EngineOptions options = new EngineOptions(2, "vector", 1 << 20, 16, 64, 8);
    TestModelSpec spec = TestModelSpec.defaults(Architecture.QWEN3_MOE);
    MemoryPlan f32 = plan(spec, options);
    MemoryPlan bf16 = plan(spec.withDType(io.moestream.engine.format.DType.BF16), options);
    assertEquals(f32.weights().mappedBytes() / 2, bf16.weights().mappedBytes());
    assertEquals(f32.weights().heapCopiedBytes(), bf16.weights().heapCopiedBytes());
    assertEquals(f32.weights().deviceBytes(), bf16.weights().deviceBytes());
  }

  /**
   * DeepSeek-V2-like (multi-head latent attention): the cache holds kv_lora_rank + qk_rope_head_dim floats
   * per layer and token, no values: (32 + 8) x 3 layers x 4 bytes.
   */
  @Test
  void latentCacheOfDeepseek() throws Exception {
    MemoryPlan plan = plan(TestModelSpec.defaults(Architecture.DEEPSEEK_V2), new EngineOptions(1, "vector", 1 << 20,
        16, 32, 8));
    assertEquals(40, plan.kvKeyFloats());
    assertEquals(0, plan.kvValueFloats());
    assertEquals(3L * 40 * 4, plan.kvBytesPerToken());
    assertEquals(true, plan.kvLayerKind().contains("latent"));
    // shared experts and the dense first layer are their own kind
    assertEquals(true, plan.weights().mapped(WeightKind.SHARED_AND_DENSE_MLP) > 0);
  }

  /** The step scratch grows with the batch; heap = copied weights + KV cache + scratch; RAM = mapped + heap. */
  @Test
  void totals() throws Exception {
    TestModelSpec spec = TestModelSpec.defaults(Architecture.QWEN3_MOE);
    MemoryPlan small = plan(spec, new EngineOptions(1, "vector", 1 << 20, 16, 16, 8));
    MemoryPlan large = plan(spec, new EngineOptions(1, "vector", 1 << 20, 16, 256, 8));
    assertEquals(true, large.scratch().totalBytes() > 8 * small.scratch().totalBytes());
    assertEquals(small.weights().heapCopiedBytes() + small.kvCacheBytes() + small.scratch().totalBytes(),
        small.heapBytes());
    assertEquals(small.weights().mappedBytes() + small.heapBytes(), small.ramBytes());
  }

  private MemoryPlan plan(TestModelSpec spec, EngineOptions options) throws Exception {
    Path folder = tmp.resolve(spec.architecture().modelType() + "-" + spec.dtype());
    TestModelWriter.write(spec, folder);
    return MemoryPlan.of(ModelConfig.read(folder), Checkpoint.open(folder), options);
  }
}
