package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.TestModels;
import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A step whose forward pass throws ends the requests it ran with an ERROR and the reason; the engine
 * keeps serving the others and later ones. The fault is injected around the real CPU backend: any
 * step that holds the poison token id fails.
 */
class StepFailureTest {
  private static final int POISON = 77;

  /** The real backend, failing every step that contains {@link #POISON}. */
  private record FailingBackend(Backend real) implements Backend {
    @Override
    public String name() {
      return "failing " + real.name();
    }

    @Override
    public ModelConfig config() {
      return real.config();
    }

    @Override
    public PagedKvCache kvCache() {
      return real.kvCache();
    }

    @Override
    public StepOutput forward(StepBatch batch) {
      for (int id : batch.tokenIds()) {
        if (id == POISON) {
          throw new IllegalStateException("injected fault on token " + POISON);
        }
      }
      return real.forward(batch);
    }

    @Override
    public PhaseTimes phaseTimes() {
      return real.phaseTimes();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  @Test
  void aFailingStepEndsItsRequestsAndTheEngineGoesOn() {
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
    try (LoadedModel model = LoadedModel.load(TestModels.folder("qwen3moe-tiny-f32"), options)) {
      Engine alone = new Engine(model.backend(), options, new int[0]);
      int[] healthyPrompt = {5, 6, 7, 8};
      int[] expected = EngineRuns.run(alone, List.of(request("reference", healthyPrompt))).get("reference").tokens();

      Engine engine = new Engine(new FailingBackend(model.backend()), options, new int[0]);
      engine.submit(request("poisoned", new int[] {1, 2, POISON, 3}));
      List<TokenEvent> first = engine.step();
      assertEquals(1, first.size(), first.toString());
      TokenEvent failure = first.get(0);
      assertEquals("poisoned", failure.requestId());
      assertEquals(FinishReason.ERROR, failure.finishReason());
      assertTrue(failure.error().contains("injected fault"), failure.error());
      assertEquals(0, engine.runningCount());
      assertEquals(engine.kvCache().numBlocks(), engine.kvCache().freeBlocks(), "the failed request's blocks are back");

      Map<String, EngineRuns.Generation> later = EngineRuns.run(engine, List.of(request("healthy", healthyPrompt)));
      assertArrayEquals(expected, later.get("healthy").tokens());
      assertEquals(FinishReason.LENGTH, later.get("healthy").reason());
    }
  }

  private static GenerationRequest request(String id, int[] prompt) {
    return new GenerationRequest(id, prompt, SamplingParams.GREEDY, 6, null);
  }
}
