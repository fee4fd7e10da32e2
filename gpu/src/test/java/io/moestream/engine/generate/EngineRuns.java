package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Runs requests through an {@link Engine} to completion and compares what they generated. */
final class EngineRuns {
  private static final int MAX_STEPS = 5_000;

  private EngineRuns() {}

  /** What an engine produced for one request. */
  record Generation(int[] tokens, FinishReason reason, String error) {}

  /** Submits every request, steps until the engine is idle, and checks the event stream's shape. */
  static Map<String, Generation> run(Engine engine, List<GenerationRequest> requests) {
    requests.forEach(engine::submit);
    Map<String, List<Integer>> tokens = new LinkedHashMap<>();
    Map<String, Integer> nextIndex = new LinkedHashMap<>();
    Map<String, Generation> done = new LinkedHashMap<>();
    for (GenerationRequest r : requests) {
      tokens.put(r.id(), new ArrayList<>());
      nextIndex.put(r.id(), r.alreadyGenerated().length);
    }
    int steps = 0;
    while (engine.hasWork()) {
      assertTrue(++steps < MAX_STEPS, "engine did not finish in " + MAX_STEPS + " steps");
      for (TokenEvent e : engine.step()) {
        assertTrue(!done.containsKey(e.requestId()), "event after the end of " + e.requestId());
        if (e.tokenId() >= 0) {
          assertEquals(nextIndex.get(e.requestId()), e.index(), "token indices of " + e.requestId() + " in order");
          nextIndex.put(e.requestId(), e.index() + 1);
          tokens.get(e.requestId()).add(e.tokenId());
        }
        if (e.finished()) {
          int[] ids = tokens.get(e.requestId()).stream().mapToInt(Integer::intValue).toArray();
          done.put(e.requestId(), new Generation(ids, e.finishReason(), e.error()));
        }
      }
    }
    assertEquals(requests.size(), done.size(), "every request finished");
    assertEquals(0, engine.runningCount());
    int[] poolBlocks = engine.kvCache().layout().poolBlocks();
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      assertEquals(poolBlocks[pool], engine.kvCache().freeBlocks(pool), "all KV blocks of pool " + pool + " returned");
    }
    return done;
  }

  static int[] prompt(long seed, int length) {
    return new SplittableRandom(seed).ints(length, 0, 500).toArray();
  }

  static Map<String, Generation> runAlone(Path folder, EngineOptions options, List<GenerationRequest> requests) {
    Map<String, Generation> all = new LinkedHashMap<>();
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      for (GenerationRequest r : requests) {
        all.putAll(run(model.engine(), List.of(r)));
      }
    }
    return all;
  }

  static Map<String, Generation> runTogether(Path folder, EngineOptions options, List<GenerationRequest> requests) {
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      return run(model.engine(), requests);
    }
  }

  static void assertSameGenerations(Map<String, Generation> expected, Map<String, Generation> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    for (String id : expected.keySet()) {
      Generation e = expected.get(id);
      Generation a = actual.get(id);
      assertArrayEquals(e.tokens(), a.tokens(), id + " tokens");
      assertEquals(e.reason(), a.reason(), id + " finish reason");
    }
  }
}
