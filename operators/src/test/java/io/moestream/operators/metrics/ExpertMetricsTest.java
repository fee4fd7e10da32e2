package io.moestream.operators.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.PolicyDriver;
import java.nio.file.Path;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

/** Experts per token come from what each step reported its tokens used, per step and per interval. */
class ExpertMetricsTest {
  private static final Path TINY_MODEL = Path.of("../gpu/src/test/resources/models/qwen3moe-tiny-f32").toAbsolutePath();
  private static final long S = 1_000_000_000L;

  @Test
  void stepAndIntervalMeansFollowTheStepsReports() {
    try (LoadedModel model = LoadedModel.load(TINY_MODEL, EngineOptions.defaults().withThreads(1))) {
      PolicyDriver driver = new PolicyDriver(model.engine(), ExpertPolicies.parse("full"));
      ExpertMetrics metrics = new ExpertMetrics(new UnregisteredMetricsGroup(), model.config(),
          new ExpertUsage(model.config()), driver, model.config().numExperts());
      assertTrue(Double.isNaN(metrics.expertsPerToken()), "no token yet");

      // (layer, token); a 0 is a layer the token did not route at (a dense layer) and does not count
      metrics.stepDone(S, new int[][] {{2, 3}, {1, 1}, {0, 0}});
      assertEquals(7 / 4.0, metrics.stepExpertsPerToken(), 1e-12);
      assertEquals(7 / 4.0, metrics.expertsPerToken(), 1e-12, "the first interval closed at 1 s");

      metrics.stepDone(S + S / 2, new int[][] {{4}, {4}, {4}});
      assertEquals(4.0, metrics.stepExpertsPerToken(), 1e-12);
      assertEquals(7 / 4.0, metrics.expertsPerToken(), 1e-12, "interval not due: the previous one's mean");

      metrics.stepDone(2 * S + S / 2, new int[][] {{}, {}, {}}); // a step that ran no token
      assertEquals(4.0, metrics.stepExpertsPerToken(), 1e-12, "the last step that routed tokens");
      assertEquals(4.0, metrics.expertsPerToken(), 1e-12, "the interval since 1 s: only the second step");
    }
  }
}
