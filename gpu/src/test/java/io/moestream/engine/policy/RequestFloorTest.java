package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests with different floors and priorities share every step of a batch run at a low level or
 * under a selection rule; each token still gets its own request's k.
 */
class RequestFloorTest {
  @TempDir
  static Path dir;
  static Path folder;

  @BeforeAll
  static void model() throws IOException {
    folder = dir.resolve("m");
    // 3 layers, 16 experts, top-6.
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withNumLayers(3).withExperts(16, 6, 16), folder);
  }

  private static EngineOptions options() {
    return EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
  }

  /** Runs the requests together; returns each request's experts per token (mean over layers) per generated token. */
  private static Map<String, List<Double>> run(Engine engine, List<GenerationRequest> requests) {
    Map<String, List<Double>> used = new HashMap<>();
    requests.forEach(engine::submit);
    int maxRunning = 0;
    while (engine.hasWork()) {
      for (TokenEvent e : engine.step()) {
        if (e.tokenId() >= 0) {
          used.computeIfAbsent(e.requestId(), id -> new ArrayList<>()).add(e.expertsUsedMean());
        }
      }
      maxRunning = Math.max(maxRunning, engine.runningCount());
    }
    assertEquals(requests.size(), maxRunning, "the requests shared their steps");
    return used;
  }

  private static GenerationRequest request(String id, int floor, boolean priority) {
    return new GenerationRequest(id, new int[] {5, 17, 42, 7}, SamplingParams.GREEDY, 6, null).withQuality(floor, priority);
  }

  @Test
  void floorsAndPriorityInsideALowLevelBatch() {
    try (LoadedModel model = LoadedModel.load(folder, options())) {
      Engine engine = model.engine();
      new PolicyDriver(engine, ExpertPolicies.parse("fixed:1"));
      Map<String, List<Double>> used = run(engine, List.of(request("plain", 0, false), request("floor3", 3, false),
          request("priority", 0, true), request("floor9", 9, false)));
      assertEquals(List.of(1.0), used.get("plain").stream().distinct().toList());
      assertEquals(List.of(3.0), used.get("floor3").stream().distinct().toList());
      assertEquals(List.of(6.0), used.get("priority").stream().distinct().toList());
      assertEquals(List.of(6.0), used.get("floor9").stream().distinct().toList()); // capped at the model's k
    }
  }

  @Test
  void floorsInsideAThresholdBatch() {
    try (LoadedModel model = LoadedModel.load(folder, options())) {
      Engine engine = model.engine();
      // T = 1: only the top expert (barring exact ties) unless the floor says more.
      new PolicyDriver(engine, ExpertPolicies.parse("threshold:1,1"));
      Map<String, List<Double>> used = run(engine, List.of(request("plain", 0, false), request("floor4", 4, false),
          request("priority", 0, true)));
      assertTrue(used.get("plain").stream().allMatch(k -> k < 2), "plain " + used.get("plain"));
      assertEquals(List.of(4.0), used.get("floor4").stream().distinct().toList());
      assertEquals(List.of(6.0), used.get("priority").stream().distinct().toList());
    }
  }

  @Test
  void floorsInsideABatchAwareBatch() {
    try (LoadedModel model = LoadedModel.load(folder, options())) {
      Engine engine = model.engine();
      new PolicyDriver(engine, ExpertPolicies.parse("batch:1,1"));
      Map<String, List<Double>> used = run(engine, List.of(request("plain", 0, false), request("floor5", 5, false),
          request("priority", 0, true)));
      assertTrue(used.get("floor5").stream().allMatch(k -> k >= 5), "floor5 " + used.get("floor5"));
      assertEquals(List.of(6.0), used.get("priority").stream().distinct().toList());
    }
  }

  @Test
  void aFloorAtTheLevelChangesNothing() {
    // Same ids with and without a floor of 2 at level fixed:2, and the same as a plain fixed:2 request.
    try (LoadedModel model = LoadedModel.load(folder, options())) {
      Engine engine = model.engine();
      new PolicyDriver(engine, ExpertPolicies.parse("fixed:2"));
      int[] withFloor = ids(engine, request("a", 2, false));
      int[] without = ids(engine, request("b", 0, false));
      engine.setExpertLevel(null);
      int[] asked = ids(engine, new GenerationRequest("c", new int[] {5, 17, 42, 7}, SamplingParams.GREEDY, 6,
          model.expertsPerLayer(2)));
      assertArrayEquals(withFloor, without);
      assertArrayEquals(without, asked);
    }
  }

  private static int[] ids(Engine engine, GenerationRequest request) {
    engine.submit(request);
    List<Integer> ids = new ArrayList<>();
    while (engine.hasWork()) {
      for (TokenEvent e : engine.step()) {
        if (e.tokenId() >= 0) {
          ids.add(e.tokenId());
        }
      }
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }
}
