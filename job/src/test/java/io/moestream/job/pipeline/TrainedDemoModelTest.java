package io.moestream.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's model as the build packs it: the runtime files of tools/train's folder, byte for byte,
 * and nothing else; a build without them fails with the missing resource and the way out.
 */
class TrainedDemoModelTest {
  private static final Path SOURCE = Path.of("..", "tools", "train", "models", "qwen3-moe-tasks");

  @Test
  void theExtractedFolderHoldsTheTrainedModelsRuntimeFiles(@TempDir Path dir) throws Exception {
    TrainedDemoModel.extractTo(dir);
    for (String name : TrainedDemoModel.FILES) {
      assertArrayEquals(Files.readAllBytes(SOURCE.resolve(name)), Files.readAllBytes(dir.resolve(name)), name);
    }
    assertEquals(Set.copyOf(TrainedDemoModel.FILES), names(dir));
    assertEquals(Architecture.QWEN3_MOE, ModelConfig.read(dir).architecture());
    assertTrue(Tokenizer.load(dir).hasChatTemplate(), "the demo asks chat questions");
  }

  @Test
  void aBuildWithoutTheModelNamesWhatIsMissingAndTheWayOut(@TempDir Path dir) throws Exception {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TrainedDemoModel.extract("io/moestream/job/no-such-model/", dir));
    assertTrue(e.getMessage().contains("io/moestream/job/no-such-model/config.json"), e.getMessage());
    assertTrue(e.getMessage().contains("tools/train/models/qwen3-moe-tasks"), e.getMessage());
    assertTrue(e.getMessage().contains("--random-model"), e.getMessage());
    assertEquals(Set.of(), names(dir), "nothing half-written");
  }

  private static Set<String> names(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }
}
