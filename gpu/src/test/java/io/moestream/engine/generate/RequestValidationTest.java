package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bad request is refused by {@link Engine#submit} with a message naming the request and the bad value,
 * before any work, and the engine goes on serving the others.
 */
class RequestValidationTest {
  @TempDir
  static Path dir;

  @BeforeAll
  static void write() throws IOException {
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withMaxPositionEmbeddings(64), dir);
  }

  private static LoadedModel load() {
    return LoadedModel.load(dir, EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(1 << 20));
  }

  /** Each check on a fresh engine, so one request the engine wrongly accepts cannot spill into the next. */
  private static void assertRefused(Supplier<GenerationRequest> request, String... fragments) {
    try (LoadedModel model = load()) {
      Engine engine = model.engine();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.submit(request.get()));
      for (String fragment : fragments) {
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
      }
      assertEquals(0, engine.waitingCount() + engine.runningCount(), "nothing queued");
      // The engine still serves a good request afterwards.
      Map<String, EngineRuns.Generation> ok = EngineRuns.run(engine,
          List.of(new GenerationRequest("ok", new int[] {1, 2, 3}, SamplingParams.GREEDY, 3, null)));
      assertTrue(ok.get("ok").reason() != FinishReason.ERROR);
    }
  }

  @Test
  void promptTokensOutsideTheVocabulary() {
    assertRefused(() -> new GenerationRequest("p", new int[] {1, 512, 3}, SamplingParams.GREEDY, 4, null), "p", "512");
    assertRefused(() -> new GenerationRequest("n", new int[] {-1}, SamplingParams.GREEDY, 4, null), "n", "-1");
  }

  @Test
  void alreadyGeneratedTokensOutsideTheVocabulary() {
    // A restored request carries its generated tokens; they run through the model like the prompt.
    assertRefused(() -> new GenerationRequest("restored", new int[] {1, 2}, SamplingParams.GREEDY, 8, null,
        new int[] {5, 9999}), "restored", "9999");
  }

  @Test
  void aBadRestoredRequestDoesNotStopTheOthers() {
    // Whether refused at submit or ended with an error, it must not make step() throw for everyone.
    try (LoadedModel model = load()) {
      Engine engine = model.engine();
      GenerationRequest good = new GenerationRequest("good", new int[] {1, 2, 3}, SamplingParams.GREEDY, 4, null);
      GenerationRequest bad = new GenerationRequest("bad", new int[] {1, 2}, SamplingParams.GREEDY, 8, null,
          new int[] {5, 9999});
      engine.submit(good);
      boolean refused = false;
      try {
        engine.submit(bad);
      } catch (IllegalArgumentException e) {
        refused = true;
      }
      Map<String, FinishReason> reasons = new java.util.HashMap<>();
      for (int step = 0; step < 100 && engine.hasWork(); step++) {
        for (TokenEvent e : engine.step()) {
          if (e.finished()) {
            reasons.put(e.requestId(), e.finishReason());
          }
        }
      }
      assertTrue(reasons.containsKey("good") && reasons.get("good") != FinishReason.ERROR, "good: " + reasons);
      assertTrue(refused || reasons.get("bad") == FinishReason.ERROR, "bad: " + reasons);
    }
  }

  @Test
  void promptsThatFillTheContext() {
    assertRefused(() -> new GenerationRequest("long", new int[64], SamplingParams.GREEDY, 4, null), "long", "64");
    assertRefused(() -> new GenerationRequest("long2", new int[40], SamplingParams.GREEDY, 4, null, new int[24]),
        "long2", "64");
  }

  @Test
  void expertsPerLayerOfTheWrongLengthOrRange() {
    assertRefused(() -> new GenerationRequest("len", new int[] {1}, SamplingParams.GREEDY, 4, new int[] {2}), "len", "1");
    assertRefused(() -> new GenerationRequest("k0", new int[] {1}, SamplingParams.GREEDY, 4, new int[] {2, 0}), "k0", "0");
    assertRefused(() -> new GenerationRequest("k3", new int[] {1}, SamplingParams.GREEDY, 4, new int[] {3, 2}), "k3", "3");
  }

  @Test
  void emptyPromptsAndNoBudgetAreRefusedByTheRequestItself() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new GenerationRequest("empty", new int[0], SamplingParams.GREEDY, 4, null));
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new GenerationRequest("zero", new int[] {1}, SamplingParams.GREEDY, 0, null));
    assertTrue(e.getMessage().contains("zero") && e.getMessage().contains("0"), e.getMessage());
  }

  @Test
  void generationStopsAtTheContextLength() {
    EngineRuns.Generation g;
    try (LoadedModel model = load()) {
      g = EngineRuns.run(model.engine(),
          List.of(new GenerationRequest("ctx", new int[60], SamplingParams.GREEDY, 100, null))).get("ctx");
    }
    if (g.reason() == FinishReason.LENGTH) {
      assertEquals(4, g.tokens().length, "60 prompt tokens + 4 generated = 64 positions");
    } else {
      assertEquals(FinishReason.STOP, g.reason());
      assertTrue(g.tokens().length <= 4);
    }
  }
}
