package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.RopeScaling;
import io.moestream.engine.testmodel.GptOssSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * gpt-oss ({@code gpt_oss}) test models against {@link GptOssReferenceForward} (float64, from Hugging
 * Face's modeling_gpt_oss.py, YaRN and MXFP4 dequantization written independently): logits of every
 * position for sequences of 1, 7 and 40 tokens (longer than the sliding window of 4, so it matters), at the
 * config's top-k and at k = 1, over window on/off and of other sizes, sinks on/off, YaRN on/off, a swiglu
 * limit small enough to clamp, BF16-layout experts in F32 and BF16, MXFP4 experts, more experts and MQA.
 * Also: the config's fields, the expert views, the CUDA refusal, and every expert policy with pruning.
 *
 * <p>Tolerance as {@link ArchitecturesTest}: max|engine - reference| / max|reference| <= 1e-4 on F32
 * weights, 1e-3 on BF16, and the argmax agrees wherever the reference's top-two gap is clear.
 */
class GptOssModelTest {
  private static final int[] LENGTHS = {1, 7, 40};
  private static final EngineOptions OPTIONS =
      EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);

  @TempDir
  static Path models;

  @TempDir
  Path folder;

  private record Case(String name, TestModelSpec spec) {}

  private static TestModelSpec oss(GptOssSpec settings) {
    return TestModelSpec.defaults(Architecture.GPT_OSS).withGptOss(settings);
  }

  private static List<Case> cases() {
    GptOssSpec d = GptOssSpec.defaults(); // window 4 on layers 0 and 2, sinks, YaRN, limit 7, BF16 layout
    List<Case> cases = new ArrayList<>();
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      cases.add(new Case("defaults", oss(d).withDType(dtype)));
      cases.add(new Case("mxfp4 experts", oss(d.withMxfp4(true)).withDType(dtype)));
    }
    cases.add(new Case("no sliding window", oss(d.withSlidingWindow(0))));
    cases.add(new Case("window 1 (itself only), 4 layers", oss(d.withSlidingWindow(1)).withNumLayers(4)));
    cases.add(new Case("window 13", oss(d.withSlidingWindow(13)).withSeed(3)));
    cases.add(new Case("no sinks", oss(d.withSinks(false))));
    cases.add(new Case("no sinks, no window, no yarn", oss(d.withSinks(false).withSlidingWindow(0).withYarn(false))));
    cases.add(new Case("plain rope", oss(d.withYarn(false))));
    cases.add(new Case("swiglu limit 0.3 (clamps)", oss(d.withSwigluLimit(0.3))));
    cases.add(new Case("swiglu limit 0.3, mxfp4", oss(d.withSwigluLimit(0.3).withMxfp4(true)).withSeed(11)));
    cases.add(new Case("16 experts top-4", oss(d).withExperts(16, 4, 32).withSeed(5)));
    cases.add(new Case("mqa, head_dim 24", oss(d).withAttention(64, 4, 1, 24).withSeed(7)));
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> engineMatchesFloat64Reference() {
    List<DynamicTest> tests = new ArrayList<>();
    int index = 0;
    for (Case c : cases()) {
      String label = c.name + " " + c.spec.dtype();
      Path modelFolder = models.resolve("gpt-oss-" + index++);
      tests.add(DynamicTest.dynamicTest(label, () -> check(c.spec, modelFolder, label)));
    }
    return tests.stream();
  }

  private static void check(TestModelSpec spec, Path modelFolder, String label) throws IOException {
    TestModelWriter.write(spec, modelFolder);
    double tolerance = spec.dtype() == DType.F32 ? 1e-4 : 1e-3;
    GptOssReferenceForward reference = new GptOssReferenceForward(modelFolder);
    SplittableRandom random = new SplittableRandom(spec.seed() + 1);
    try (LoadedModel model = LoadedModel.load(modelFolder, OPTIONS)) {
      for (int k : new int[] {spec.expertsPerToken(), 1}) {
        for (int length : LENGTHS) {
          int[] ids = random.ints(length, 0, spec.vocabSize()).toArray();
          float[][] ours = model.logits(ids, model.expertsPerLayer(k), true);
          double[][] expected = reference.logits(ids, k);
          String where = label + " k=" + k + " " + length + " tokens (smallest routing gap "
              + reference.smallestRoutingGap + ")";
          ArchitecturesTest.assertClose(expected, ours, tolerance, where);
        }
      }
    }
  }

  /** The window, sinks and clamp each change the logits: the reference cases above are not vacuous. */
  @Test
  void windowSinksAndClampEachMatter() throws IOException {
    GptOssSpec d = GptOssSpec.defaults();
    int[] tokens = new SplittableRandom(4).ints(12, 0, 512).toArray();
    float[] base = lastLogits(oss(d), tokens);
    assertFalse(java.util.Arrays.equals(base, lastLogits(oss(d.withSlidingWindow(0)), tokens)), "window");
    assertFalse(java.util.Arrays.equals(base, lastLogits(oss(d.withSinks(false)), tokens)), "sinks");
    assertFalse(java.util.Arrays.equals(base, lastLogits(oss(d.withSwigluLimit(0.3)), tokens)), "clamp");
    assertFalse(java.util.Arrays.equals(base, lastLogits(oss(d.withYarn(false)), tokens)), "yarn");
    // A window as long as the prompt is full attention.
    assertArrayEquals(lastLogits(oss(d.withSlidingWindow(0)), tokens),
        lastLogits(oss(d.withSlidingWindow(tokens.length)), tokens));
  }

  private float[] lastLogits(TestModelSpec spec, int[] tokens) throws IOException {
    Path modelFolder = folder.resolve("m" + System.nanoTime());
    TestModelWriter.write(spec, modelFolder);
    try (LoadedModel model = LoadedModel.load(modelFolder, OPTIONS)) {
      float[][] logits = model.logits(tokens, model.expertsPerLayer(0), true);
      return logits[tokens.length - 1];
    }
  }

  @Test
  void configReadsTheGptOssFields() throws IOException {
    TestModelWriter.write(oss(GptOssSpec.defaults().withSwigluLimit(5.5).withMxfp4(true)).withNumLayers(4), folder);
    ModelConfig config = ModelConfig.read(folder);
    assertArrayEquals(new int[] {4, 0, 4, 0}, config.layerWindows());
    assertEquals(5.5, config.swiglu().limit());
    assertEquals(1.702, config.swiglu().alpha());
    assertEquals(RopeScaling.Type.YARN, config.ropeScaling().type());
    assertFalse(config.ropeScaling().truncate());
    assertEquals(32, config.moeIntermediateSize());
    assertTrue(config.normTopKProb()); // softmax over the top-k = softmax renormalized over the chosen
    try (LoadedModel model = LoadedModel.load(folder, OPTIONS)) {
      var layer = model.weights().layers()[1];
      assertEquals(4, layer.attention().sinks().length);
      assertEquals(64, layer.attention().oBias().length);
      assertEquals(8, layer.moe().routerBias().length);
      ExpertWeights expert = layer.moe().experts()[3];
      assertTrue(expert.isFused());
      assertEquals(DType.MXFP4, expert.gateUpProj().dtype());
      assertEquals(64, expert.gateUpProj().rows()); // 2 x intermediate 32, gate and up interleaved
      assertEquals(0, expert.gateUpProj().heapBytes()); // codes and scales stay in the mapped file
      assertEquals(64 * 64 / 2 + 64 * 2, expert.gateUpProj().byteSize());
    }
  }

  /** config.json of openai/gpt-oss-20b as released (the fields the engine reads, and the ones it ignores). */
  @Test
  void readsTheReleasedGptOss20bConfig() throws IOException {
    StringBuilder layerTypes = new StringBuilder();
    for (int layer = 0; layer < 24; layer++) {
      layerTypes.append(layer == 0 ? "" : ", ").append(layer % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"");
    }
    java.nio.file.Files.writeString(folder.resolve("config.json"), """
        {"architectures": ["GptOssForCausalLM"], "attention_bias": true, "attention_dropout": 0.0,
         "eos_token_id": 200002, "experts_per_token": 4, "head_dim": 64, "hidden_act": "silu",
         "hidden_size": 2880, "initial_context_length": 4096, "initializer_range": 0.02,
         "intermediate_size": 2880, "layer_types": [%s], "max_position_embeddings": 131072,
         "model_type": "gpt_oss", "num_attention_heads": 64, "num_experts_per_tok": 4, "num_hidden_layers": 24,
         "num_key_value_heads": 8, "num_local_experts": 32, "output_router_logits": false, "pad_token_id": 199999,
         "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
           "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"},
         "rms_norm_eps": 1e-05, "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
           "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
         "rope_theta": 150000, "router_aux_loss_coef": 0.9, "sliding_window": 128, "swiglu_limit": 7.0,
         "tie_word_embeddings": false, "transformers_version": "4.55.0.dev0", "use_cache": true,
         "vocab_size": 201088}
        """.formatted(layerTypes));
    ModelConfig config = ModelConfig.read(folder);
    assertEquals(Architecture.GPT_OSS, config.architecture());
    assertEquals(4096, config.qDim()); // 64 heads x 64, wider than hidden_size 2880
    assertEquals(32, config.numExperts());
    assertEquals(4, config.numExpertsPerTok());
    assertEquals(2880, config.moeIntermediateSize());
    assertEquals(128, config.slidingWindow(0));
    assertEquals(0, config.slidingWindow(23));
    assertEquals(32.0, config.ropeScaling().factor());
    assertEquals(4096, config.ropeScaling().originalMaxPositionEmbeddings());
    assertEquals(7.0, config.swiglu().limit());
    assertArrayEquals(new int[] {200002}, config.eosTokenIds());
  }

  /** Without layer_types, GptOssConfig alternates sliding (even layers) and full attention. */
  @Test
  void layerTypesDefaultToAlternating() throws IOException {
    TestModelWriter.write(oss(GptOssSpec.defaults()).withNumLayers(4), folder);
    ModelFolderEdits.editConfig(folder, c -> {
      c.remove("layer_types");
      c.put("sliding_window", 6);
    });
    assertArrayEquals(new int[] {6, 0, 6, 0}, ModelConfig.read(folder).layerWindows());
  }

  @Test
  void cudaBackendRefusesWithTheReason() throws IOException {
    TestModelWriter.write(oss(GptOssSpec.defaults()), folder);
    String reason = io.moestream.engine.cuda.CudaBackend.unsupportedReason(ModelConfig.read(folder));
    assertTrue(reason != null && reason.contains("gpt_oss") && reason.contains("sinks"), reason);
  }

  /** Every expert-activation policy runs on gpt_oss, also with 3 of every 4 experts pruned. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void everyPolicyRunsAlsoWithPrunedExperts(boolean prune) throws Exception {
    TestModelSpec spec = oss(GptOssSpec.defaults().withMxfp4(prune)).withExperts(16, 4, 32);
    TestModelWriter.write(spec, folder);
    PolicyRuns.assertEveryPolicyRuns(folder, spec, OPTIONS, prune, 6);
  }
}
