package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One step is a function of its batch: the selection rule travels in the {@link StepBatch}, so steps
 * with different rules interleaved on one backend give what each gives alone, and the {@link StepOutput}
 * reports the experts the rule chose for every (layer, token).
 */
class StepSelectionTest {
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
  private static final int K = 4;
  private static final int[] PROMPT_A = {5, 17, 230, 41, 9, 77};
  private static final int[] PROMPT_B = {300, 12, 8, 150, 61};

  @TempDir
  static Path dir;
  static Path folder;

  @BeforeAll
  static void model() throws IOException {
    folder = dir.resolve("m");
    // Three layers, the first dense (decoder_sparse_step 2): its experts-used entries must stay 0.
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withNumLayers(3).withDenseLayers(64, 2)
        .withExperts(16, K, 16), folder);
  }

  private static ExpertSelection threshold(ModelConfig config) {
    return ExpertPolicies.parse("threshold:1,0.6").selection(config);
  }

  /** A sequence run as a prompt step then decode steps, one token each; the steps' outputs in order. */
  private static final class Run {
    final int[] tokens;
    final ExpertSelection rule;
    final List<StepOutput> outputs = new ArrayList<>();
    PagedKvCache.Sequence sequence;
    int done;

    Run(int[] tokens, ExpertSelection rule) {
      this.tokens = tokens;
      this.rule = rule;
    }

    boolean finished() {
      return done == tokens.length;
    }

    /** The next step: the first half of the tokens as a prompt, then one token at a time. */
    void step(Backend backend) {
      PagedKvCache cache = backend.kvCache();
      if (sequence == null) {
        sequence = cache.newSequence();
      }
      int n = done == 0 ? tokens.length / 2 : 1;
      assertTrue(cache.reserve(sequence, done + n));
      int[] ids = Arrays.copyOfRange(tokens, done, done + n);
      int[] positions = new int[n];
      PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[n];
      int[][] experts = new int[backend.config().numLayers()][n];
      for (int i = 0; i < n; i++) {
        positions[i] = done + i;
        kv[i] = sequence;
      }
      for (int[] layer : experts) {
        Arrays.fill(layer, K);
      }
      outputs.add(backend.forward(new StepBatch(ids, positions, kv, experts, new int[] {n - 1}, null, rule)));
      done += n;
      sequence.setLength(done);
    }

    void release(Backend backend) {
      backend.kvCache().release(sequence);
    }
  }

  /** The sequence's steps on a backend of its own, which nothing ran on before. */
  private static List<StepOutput> alone(int[] tokens, ExpertSelection rule) {
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      Run run = new Run(tokens, rule);
      while (!run.finished()) {
        run.step(model.backend());
      }
      return run.outputs;
    }
  }

  private static void assertSameSteps(List<StepOutput> expected, List<StepOutput> actual, String what) {
    assertEquals(expected.size(), actual.size(), what + ": steps");
    for (int s = 0; s < expected.size(); s++) {
      assertArrayEquals(expected.get(s).logits(), actual.get(s).logits(), what + ": logits of step " + s);
      assertArrayEquals(expected.get(s).expertsUsed(), actual.get(s).expertsUsed(), what + ": experts of step " + s);
    }
  }

  @Test
  void interleavedStepsWithDifferentRulesEqualEachAlone() {
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      Backend backend = model.backend();
      ExpertSelection rule = threshold(model.config());
      List<StepOutput> aloneA = alone(PROMPT_A, rule);
      List<StepOutput> aloneB = alone(PROMPT_B, ExpertSelection.AS_REQUESTED);

      Run a = new Run(PROMPT_A, rule);
      Run b = new Run(PROMPT_B, ExpertSelection.AS_REQUESTED);
      while (!a.finished() || !b.finished()) {
        if (!a.finished()) {
          a.step(backend);
        }
        if (!b.finished()) {
          b.step(backend);
        }
      }
      a.release(backend);
      b.release(backend);
      assertSameSteps(aloneA, a.outputs, "threshold sequence interleaved");
      assertSameSteps(aloneB, b.outputs, "as-requested sequence interleaved");

      // Otherwise the comparison above could not tell a rule that is ignored: the rule changes A's result.
      List<StepOutput> aUnderFullK = alone(PROMPT_A, ExpertSelection.AS_REQUESTED);
      assertFalse(Arrays.equals(aloneA.get(aloneA.size() - 1).logits(), aUnderFullK.get(aUnderFullK.size() - 1).logits()),
          "threshold:1,0.6 gives other logits than the full k");
    }
  }

  @Test
  void outputReportsWhatTheRuleChose() {
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      ModelConfig config = model.config();
      assertFalse(config.isSparse(0), "layer 0 is dense in this model");
      ExpertSelection threshold = threshold(config);
      int[][] chosen = new int[config.numLayers()][]; // what the rule returned, by layer
      ExpertSelection recording = new ExpertSelection() {
        @Override
        public void select(int layer, int numTokens, int[] requestedK, float[] scores, int numExperts,
            int[] candidates, int maxK, int[] selectedK) {
          throw new AssertionError("the backend passes the floors");
        }

        @Override
        public void select(int layer, int numTokens, int[] requestedK, int[] minK, float[] scores, int numExperts,
            int[] candidates, int maxK, int[] selectedK) {
          threshold.select(layer, numTokens, requestedK, minK, scores, numExperts, candidates, maxK, selectedK);
          chosen[layer] = Arrays.copyOf(selectedK, numTokens);
        }
      };
      Run run = new Run(PROMPT_A, recording);
      run.step(model.backend()); // the prompt half: 3 tokens
      run.release(model.backend());
      StepOutput out = run.outputs.get(0);

      int fewer = 0;
      for (int layer = 0; layer < config.numLayers(); layer++) {
        if (!config.isSparse(layer)) {
          assertArrayEquals(new int[3], out.expertsUsed()[layer], "dense layer " + layer);
          continue;
        }
        assertNotNull(chosen[layer], "the rule ran at sparse layer " + layer);
        assertArrayEquals(chosen[layer], out.expertsUsed()[layer], "layer " + layer);
        for (int k : chosen[layer]) {
          assertTrue(k >= 1 && k <= K, "layer " + layer + ": " + k);
          fewer += k < K ? 1 : 0;
        }
      }
      assertTrue(fewer > 0, "threshold:1,0.6 kept fewer than " + K + " experts somewhere: " + Arrays.deepToString(chosen));
      double sum = 0;
      int sparse = 0;
      for (int layer = 0; layer < config.numLayers(); layer++) {
        if (config.isSparse(layer)) {
          sum += chosen[layer][2];
          sparse++;
        }
      }
      assertEquals(sum / sparse, out.expertsUsedMean(2), 1e-12, "mean over the sparse layers of the last token");
    }
  }
}
