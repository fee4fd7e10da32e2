package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.generate.EngineRuns.Generation;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a generation ends: an end-of-sequence id (config.json or generation_config.json), or its budget. */
class StopConditionsTest {
  private static final EngineOptions OPTIONS = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(1 << 20);

  @TempDir
  Path dir;

  private Generation generate(Path folder, int maxNewTokens) {
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      return EngineRuns.run(model.engine(), List.of(
          new GenerationRequest("r", EngineRuns.prompt(3, 6), SamplingParams.GREEDY, maxNewTokens, null))).get("r");
    }
  }

  @Test
  void aBudgetEndsWithLengthAndAnEosIdFromEitherFileEndsWithStop() throws IOException {
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE), dir);
    Generation free = generate(dir, 8);
    assertEquals(FinishReason.LENGTH, free.reason(), "the random model hit its EOS id; pick another seed");
    assertEquals(8, free.tokens().length);
    // A later generated token, new at its index, becomes an end-of-sequence id: generation stops
    // there, the token included.
    int stopAt = 0;
    for (int i = 1; i < free.tokens().length && stopAt == 0; i++) {
      int token = free.tokens()[i];
      if (Arrays.stream(free.tokens()).limit(i).noneMatch(t -> t == token)) {
        stopAt = i;
      }
    }
    int eos = free.tokens()[stopAt];
    int[] expected = Arrays.copyOf(free.tokens(), stopAt + 1);

    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [" + (eos == 7 ? 8 : 7) + ", " + eos + "]}");
    Generation stopped = generate(dir, 8);
    assertEquals(FinishReason.STOP, stopped.reason());
    assertArrayEquals(expected, stopped.tokens(), Arrays.toString(free.tokens()));

    Files.delete(dir.resolve("generation_config.json"));
    ModelFolderEdits.editConfig(dir, c -> c.putArray("eos_token_id").add(eos));
    stopped = generate(dir, 8);
    assertEquals(FinishReason.STOP, stopped.reason());
    assertArrayEquals(expected, stopped.tokens(), Arrays.toString(free.tokens()));
  }
}
