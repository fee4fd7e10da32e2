package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DeepSeek-V2/V3 test models end to end: logits of every position against {@link DeepseekReferenceForward}
 * (float64, expanded attention, the reference's gate), at the config's top-k and below it, with the
 * prompt run in chunks so later positions read the latent cache written by earlier steps; the KV cache
 * size per token; FP8 weights; generation with every k.
 *
 * <p>Tolerance: max|engine - reference| / max|reference| <= 1e-4 on F32 weights.
 */
class DeepseekModelTest {
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(2 << 20).withMaxBatchTokens(4);

  @TempDir
  Path folder;

  static TestModelSpec spec(String name) {
    return switch (name) {
      case "v2-lite" -> TestModelSpec.defaults(Architecture.DEEPSEEK_V2).withExperts(16, 6, 32);
      case "v2-group-limited" -> TestModelSpec.defaults(Architecture.DEEPSEEK_V2).withExperts(16, 3, 32)
          .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V2).withRouting("group_limited_greedy", 4, 2, 1));
      default -> TestModelSpec.defaults(Architecture.DEEPSEEK_V3);
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"v2-lite", "v2-group-limited", "v3"})
  void logitsMatchThePlainReference(String name) throws Exception {
    TestModelSpec spec = spec(name);
    TestModelWriter.write(spec, folder);
    int[] tokens = new SplittableRandom(3).ints(9, 0, spec.vocabSize()).toArray();
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      for (int k : new int[] {spec.expertsPerToken(), 2}) {
        float[][] engine = model.logits(tokens, model.expertsPerLayer(k), true);
        double[][] reference = DeepseekReferenceForward.logits(model.weights(), tokens, k);
        double maxRef = 0;
        double maxDiff = 0;
        for (int p = 0; p < tokens.length; p++) {
          for (int v = 0; v < spec.vocabSize(); v++) {
            maxRef = Math.max(maxRef, Math.abs(reference[p][v]));
            maxDiff = Math.max(maxDiff, Math.abs(reference[p][v] - engine[p][v]));
          }
        }
        assertTrue(maxDiff / maxRef <= 1e-4, name + " k=" + k + ": relative difference " + maxDiff / maxRef);
      }
    }
  }

  @Test
  void kvCacheHoldsTheLatentOnly() throws Exception {
    TestModelSpec spec = spec("v2-lite");
    TestModelWriter.write(spec, folder);
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      ModelConfig config = model.config();
      long expected = (long) (32 + 8) * spec.numLayers() * Float.BYTES; // (kv_lora_rank + qk_rope_head_dim) x layers x 4
      assertEquals(expected, config.kvCacheBytesPerToken());
      assertEquals(expected, model.backend().kvCache().bytesPerToken());
    }
  }

  /** FP8 weights: the vector kernels match the scalar reference, and every k generates. */
  @Test
  void fp8ModelRunsWithEveryK() throws Exception {
    TestModelSpec spec = TestModelSpec.defaults(Architecture.DEEPSEEK_V3).withDType(DType.BF16)
        .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V3).withFp8(true));
    TestModelWriter.write(spec, folder);
    int[] tokens = new SplittableRandom(5).ints(6, 0, spec.vocabSize()).toArray();
    float[][] vector;
    float[][] scalar;
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      assertEquals(DType.F8_E4M3, model.weights().layers()[1].moe().experts()[0].gateProj().dtype());
      vector = model.logits(tokens, model.expertsPerLayer(0), true);
      Engine engine = model.engine();
      for (int k = 1; k <= spec.expertsPerToken(); k++) {
        engine.submit(new GenerationRequest("k" + k, tokens, SamplingParams.GREEDY, 5, model.expertsPerLayer(k)));
      }
      Map<String, Integer> generated = new HashMap<>();
      for (int step = 0; engine.hasWork() && step < 1000; step++) {
        for (TokenEvent event : engine.step()) {
          if (event.tokenId() >= 0) {
            generated.merge(event.requestId(), 1, Integer::sum);
          }
        }
      }
      for (int k = 1; k <= spec.expertsPerToken(); k++) {
        assertTrue(generated.getOrDefault("k" + k, 0) >= 1, "k=" + k + " generated nothing: " + generated);
      }
    }
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS.withKernels("scalar"))) {
      scalar = model.logits(tokens, model.expertsPerLayer(0), true);
    }
    double maxRef = 0;
    double maxDiff = 0;
    for (int p = 0; p < tokens.length; p++) {
      for (int v = 0; v < spec.vocabSize(); v++) {
        maxRef = Math.max(maxRef, Math.abs(scalar[p][v]));
        maxDiff = Math.max(maxDiff, Math.abs(scalar[p][v] - vector[p][v]));
      }
    }
    assertTrue(maxDiff / maxRef <= 1e-4, "vector vs scalar on FP8: " + maxDiff / maxRef);
  }

  /**
   * Every expert-activation policy runs on both families (k counts routed experts; shared experts
   * always run), also with most experts pruned so that V3's groups hold fewer than k kept experts.
   */
  @ParameterizedTest
  @ValueSource(strings = {"deepseek_v2", "deepseek_v3"})
  void everyPolicyRunsAlsoWithPrunedExperts(String arch) throws Exception {
    TestModelSpec spec = TestModelSpec.defaults(Architecture.fromModelType(arch, "test"));
    TestModelWriter.write(spec, folder);
    int[] prompt = new SplittableRandom(9).ints(5, 0, spec.vocabSize()).toArray();
    for (boolean prune : new boolean[] {false, true}) {
      for (String policySpec : new String[] {"fixed:2", "schedule:1,4,3,2", "threshold:1,0.5", "batch:1,0.8",
          "adaptive"}) {
        try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
          if (prune) { // one expert per group of 4 (V3: 4 groups, 2 per token): the group limit cannot hold k = 4
            boolean[][] kept = new boolean[spec.numLayers()][spec.numExperts()];
            for (boolean[] layer : kept) {
              for (int e = 0; e < layer.length; e += 4) {
                layer[e] = true;
              }
            }
            io.moestream.engine.policy.ExpertPruning.apply(model.weights(), kept);
          }
          Engine engine = model.engine();
          new io.moestream.engine.policy.PolicyDriver(engine, io.moestream.engine.policy.ExpertPolicies.parse(policySpec));
          engine.submit(new GenerationRequest("a", prompt, SamplingParams.GREEDY, 4, model.expertsPerLayer(0)));
          engine.submit(new GenerationRequest("b", new int[] {1, 2}, SamplingParams.GREEDY, 4, model.expertsPerLayer(0)));
          int tokens = 0;
          for (int step = 0; engine.hasWork() && step < 100; step++) {
            for (TokenEvent event : engine.step()) {
              assertTrue(event.error() == null, arch + " " + policySpec + ": " + event.error());
              tokens += event.tokenId() >= 0 ? 1 : 0;
            }
          }
          assertEquals(8, tokens, arch + " " + policySpec + (prune ? " pruned" : ""));
        }
      }
    }
  }
}
