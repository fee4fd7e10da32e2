package io.moestream.operators.inference;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.operators.records.TokenizedRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the engine generates for one request alone, the way {@code ./moestream generate} runs it. */
final class ReferenceGenerations {
  static final Path TINY_MODEL = Path.of("../gpu/src/test/resources/models/qwen3moe-tiny-f32").toAbsolutePath();

  private ReferenceGenerations() {}

  static List<Integer> alone(TokenizedRequest r) {
    return alone(r, ExpertControl.full());
  }

  /** The same on the model as {@code control} loads it (pruned when it prunes). */
  static List<Integer> alone(TokenizedRequest r, ExpertControl control) {
    try (LoadedModel model = control.load(TINY_MODEL, EngineOptions.defaults().withThreads(1))) {
      Engine engine = model.engine();
      engine.submit(new GenerationRequest("ref", r.promptIds, new SamplingParams(r.temperature, r.topP, r.topK, r.seed),
          r.maxNewTokens, model.expertsPerLayer(0)));
      List<Integer> ids = new ArrayList<>();
      while (engine.hasWork()) {
        for (TokenEvent event : engine.step()) {
          if (event.tokenId() >= 0) {
            ids.add(event.tokenId());
          }
        }
      }
      return ids;
    }
  }

  static TokenizedRequest request(String id, int promptLength, int maxNewTokens, float temperature, long seed) {
    TokenizedRequest r = new TokenizedRequest();
    r.requestId = id;
    r.promptIds = new int[promptLength];
    for (int i = 0; i < promptLength; i++) {
      r.promptIds[i] = (int) ((seed * 31 + i * 17 + 3) % 500);
    }
    r.maxNewTokens = maxNewTokens;
    r.temperature = temperature;
    r.topP = 1f;
    r.topK = 0;
    r.seed = seed;
    r.stop = new String[0];
    r.priority = 1;
    r.receivedAtMs = System.currentTimeMillis();
    return r;
  }
}
