package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.TestModels;
import io.moestream.engine.cuda.CudaProbe;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The CUDA backend's logits on the golden models against llama.cpp (and the float64 pass): max |ours -
 * ref| / max |ref| <= 2e-2 for every position. Weights go to the device as BF16, so the F32 model is
 * held to the same bound. Runs only where a CUDA device is usable.
 */
class CudaGoldenLogitsTest {
  private static final double TOLERANCE = 2e-2;

  @TestFactory
  Stream<DynamicTest> cudaMatchesTheGoldenLogits() throws IOException {
    CudaProbe.Result probe = CudaProbe.probe(0);
    Assumptions.assumeTrue(probe.available(), "no CUDA device: " + probe.detail());
    List<DynamicTest> tests = new ArrayList<>();
    for (String model : List.of("qwen3moe-tiny-bf16", "qwen3moe-tiny-f32")) {
      Path folder = TestModels.folder(model);
      JsonNode golden = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
      for (String set : List.of("cases", "cases_topk2")) {
        int k = set.equals("cases") ? golden.get("num_experts_per_tok").asInt() : 2;
        for (JsonNode c : golden.get(set)) {
          int[] ids = GoldenLogitsTest.ints(c.get("token_ids"));
          tests.add(DynamicTest.dynamicTest(model + " " + set + " k=" + k + " " + ids.length + " tokens",
              () -> check(folder, c, ids, k)));
        }
      }
    }
    return tests.stream();
  }

  private static void check(Path folder, JsonNode c, int[] ids, int k) {
    EngineOptions options = EngineOptions.defaults().withBackend("cuda").withThreads(1).withKvCacheBytes(8 << 20)
        .withMaxBatchTokens(7); // several chunks: prefill tiles and the cache read back across steps
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      float[][] ours = model.logits(ids, model.expertsPerLayer(k), true);
      double llama = GoldenLogitsTest.relativeError(ours, c.get("logits"));
      double exact = c.has("logits_numpy_f64")
          ? GoldenLogitsTest.relativeError(ours, c.get("logits_numpy_f64")) : Double.POSITIVE_INFINITY;
      assertTrue(Math.min(llama, exact) <= TOLERANCE,
          "relative error vs llama.cpp " + llama + ", vs float64 " + exact + " > " + TOLERANCE);
    }
  }
}
