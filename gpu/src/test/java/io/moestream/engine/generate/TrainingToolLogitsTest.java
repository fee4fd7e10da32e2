package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsFile;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.format.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine against the training tool's own forward pass ({@code tools/train/model.py}, plain torch):
 * {@code tools/train/make_reference_models.py} wrote a small random-weight model of each family it trains
 * (qwen3_moe; deepseek_v2 with latent attention and shared experts) with {@code reference_logits.safetensors},
 * the logits of every position of four prompts computed in F32 from exactly the exported BF16 weights. The
 * engine must match them within 1e-4 of the largest logit, on the BF16 checkpoint with both kernel sets and
 * on the same weights written as F32. (Measured: at most 5e-6; a RoPE layout or routing mistake moves them
 * by 0.7-2.7.) The two models that tool trained and the repository ships (tools/train/models, with the
 * reference logits it saved at training time) are held to the same tolerance.
 */
class TrainingToolLogitsTest {
  private static final double TOLERANCE = 1e-4;
  private static final Path TRAINED = Path.of("..", "tools", "train", "models");

  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> smallModelsMatchTheTrainingTool() {
    List<DynamicTest> tests = new ArrayList<>();
    for (String name : List.of("train-ref-qwen3-moe", "train-ref-deepseek-v2")) {
      Path folder = TestModels.folder(name);
      for (String kernels : List.of("vector", "scalar")) {
        tests.add(DynamicTest.dynamicTest(name + " BF16 (" + kernels + ")", () -> check(folder, folder, kernels)));
      }
      tests.add(DynamicTest.dynamicTest(name + " as F32", () -> check(folder, asF32(folder, tmp.resolve(name)), "vector")));
    }
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> trainedModelsMatchTheirSavedLogits() {
    List<DynamicTest> tests = new ArrayList<>();
    for (String name : List.of("qwen3-moe-tasks", "deepseek-v2-tasks")) {
      Path folder = TRAINED.resolve(name);
      tests.add(DynamicTest.dynamicTest(name + " BF16", () -> check(folder, folder, "vector")));
      // the tokenizer whose ids transformers.js confirmed (ReferenceVectorsTest, moestream-tasks-vectors.json)
      tests.add(DynamicTest.dynamicTest(name + " tokenizer", () -> {
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
          Path tested = Path.of(TestModels.class.getResource("/tokenizers/moestream-tasks/" + file).toURI());
          assertArrayEquals(Files.readAllBytes(tested), Files.readAllBytes(folder.resolve(file)), name + "/" + file);
        }
      }));
      tests.add(DynamicTest.dynamicTest(name + " as F32", () -> check(folder, asF32(folder, tmp.resolve(name)), "vector")));
    }
    return tests.stream();
  }

  private static void check(Path referenceFolder, Path modelFolder, String kernels) {
    SafetensorsFile reference = SafetensorsFile.open(referenceFolder.resolve("reference_logits.safetensors"));
    Map<String, TensorData> tensors = reference.tensors();
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKernels(kernels)
        .withKvCacheBytes(8 << 20);
    int prompts = 0;
    try (LoadedModel model = LoadedModel.load(modelFolder, options)) {
      for (int p = 0; tensors.containsKey("prompt." + p + ".ids"); p++, prompts++) {
        int[] ids = ints(tensors.get("prompt." + p + ".ids"));
        TensorData expected = tensors.get("prompt." + p + ".logits");
        int vocab = (int) expected.dim(1);
        float[] want = expected.toFloatArray();
        float[][] got = model.logits(ids, model.expertsPerLayer(0), true);
        assertEquals(ids.length, got.length);
        double maxRef = 0;
        double maxDiff = 0;
        for (int pos = 0; pos < ids.length; pos++) {
          int wantArgmax = 0;
          for (int v = 0; v < vocab; v++) {
            float w = want[pos * vocab + v];
            maxRef = Math.max(maxRef, Math.abs(w));
            maxDiff = Math.max(maxDiff, Math.abs(w - got[pos][v]));
            wantArgmax = w > want[pos * vocab + wantArgmax] ? v : wantArgmax;
          }
          assertEquals(wantArgmax, Sampler.argmax(got[pos]), "argmax at position " + pos + " of prompt " + p);
        }
        assertTrue(maxDiff <= TOLERANCE * maxRef,
            "prompt " + p + ": max |engine - training tool| " + maxDiff + " > " + TOLERANCE + " x max |logit| " + maxRef);
      }
    }
    assertTrue(prompts >= 3, "reference_logits.safetensors has " + prompts + " prompts");
  }

  private static int[] ints(TensorData ids) {
    if (ids.dtype() != DType.I32) {
      throw new AssertionError(ids.name() + ": expected I32 ids, found " + ids.dtype());
    }
    java.nio.IntBuffer buffer = ids.bytes().order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    int[] out = new int[buffer.remaining()];
    for (int i = 0; i < out.length; i++) {
      out[i] = buffer.get(i);
    }
    return out;
  }

  /** The same folder with every weight widened to F32 (the values are unchanged: BF16 widens exactly). */
  private static Path asF32(Path folder, Path out) throws IOException {
    Files.createDirectories(out);
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(file) && !file.getFileName().toString().equals("model.safetensors")) {
          Files.copy(file, out.resolve(file.getFileName()));
        }
      }
    }
    SafetensorsWriter writer = new SafetensorsWriter();
    for (TensorData tensor : SafetensorsFile.open(folder.resolve("model.safetensors")).tensors().values()) {
      writer.add(tensor.name(), DType.F32, tensor.shape(), tensor.toFloatArray());
    }
    writer.write(out.resolve("model.safetensors"));
    Path config = out.resolve("config.json");
    Files.writeString(config, Files.readString(config).replace("\"bfloat16\"", "\"float32\""));
    return out;
  }
}
