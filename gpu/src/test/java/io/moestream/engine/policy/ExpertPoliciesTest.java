package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.engine.model.Architecture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each policy's per-layer k, and the per-token rules on hand-made router outputs. */
class ExpertPoliciesTest {
  @TempDir
  static Path dir;
  /** 8 layers, 16 experts, top-8: the small shape's routing in miniature. */
  static ModelConfig config;

  @BeforeAll
  static void model() throws IOException {
    Path folder = dir.resolve("m");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withNumLayers(8).withExperts(16, 8, 8), folder);
    config = ModelConfig.read(folder);
  }

  @Test
  void fixedIsKEverywhere() {
    assertArrayEquals(new int[] {4, 4, 4, 4, 4, 4, 4, 4}, ExpertPolicies.parse("fixed:4").expertsPerLayer(config));
    assertArrayEquals(ExpertPolicies.parse("fixed:" + config.numExpertsPerTok()).expertsPerLayer(config),
        ExpertPolicies.parse("full").expertsPerLayer(config));
    assertEquals("full", ExpertPolicies.parse(" FULL ").spec());
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("full:8"));
    assertSame(ExpertSelection.AS_REQUESTED, ExpertPolicies.parse("fixed:4").selection(config));
  }

  @Test
  void scheduleIsLinearThroughTheMiddleLayer() {
    // B=2 at layer 1, H=8 at layer 4, E=6 at layer 8: 2, 4, 6, 8, then 7.5->8 (half up), 7, 6.5->7, 6.
    assertArrayEquals(new int[] {2, 4, 6, 8, 8, 7, 7, 6},
        ExpertPolicies.parse("schedule:2,8,6,4").expertsPerLayer(config));
    // The paper's V3 shape (6,8,8,L): 6 at the first layer rising to 8 at the last.
    assertArrayEquals(new int[] {6, 6, 7, 7, 7, 7, 8, 8},
        ExpertPolicies.parse("schedule:6,8,8,8").expertsPerLayer(config));
    assertArrayEquals(new int[] {8, 7, 7, 6, 6, 5, 5, 4},
        ExpertPolicies.parse("schedule:8,8,4,1").expertsPerLayer(config));
  }

  @Test
  void badSpecsNameTheProblem() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("fixed:9").expertsPerLayer(config))
        .getMessage().contains("[1, 8]"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("schedule:2,8,6,9")
        .expertsPerLayer(config)).getMessage().contains("P must be a layer"));
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("fixed:x"));
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("threshold:2"));
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("threshold:2,1.5"));
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("topk:3"));
    assertThrows(IllegalArgumentException.class, () -> ExpertPolicies.parse("adaptive:adaptive"));
  }

  @Test
  void listsSplitOnlyBeforeAPolicyName() {
    List<ExpertPolicy> list = ExpertPolicies.parseList("fixed:8,schedule:6,8,8,7, threshold:2,0.3,adaptive:fixed:8|fixed:4");
    assertEquals(List.of("fixed:8", "schedule:6,8,8,7", "threshold:2,0.3", "adaptive:fixed:8|fixed:4"),
        list.stream().map(ExpertPolicy::spec).toList());
  }

  @Test
  void adaptiveDefaultLevelsAndStaticUseIsFullModel() {
    AdaptivePolicy adaptive = (AdaptivePolicy) ExpertPolicies.parse("adaptive");
    assertEquals(List.of("fixed:8", "fixed:4", "fixed:3"), adaptive.levels(config).stream().map(ExpertPolicy::spec).toList());
    assertArrayEquals(ExpertPolicy.full(config), adaptive.expertsPerLayer(config));
  }

  // ---- per-token rules on hand-made router outputs: 3 tokens, 6 experts, maxK 4 ----------------

  private static final int E = 6;
  private static final int MAX_K = 4;
  /** Token 0: a clear winner; token 1: flat; token 2: two strong, then weak. */
  private static final float[] SCORES = {
      0.60f, 0.20f, 0.10f, 0.05f, 0.03f, 0.02f,
      0.05f, 0.20f, 0.20f, 0.19f, 0.18f, 0.18f,
      0.40f, 0.02f, 0.38f, 0.10f, 0.06f, 0.04f};
  private static final int[] CANDIDATES = {
      0, 1, 2, 3,
      1, 2, 3, 4,
      0, 2, 3, 4};

  private static int[] run(ExpertSelection rule, int[] requested, int[] floors) {
    int[] selected = new int[requested.length];
    rule.select(0, requested.length, requested, floors, SCORES, E, CANDIDATES, MAX_K, selected);
    return selected;
  }

  @Test
  void thresholdKeepsCandidatesAboveRatioOfTheTop() {
    ExpertSelection rule = ExpertPolicies.parse("threshold:1,0.3").selection(config);
    // token 0: 0.20 >= 0.18 keeps the 2nd, 0.10 stops; token 1: all within 0.3 of 0.20; token 2: 0.38 yes, 0.10 < 0.12 stops.
    assertArrayEquals(new int[] {2, 4, 2}, run(rule, new int[] {4, 4, 4}, null));
    // Never above the requested k, never below KMIN.
    assertArrayEquals(new int[] {2, 3, 2}, run(rule, new int[] {4, 3, 4}, null));
    assertArrayEquals(new int[] {3, 3, 3}, run(ExpertPolicies.parse("threshold:3,0.99").selection(config),
        new int[] {4, 4, 4}, null));
    assertArrayEquals(new int[] {1, 1, 1}, run(ExpertPolicies.parse("threshold:3,0.99").selection(config),
        new int[] {1, 1, 1}, null));
  }

  @Test
  void thresholdHonoursEachTokensFloor() {
    ExpertSelection rule = ExpertPolicies.parse("threshold:1,1").selection(config);
    // T = 1: only candidates as probable as the top (token 1 has a tie).
    assertArrayEquals(new int[] {1, 2, 1}, run(rule, new int[] {4, 4, 4}, null));
    assertArrayEquals(new int[] {3, 2, 4}, run(rule, new int[] {4, 4, 4}, new int[] {3, 0, 4}));
    // A floor above the requested k is capped by it.
    assertArrayEquals(new int[] {2, 2, 1}, run(rule, new int[] {2, 4, 4}, new int[] {3, 1, 1}));
  }

  @Test
  void defaultSelectionRaisesLambdasToTheFloor() {
    ExpertSelection one = (layer, n, requested, scores, numExperts, candidates, maxK, selected) ->
        java.util.Arrays.fill(selected, 0, n, 1);
    assertArrayEquals(new int[] {1, 3, 2}, run(one, new int[] {4, 4, 2}, new int[] {1, 3, 4}));
  }

  @Test
  void batchAwareDropsOnlyExpertsThatLeaveTheStep() {
    ExpertSelection rule = ExpertPolicies.parse("batch:1,0.5").selection(config);
    // Every token asks for 4: expert 3 is token 1's strong choice, so the step reads it anyway and the
    // weak tails of tokens 0 (expert 3) and 2 (expert 4, shared with token 1) stay: nothing changes.
    assertArrayEquals(new int[] {4, 4, 4}, run(rule, new int[] {4, 4, 4}, null));
    // Token 1 asks for 2 (experts 1, 2). Round 1: expert 4 is only token 2's weak tail -> dropped.
    // Round 2: expert 3 is the weak tail of both tokens still using it (0 and 2) -> dropped by both.
    // Round 3: token 0's tail, expert 2, is also token 1's and token 2's strong choice: stays.
    assertArrayEquals(new int[] {3, 2, 2}, run(rule, new int[] {4, 2, 4}, null));
    // Alone in a step, the rule is a threshold on the tail.
    int[] selected = new int[1];
    rule.select(0, 1, new int[] {4}, null, SCORES, E, CANDIDATES, MAX_K, selected);
    assertEquals(1, selected[0]);
  }

  @Test
  void batchAwareHonoursFloors() {
    ExpertSelection rule = ExpertPolicies.parse("batch:1,0.5").selection(config);
    assertArrayEquals(new int[] {4, 2, 3}, run(rule, new int[] {4, 2, 4}, new int[] {4, 1, 3}));
    int[] selected = new int[1];
    rule.select(0, 1, new int[] {4}, new int[] {3}, SCORES, E, CANDIDATES, MAX_K, selected);
    assertEquals(3, selected[0]);
  }
}
