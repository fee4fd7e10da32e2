package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPruning;
import io.moestream.engine.policy.PolicyDriver;
import io.moestream.engine.testmodel.TestModelSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Every expert policy, with or without pruning, on a family's test model: each request runs to its end. */
final class PolicyRuns {
  private PolicyRuns() {}

  /**
   * Two greedy requests of 4 tokens under each policy; with {@code prune}, every fourth expert of each layer
   * kept (layer 1 must then have dropped expert 1).
   */
  static void assertEveryPolicyRuns(Path folder, TestModelSpec spec, EngineOptions options, boolean prune,
      int promptLength) {
    int[] prompt = new SplittableRandom(9).ints(promptLength, 0, spec.vocabSize()).toArray();
    for (String policySpec : new String[] {"full", "fixed:2", "schedule:1,4,3,2", "threshold:1,0.5", "batch:1,0.8",
        "adaptive"}) {
      try (LoadedModel model = LoadedModel.load(folder, options)) {
        if (prune) {
          boolean[][] kept = new boolean[spec.numLayers()][spec.numExperts()];
          for (boolean[] layer : kept) {
            for (int e = 0; e < layer.length; e += 4) {
              layer[e] = true;
            }
          }
          ExpertPruning.apply(model.weights(), kept);
          assertEquals(null, model.weights().layers()[1].moe().experts()[1]);
        }
        Engine engine = model.engine();
        new PolicyDriver(engine, ExpertPolicies.parse(policySpec));
        engine.submit(new GenerationRequest("a", prompt, SamplingParams.GREEDY, 4, model.expertsPerLayer(0)));
        engine.submit(new GenerationRequest("b", new int[] {1, 2}, SamplingParams.GREEDY, 4, model.expertsPerLayer(0)));
        int tokens = 0;
        for (int step = 0; engine.hasWork() && step < 100; step++) {
          for (TokenEvent event : engine.step()) {
            assertTrue(event.error() == null, policySpec + ": " + event.error());
            tokens += event.tokenId() >= 0 ? 1 : 0;
          }
        }
        assertEquals(8, tokens, policySpec + (prune ? " pruned" : ""));
      }
    }
  }
}
