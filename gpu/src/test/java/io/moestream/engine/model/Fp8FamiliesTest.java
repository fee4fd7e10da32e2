package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.CheckpointException;
import io.moestream.engine.format.DType;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantization_config} on the non-DeepSeek families (the Qwen3 FP8 releases' scheme): the
 * checkpoint says which weights are FP8, any block size, and clear errors for other methods. Numerics
 * against the float64 reference are in {@code ArchitecturesTest}.
 */
class Fp8FamiliesTest {
  @TempDir
  Path dir;

  private Path qwen3Fp8(int block) throws Exception {
    Path folder = dir.resolve("qwen3-fp8-" + block);
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.BF16).withFp8Block(block),
        folder);
    return folder;
  }

  @Test
  void theCheckpointSaysWhichWeightsAreFp8() throws Exception {
    Path folder = qwen3Fp8(32);
    ModelConfig config = ModelConfig.read(folder);
    assertArrayEquals(new int[] {32, 32}, config.fp8WeightBlock());
    ModelWeights weights = ModelWeights.load(config, Checkpoint.open(folder));
    LayerWeights layer = weights.layers()[0];
    assertEquals(DType.F8_E4M3, layer.attention().qProj().dtype());
    assertEquals(DType.F8_E4M3, layer.moe().experts()[3].downProj().dtype());
    assertEquals(DType.BF16, layer.moe().router().dtype());
    assertEquals(DType.BF16, weights.embedTokens().dtype());
    assertEquals(DType.BF16, weights.lmHead().dtype());
  }

  @Test
  void modulesLeftUnquantizedNeedOnlyAWellFormedList() throws Exception {
    Path folder = qwen3Fp8(128);
    ModelFolderEdits.editConfig(folder, c -> ((ObjectNode) c.get(
        "quantization_config")).putArray("modules_to_not_convert").add("lm_head").add("model.layers.0.mlp.gate"));
    ModelWeights.load(ModelConfig.read(folder), Checkpoint.open(folder));
    ModelFolderEdits.editConfig(folder, c -> ((ObjectNode) c.get(
        "quantization_config")).put("ignored_layers", "lm_head"));
    ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.read(folder));
    assertTrue(e.getMessage().contains("quantization_config.ignored_layers must be a list"), e.getMessage());
  }

  @Test
  void otherQuantMethodsAreRefusedByName() throws Exception {
    Path folder = qwen3Fp8(128);
    for (String method : new String[] {"awq", "gptq", "mxfp4", "compressed-tensors", "bitsandbytes"}) {
      ModelFolderEdits.editConfig(folder, c -> ((ObjectNode) c.get(
          "quantization_config")).put("quant_method", method));
      ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.read(folder));
      assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("quant_method '" + method + "'")
          && e.getMessage().contains("supported: fp8"), e.getMessage());
    }
  }

  @Test
  void blockScalesMustBeGivenAndMatchTheConfig() throws Exception {
    Path folder = qwen3Fp8(32);
    ModelFolderEdits.editConfig(folder, c -> ((ObjectNode) c.get(
        "quantization_config")).remove("weight_block_size"));
    ConfigException missing = assertThrows(ConfigException.class, () -> ModelConfig.read(folder));
    assertTrue(missing.getMessage().contains("weight_block_size"), missing.getMessage());
    // scales written for 32 x 32 blocks do not fit a config that says 64 x 64
    ModelFolderEdits.editConfig(folder, c -> ((ObjectNode) c.get(
        "quantization_config")).putArray("weight_block_size").add(64).add(64));
    CheckpointException shapes = assertThrows(CheckpointException.class,
        () -> ModelWeights.load(ModelConfig.read(folder), Checkpoint.open(folder)));
    assertTrue(shapes.getMessage().contains("weight_scale_inv' has shape [2, 2], expected [1, 1]"),
        shapes.getMessage());
  }
}
