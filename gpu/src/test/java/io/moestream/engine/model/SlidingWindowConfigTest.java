package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixtral and Qwen configs that set a sliding window run with it (they were refused before the engine
 * had windowed attention): which layers get it, and that it changes what a long prompt attends to.
 * The windowed attention itself is held to Hugging Face's mask by GptOssModelTest's float64 reference.
 */
class SlidingWindowConfigTest {
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);

  @TempDir Path folder;

  @Test
  void mixtralWindowAppliesToEveryLayer() throws IOException {
    TestModelWriter.write(TestModelSpec.defaults(Architecture.MIXTRAL).withNumLayers(3), folder);
    assertFalse(ModelConfig.read(folder).hasSlidingWindow()); // sliding_window: null
    ModelFolderEdits.editConfig(folder, c -> c.put("sliding_window", 5));
    assertArrayEquals(new int[] {5, 5, 5}, ModelConfig.read(folder).layerWindows());
  }

  @Test
  void qwenWindowStartsAtMaxWindowLayers() throws IOException {
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withNumLayers(4), folder);
    ModelFolderEdits.editConfig(folder, c -> c.put("sliding_window", 6).put("max_window_layers", 1));
    assertFalse(ModelConfig.read(folder).hasSlidingWindow()); // use_sliding_window false
    ModelFolderEdits.editConfig(folder, c -> c.put("use_sliding_window", true));
    assertArrayEquals(new int[] {0, 6, 6, 6}, ModelConfig.read(folder).layerWindows());
    ModelFolderEdits.editConfig(folder, c -> c.putArray("layer_types").add("full_attention").add("sliding_attention")
        .add("full_attention").add("full_attention"));
    assertArrayEquals(new int[] {0, 6, 0, 0}, ModelConfig.read(folder).layerWindows());
    ModelFolderEdits.editConfig(folder, c -> c.putArray("layer_types").add("chunked_attention"));
    assertThrows(ConfigException.class, () -> ModelConfig.read(folder));
  }

  @Test
  void aWindowShorterThanThePromptChangesTheLogits() throws IOException {
    TestModelWriter.write(TestModelSpec.defaults(Architecture.MIXTRAL), folder);
    int[] tokens = {5, 9, 200, 31, 77, 4, 18, 300, 2, 41};
    float[] full = last(tokens);
    ModelFolderEdits.editConfig(folder, c -> c.put("sliding_window", tokens.length));
    assertArrayEquals(full, last(tokens)); // the window covers the whole prompt
    ModelFolderEdits.editConfig(folder, c -> c.put("sliding_window", 3));
    assertTrue(!Arrays.equals(full, last(tokens)));
  }

  private float[] last(int[] tokens) {
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      return model.logits(tokens, model.expertsPerLayer(0), true)[tokens.length - 1];
    }
  }
}
