package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An engine under {@code adaptive}: the full model when light, fewer experts under load, back to full. */
class PolicyDriverTest {
  private static final long S = 1_000_000_000L;
  private static final LoadSignals OVERLOAD = new LoadSignals(20, 4, 1.0, 0.9, 2.0, -1);

  @TempDir
  static Path dir;
  static Path folder;

  @BeforeAll
  static void model() throws IOException {
    folder = dir.resolve("m");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(16, 6, 16), folder);
  }

  private static GenerationRequest request(String id) {
    return new GenerationRequest(id, new int[] {9, 8, 7, 300, 2}, new SamplingParams(0.8f, 0.95f, 0, 1234L), 8, null);
  }

  /** Generates one request, feeding {@code signals} before every step at 1 s intervals from {@code t0}. */
  private static int[] generate(Engine engine, PolicyDriver driver, GenerationRequest request, LoadSignals signals,
      long[] clock, List<Double> experts) {
    engine.submit(request);
    List<Integer> ids = new ArrayList<>();
    while (engine.hasWork()) {
      if (driver != null) {
        clock[0] += S;
        driver.onSignals(clock[0], signals);
      }
      for (TokenEvent e : engine.step()) {
        if (e.tokenId() >= 0) {
          ids.add(e.tokenId());
          experts.add(e.expertsUsedMean());
        }
      }
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void lightLoadIsTheFullModelAndItReturnsToIt() {
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
    int[] full;
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      full = generate(model.engine(), null, request("a"), null, null, new ArrayList<>());
    }
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      Engine engine = model.engine();
      PolicyDriver driver = new PolicyDriver(engine, ExpertPolicies.parse("adaptive:fixed:6|fixed:3|fixed:1"),
          ControllerSettings.defaults()); // down after 2 s above, up after 5 s below
      long[] clock = {0};
      List<Double> experts = new ArrayList<>();
      assertArrayEquals(full, generate(engine, driver, request("light"), LoadSignals.IDLE, clock, experts));
      assertEquals(List.of(6.0), experts.stream().distinct().toList());

      experts.clear();
      int[] loaded = generate(engine, driver, request("overload"), OVERLOAD, clock, experts);
      assertEquals(2, driver.level());
      assertEquals("fixed:1", driver.levelPolicy().spec());
      assertEquals(1.0, experts.get(experts.size() - 1));
      assertEquals(loaded.length, full.length);

      experts.clear();
      for (int i = 0; i < 12; i++) { // 12 s of light load: two steps up
        clock[0] += S;
        driver.onSignals(clock[0], LoadSignals.IDLE);
      }
      assertEquals(0, driver.level());
      assertArrayEquals(full, generate(engine, driver, request("light again"), LoadSignals.IDLE, clock, experts));
      assertEquals(List.of(6.0), experts.stream().distinct().toList());
      assertEquals(4, driver.controller().transitions());
    }
  }
}
