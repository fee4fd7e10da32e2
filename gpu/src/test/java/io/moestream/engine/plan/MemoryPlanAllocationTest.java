package io.moestream.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.cpu.StepScratchSizes;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The plan states what the engine then allocates: a real engine is built on a small model of each
 * attention and MLP kind and runs one step of the configured max batch tokens, every token returning
 * logits (the plan's worst case); the KV cache's arrays, the weights copied to the heap and the step's
 * metered activation buffers must equal the plan's figures to the byte.
 */
class MemoryPlanAllocationTest {
  @TempDir Path tmp;

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of("qwen3_moe f32", TestModelSpec.defaults(Architecture.QWEN3_MOE)),
        Arguments.of("qwen3_moe bf16", TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.BF16)),
        Arguments.of("qwen3_moe fp8", TestModelSpec.defaults(Architecture.QWEN3_MOE).withFp8Block(16)),
        Arguments.of("qwen2_moe shared expert + dense layer",
            TestModelSpec.defaults(Architecture.QWEN2_MOE).withNumLayers(3).withDenseLayers(96, 2)),
        Arguments.of("mixtral", TestModelSpec.defaults(Architecture.MIXTRAL)),
        Arguments.of("deepseek_v2 (MLA, q_proj, dense first layer)", TestModelSpec.defaults(Architecture.DEEPSEEK_V2)),
        Arguments.of("deepseek_v3 (MLA, q_lora, noaux_tc)", TestModelSpec.defaults(Architecture.DEEPSEEK_V3)),
        Arguments.of("deepseek_v3 fp8", TestModelSpec.defaults(Architecture.DEEPSEEK_V3)
            .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V3).withFp8(true))),
        Arguments.of("glm4_moe (partial rotary, shared expert, dense first layer)",
            TestModelSpec.defaults(Architecture.GLM4_MOE)),
        Arguments.of("gpt_oss bf16 (sinks, window, stacked transposed experts with biases)",
            TestModelSpec.defaults(Architecture.GPT_OSS).withDType(DType.BF16)),
        Arguments.of("gpt_oss mxfp4", TestModelSpec.defaults(Architecture.GPT_OSS)
            .withGptOss(io.moestream.engine.testmodel.GptOssSpec.defaults().withMxfp4(true))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void planEqualsWhatTheEngineAllocates(String name, TestModelSpec spec) throws Exception {
    Path folder = tmp.resolve("model");
    TestModelWriter.write(spec, folder);
    int maxBatchTokens = 40; // not a multiple of the kernels' 4-token tile or the 16-token block
    EngineOptions options = new EngineOptions(1, "vector", 1 << 20, 16, maxBatchTokens, 8);
    ModelConfig config = ModelConfig.read(folder);
    MemoryPlan plan = MemoryPlan.of(config, Checkpoint.open(folder), options);

    try (LoadedModel loaded = LoadedModel.load(folder, options)) {
      assertEquals(plan.kvCacheBytes(), loaded.backend().kvCache().allocatedBytes(), "KV cache bytes");
      assertEquals((long) plan.kvBlocks(), loaded.backend().kvCache().numBlocks(), "KV cache blocks");
      assertEquals(config.kvCacheBytesPerToken(), plan.kvBytesPerToken(), "KV bytes per token");
      assertEquals(plan.weights().heapCopiedBytes(), loaded.weights().heapBytes(), "weights copied to the heap");

      int[] tokens = new int[maxBatchTokens];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = (i * 37 + 5) % (config.vocabSize() - 2);
      }
      loaded.logits(tokens, loaded.expertsPerLayer(0), true); // one step of maxBatchTokens tokens, all logits
      CpuBackend backend = (CpuBackend) loaded.backend();
      for (StepScratchSizes.Part part : StepScratchSizes.Part.values()) {
        assertEquals(plan.scratch().meteredByPart().get(part), backend.peakStepScratchBytes(part),
            "step scratch of " + part + " metered in the forward pass");
      }
      assertEquals(plan.scratch().meteredBytes(), backend.peakStepScratchBytes(), "step scratch at its peak");
      assertTrue(plan.scratch().perThreadBytes() > 0, "per-thread rows are bounded, not left out");
    }
  }
}
