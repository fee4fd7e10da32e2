package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Logits against an independent engine: llama.cpp's logits for every position (and, for BF16, an
 * exact float64 pass) on the golden models. Tolerance: max |ours - ref| / max |ref| <= 1e-3 (F32) or
 * 5e-3 (BF16) against at least one reference; the argmax agrees wherever the reference's top-two gap is
 * clearly above that tolerance.
 */
class GoldenLogitsTest {

  @TestFactory
  Stream<DynamicTest> f32ModelMatchesLlamaCpp() throws IOException {
    return cases("qwen3moe-tiny-f32", 1e-3, "vector");
  }

  @TestFactory
  Stream<DynamicTest> bf16ModelMatchesReference() throws IOException {
    return cases("qwen3moe-tiny-bf16", 5e-3, "vector");
  }

  @TestFactory
  Stream<DynamicTest> scalarKernelsMatchToo() throws IOException {
    return cases("qwen3moe-tiny-bf16", 5e-3, "scalar");
  }

  private Stream<DynamicTest> cases(String model, double tolerance, String kernels) throws IOException {
    Path folder = TestModels.folder(model);
    JsonNode golden = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (String set : List.of("cases", "cases_topk2")) {
      int k = set.equals("cases") ? golden.get("num_experts_per_tok").asInt() : 2;
      for (JsonNode c : golden.get(set)) {
        int[] ids = ints(c.get("token_ids"));
        tests.add(DynamicTest.dynamicTest(model + " " + set + " k=" + k + " " + ids.length + " tokens (" + kernels + ")",
            () -> check(folder, c, ids, k, tolerance, kernels)));
      }
    }
    return tests.stream();
  }

  private void check(Path folder, JsonNode c, int[] ids, int k, double tolerance, String kernels) {
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKernels(kernels).withKvCacheBytes(8 << 20);
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      float[][] ours = model.logits(ids, model.expertsPerLayer(k), true);
      assertEquals(ids.length, ours.length);
      double llama = relativeError(ours, c.get("logits"));
      double exact = c.has("logits_numpy_f64") ? relativeError(ours, c.get("logits_numpy_f64")) : Double.POSITIVE_INFINITY;
      double best = Math.min(llama, exact);
      assertTrue(best <= tolerance, "relative error vs llama.cpp " + llama + ", vs float64 " + exact + " > " + tolerance);
      JsonNode reference = exact <= llama ? c.get("logits_numpy_f64") : c.get("logits");
      double maxAbs = maxAbs(reference);
      for (int p = 0; p < ids.length; p++) {
        double margin = c.get("top2_margin").get(p).asDouble();
        if (margin > 4 * tolerance * maxAbs) {
          int expected = argmax(reference.get(p));
          assertEquals(expected, Sampler.argmax(ours[p]), "argmax at position " + p + " (margin " + margin + ")");
        }
      }
    }
  }

  static double relativeError(float[][] ours, JsonNode reference) {
    double maxDiff = 0;
    double maxRef = maxAbs(reference);
    for (int p = 0; p < ours.length; p++) {
      JsonNode row = reference.get(p);
      assertEquals(row.size(), ours[p].length);
      for (int i = 0; i < ours[p].length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours[p][i] - row.get(i).asDouble()));
      }
    }
    return maxDiff / maxRef;
  }

  static double maxAbs(JsonNode rows) {
    double max = 0;
    for (JsonNode row : rows) {
      for (JsonNode v : row) {
        max = Math.max(max, Math.abs(v.asDouble()));
      }
    }
    return max;
  }

  static int argmax(JsonNode row) {
    int best = 0;
    for (int i = 1; i < row.size(); i++) {
      if (row.get(i).asDouble() > row.get(best).asDouble()) {
        best = i;
      }
    }
    return best;
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
