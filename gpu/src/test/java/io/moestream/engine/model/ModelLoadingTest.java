package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.format.CheckpointException;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsFile;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.format.TensorData;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading a model folder: every way it can be wrong gives an error that names the file, the tensor or
 * field and the bad value; a sharded checkpoint loads to the same logits as a single file.
 */
class ModelLoadingTest {
  private static final EngineOptions OPTIONS = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(1 << 20);
  private static final String LAYER0_Q = "model.layers.0.self_attn.q_proj.weight";

  @TempDir
  Path dir;

  private Path model(String name) throws IOException {
    Path folder = dir.resolve(name);
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.BF16), folder);
    return folder;
  }

  private static RuntimeException loadFails(Path folder) {
    return assertThrows(RuntimeException.class, () -> LoadedModel.load(folder, OPTIONS).close());
  }

  // ---- tensors --------------------------------------------------------------------------------

  @Test
  void aMissingTensorIsNamedWithItsExpectedShape() throws IOException {
    Path folder = model("missing");
    ModelFolderEdits.rewriteTensors(folder, (t, out) -> {
      if (!t.name().equals(LAYER0_Q)) {
        ModelFolderEdits.copy(t, out);
      }
    }, out -> { });
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("missing tensor '" + LAYER0_Q + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("[64, 64]"), e.getMessage());
  }

  @Test
  void aTensorOfTheWrongShapeNamesFileTensorAndBothShapes() throws IOException {
    Path folder = model("shape");
    ModelFolderEdits.rewriteTensors(folder, (t, out) -> {
      if (t.name().equals(LAYER0_Q)) {
        out.add(t.name(), t.dtype(), new long[] {32, 128}, t.toFloatArray());
      } else {
        ModelFolderEdits.copy(t, out);
      }
    }, out -> { });
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    String m = e.getMessage();
    assertTrue(m.contains(folder.resolve("model.safetensors").toString()), m);
    assertTrue(m.contains("'" + LAYER0_Q + "'") && m.contains("[32, 128]") && m.contains("expected [64, 64]"), m);
  }

  @Test
  void anIntegerTensorIsRejectedWithItsDtype() throws IOException {
    Path folder = model("dtype");
    String norm = "model.layers.1.post_attention_layernorm.weight";
    ModelFolderEdits.rewriteTensors(folder, (t, out) -> {
      if (t.name().equals(norm)) {
        out.addRaw(t.name(), DType.I64, t.shape(), new byte[(int) t.numElements() * 8]);
      } else {
        ModelFolderEdits.copy(t, out);
      }
    }, out -> { });
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("'" + norm + "'") && e.getMessage().contains("I64"), e.getMessage());
  }

  @Test
  void severalProblemsAreReportedTogether() throws IOException {
    Path folder = model("several");
    ModelFolderEdits.rewriteTensors(folder, (t, out) -> {
      if (!t.name().startsWith("model.layers.1.mlp.experts.3.")) {
        ModelFolderEdits.copy(t, out);
      }
    }, out -> { });
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("3 problems"), e.getMessage());
    assertTrue(e.getMessage().contains("experts.3.down_proj"), e.getMessage());
  }

  @Test
  void aTruncatedCheckpointIsReported() throws IOException {
    Path folder = model("truncated");
    Path file = folder.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 10));
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("lm_head.weight"), "names the last tensor: " + e.getMessage());
  }

  @Test
  void aBadHeaderLengthIsReported() throws IOException {
    Path folder = model("header");
    Path file = folder.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    bytes[7] = 0x40; // header length ~ 2^62
    Files.write(file, bytes);
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("header length") && e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void aFolderWithoutWeightsIsReported() throws IOException {
    Path folder = model("noweights");
    Files.delete(folder.resolve("model.safetensors"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("index.json"), e.getMessage());
  }

  // ---- config.json ----------------------------------------------------------------------------

  @Test
  void anUnknownModelTypeListsTheSupportedOnes() throws IOException {
    Path folder = model("type");
    ModelFolderEdits.editConfig(folder, c -> c.put("model_type", "llama4_moe"));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    String m = e.getMessage();
    assertTrue(m.contains("llama4_moe") && m.contains("config.json"), m);
    for (Architecture a : Architecture.values()) {
      assertTrue(m.contains(a.modelType()), m + " lists " + a.modelType());
    }
  }

  @Test
  void aMissingConfigIsReported() throws IOException {
    Path folder = model("noconfig");
    Files.delete(folder.resolve("config.json"));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(folder.resolve("config.json").toString()) && e.getMessage().contains("not found"),
        e.getMessage());
  }

  @Test
  void missingRequiredFieldsAreNamed() throws IOException {
    for (String field : List.of("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
        "num_experts", "moe_intermediate_size", "num_experts_per_tok")) {
      Path folder = model("field-" + field);
      ModelFolderEdits.editConfig(folder, c -> c.remove(field));
      ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS), field);
      assertTrue(e.getMessage().contains("'" + field + "'"), field + ": " + e.getMessage());
    }
  }

  @Test
  void mixtralNeedsNumLocalExperts() throws IOException {
    Path folder = dir.resolve("mixtral");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.MIXTRAL), folder);
    ModelFolderEdits.editConfig(folder, c -> c.remove("num_local_experts"));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("'num_local_experts'"), e.getMessage());
  }

  @Test
  void fieldsOfTheWrongTypeAreNamed() throws IOException {
    Path folder = model("wrongtype");
    ModelFolderEdits.editConfig(folder, c -> c.put("hidden_size", "64"));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("'hidden_size'") && e.getMessage().contains("\"64\""), e.getMessage());
  }

  @Test
  void aConfigThatIsNotAJsonObjectIsReported() throws IOException {
    Path folder = model("notjson");
    Path config = folder.resolve("config.json");
    Files.writeString(config, "{\"model_type\": ");
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains("JSON"), e.getMessage());
    Files.writeString(config, "[1, 2]");
    e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains("not a JSON object"), e.getMessage());
  }

  @Test
  void anUnknownRopeScalingTypeListsTheSupportedOnes() throws IOException {
    Path folder = model("rope");
    ModelFolderEdits.editConfig(folder, c -> c.putObject("rope_scaling").put("rope_type", "dynamic").put("factor", 2.0));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("dynamic") && e.getMessage().contains("linear"), e.getMessage());
  }

  @Test
  void aSafetensorsHeaderThatIsNotJsonIsReported() throws IOException {
    Path folder = model("badheader");
    Path file = folder.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    bytes[8] = '['; // the header's opening brace
    bytes[9] = '!';
    Files.write(file, bytes);
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void moreExpertsPerTokenThanExpertsIsRejected() throws IOException {
    Path folder = model("topk");
    ModelFolderEdits.editConfig(folder, c -> c.put("num_experts_per_tok", 9));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("num_experts_per_tok") && e.getMessage().contains("9")
        && e.getMessage().contains("8"), e.getMessage());
  }

  @Test
  void headsThatDoNotGroupAreRejected() throws IOException {
    Path folder = model("heads");
    ModelFolderEdits.editConfig(folder, c -> c.put("num_key_value_heads", 3));
    ConfigException e = assertThrows(ConfigException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("num_key_value_heads") && e.getMessage().contains("3"), e.getMessage());
  }

  // ---- sharded checkpoints --------------------------------------------------------------------

  private static final String SHARD1 = "model-00001-of-00002.safetensors";
  private static final String SHARD2 = "model-00002-of-00002.safetensors";

  /**
   * Splits model.safetensors into two shards (layer 1 and the LM head in the second) and writes the
   * index; {@code indexExtra} adds or overrides weight_map entries.
   */
  private static void shard(Path folder, Map<String, String> indexExtra) throws IOException {
    Path single = folder.resolve("model.safetensors");
    Map<String, TensorData> tensors = SafetensorsFile.open(single).tensors();
    SafetensorsWriter first = new SafetensorsWriter();
    SafetensorsWriter second = new SafetensorsWriter();
    ObjectMapper json = new ObjectMapper();
    ObjectNode index = json.createObjectNode();
    index.putObject("metadata").put("total_size", Files.size(single));
    ObjectNode weightMap = index.putObject("weight_map");
    List<String> names = new ArrayList<>(tensors.keySet());
    for (String name : names) {
      boolean inSecond = name.startsWith("model.layers.1.") || name.equals("lm_head.weight");
      ModelFolderEdits.copy(tensors.get(name), inSecond ? second : first);
      weightMap.put(name, inSecond ? SHARD2 : SHARD1);
    }
    indexExtra.forEach(weightMap::put);
    first.write(folder.resolve(SHARD1));
    second.write(folder.resolve(SHARD2));
    json.writeValue(folder.resolve("model.safetensors.index.json").toFile(), index);
    Files.delete(single);
  }

  @Test
  void aShardedCheckpointGivesTheSameLogitsAsOneFile() throws IOException {
    Path single = model("single");
    Path sharded = model("sharded");
    shard(sharded, Map.of());
    assertTrue(Files.notExists(sharded.resolve("model.safetensors")));
    int[] ids = {3, 141, 59, 26, 5, 358, 97};
    try (LoadedModel a = LoadedModel.load(single, OPTIONS); LoadedModel b = LoadedModel.load(sharded, OPTIONS)) {
      float[][] expected = a.logits(ids, a.expertsPerLayer(0), true);
      float[][] actual = b.logits(ids, b.expertsPerLayer(0), true);
      assertEquals(ids.length, actual.length);
      // The same weights at other file offsets: the 16-bit kernels read misaligned tensors in aligned
      // chunks, which changes the float summation order, so equal within 1e-6 relative, not bitwise.
      double maxDiff = 0;
      double maxRef = 0;
      for (int p = 0; p < ids.length; p++) {
        for (int i = 0; i < expected[p].length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(expected[p][i] - actual[p][i]));
          maxRef = Math.max(maxRef, Math.abs(expected[p][i]));
        }
      }
      assertTrue(maxRef > 0 && maxDiff <= 1e-6 * maxRef, "max|diff| " + maxDiff + " / max|ref| " + maxRef);
    }
  }

  @Test
  void aShardListedButMissingIsNamed() throws IOException {
    Path folder = model("lostshard");
    shard(folder, Map.of());
    Files.delete(folder.resolve(SHARD2));
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(SHARD2) && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void aTensorListedForAShardThatLacksItIsNamed() throws IOException {
    Path folder = model("wrongshard");
    shard(folder, Map.of(LAYER0_Q, SHARD2)); // it was written to shard 1
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains(LAYER0_Q) && e.getMessage().contains(SHARD2), e.getMessage());
  }

  @Test
  void anIndexWithoutWeightMapIsReported() throws IOException {
    Path folder = model("badindex");
    shard(folder, Map.of());
    Files.writeString(folder.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> LoadedModel.load(folder, OPTIONS));
    assertTrue(e.getMessage().contains("weight_map"), e.getMessage());
  }
}
